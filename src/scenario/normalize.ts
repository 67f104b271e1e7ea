/**
 * From parsed YAML to a checked ScenarioSpec: zod for shape (`validateShape`),
 * then the semantic pass (`normalizeEntry`), which works on the validated
 * value and needs no zod — variants and worker threads start from there.
 */
import { Checker } from './checker.ts';
import { checkSteps } from './check-steps.ts';
import type { Diagnostic } from './diagnostics.ts';
import { HOST, type ScenarioSpec, type StepSpec } from './model.ts';
import { normalizeDomains, normalizeSteps } from './normalize-attack.ts';
import { normalizeMachine } from './normalize-machine.ts';
import { checkUntrustedUse } from './normalize-ownership.ts';
import { normalizeInterposers } from './interposers.ts';
import type { ScenarioFile } from './schema.ts';
import type { Locate } from './validate.ts';

export type NormalizeResult = { ok: true; spec: ScenarioSpec; file: ScenarioFile } | { ok: false; diagnostics: Diagnostic[] };

/** The semantic pass over a value the schema accepted: units, references, cross-field rules. */
export function normalizeEntry(file: string, entry: ScenarioFile, locate: Locate): NormalizeResult {
  const check = new Checker(locate);
  const { machine, principals: owners } = normalizeMachine(entry.machine, check);
  const multifunction = new Map(entry.machine.devices.filter((d) => d.functions).map((d) => [d.id, d.functions!.map((f) => f.id)]));
  // A principal may first appear as the one a device or region is handed to.
  const principals = new Set([...owners, ...entry.attack.steps.flatMap((s) => [s.assign?.to, s['reassign-memory']?.to].filter((p): p is string => p !== undefined))]);
  const ctx = attackContext(machine, multifunction, principals);
  const domains = normalizeDomains(entry.domains, ctx, check);
  const steps = normalizeSteps(entry.attack, domains, ctx, check);
  if (!check.failed) checkSteps(steps, domains, machine, entry.attack.attacker, check);
  if (!check.failed) checkUntrustedUse(domains, steps, machine, { attacker: entry.attack.attacker, via: entry.attack.via ?? 'device' }, check);
  const places = new Set(['root-complex', ...machine.fabric.functions.map((f) => f.id)]);
  const interposers = normalizeInterposers(entry.attack.interposers, places, check);
  if (check.failed) return { ok: false, diagnostics: check.diagnostics };
  return {
    ok: true,
    file: entry,
    spec: { file, name: entry.name, title: entry.title, summary: entry.summary, sources: entry.sources, machine, domains, attacker: entry.attack.attacker, via: entry.attack.via ?? 'device', steps, ...(interposers.length > 0 ? { interposers } : {}) },
  };
}

/** What the attack's semantic pass needs about the machine: its functions, BAR counts (VFs' too), where each sits. */
function attackContext(machine: ScenarioSpec['machine'], multifunction: ReadonlyMap<string, readonly string[]>, principals: ReadonlySet<string>) {
  const barCounts = new Map(machine.fabric.functions.flatMap((f) => [[f.id, f.bars?.length ?? 0] as const, ...(f.sriov?.vfs ?? []).map((vf) => [vf, f.sriov!.vfBars.length] as const)]));
  // A virtual function sits on its physical function's link (SR-IOV 1.1 §2.1), an endpoint like it.
  const topology = new Map(
    machine.fabric.functions.flatMap((f) => [
      [f.id, { parent: f.parent ?? null, kind: f.kind }] as const,
      ...(f.sriov?.vfs ?? []).map((vf) => [vf, { parent: f.parent ?? null, kind: f.kind }] as const),
    ]),
  );
  return { machine, functions: new Map(machine.functions.map((f) => [f.id, f])), multifunction, principals, barCounts, topology };
}

/**
 * The steps of an attack on the machine of an already-checked scenario
 * (`tlplab hunt` composes many attacks on one machine): the same semantic
 * pass and whole-attack checks as a file's steps, without checking the
 * machine again.
 */
export function normalizeAttackOn(spec: ScenarioSpec, attack: ScenarioFile['attack'], locate: Locate): { ok: true; steps: StepSpec[] } | { ok: false; diagnostics: Diagnostic[] } {
  const check = new Checker(locate);
  const machine = spec.machine;
  // The devices written with functions: (an SR-IOV PF's VFs share its device, but the PF is named as itself).
  const vfs = new Set(machine.fabric.functions.flatMap((f) => f.sriov?.vfs ?? []));
  const multifunction = new Map<string, string[]>();
  for (const f of machine.functions) if (f.device !== f.id && !vfs.has(f.id)) multifunction.set(f.device, [...(multifunction.get(f.device) ?? []), f.id]);
  const principals = new Set<string>([HOST, spec.attacker, ...machine.functions.map((f) => f.owner), ...machine.memory.map((m) => m.owner), ...machine.irtes.flatMap((e) => (e.owner === null ? [] : [e.owner]))]);
  for (const f of machine.functions) for (const r of f.barRegions) principals.add(r.owner);
  for (const s of attack.steps) for (const p of [s.assign?.to, s['reassign-memory']?.to]) if (p !== undefined) principals.add(p);
  const ctx = attackContext(machine, multifunction, principals);
  const steps = normalizeSteps(attack, spec.domains, ctx, check);
  if (!check.failed) checkSteps(steps, spec.domains, machine, spec.attacker, check);
  if (!check.failed) checkUntrustedUse(spec.domains, steps, machine, { attacker: spec.attacker, via: spec.via }, check);
  return check.failed ? { ok: false, diagnostics: check.diagnostics } : { ok: true, steps };
}
