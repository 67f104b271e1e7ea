/** From parsed YAML to a checked ScenarioSpec: zod for shape, then the semantic pass. */
import { Checker } from './checker.ts';
import type { Diagnostic } from './diagnostics.ts';
import { HOST, type ScenarioSpec, type StepSpec } from './model.ts';
import { normalizeDomains, normalizeSteps } from './normalize-attack.ts';
import { normalizeMachine } from './normalize-machine.ts';
import { ScenarioSchema, type ScenarioFile } from './schema.ts';
import { zodDiagnostics, type Locate } from './validate.ts';

export type NormalizeResult = { ok: true; spec: ScenarioSpec; file: ScenarioFile } | { ok: false; diagnostics: Diagnostic[] };

/**
 * The steps of an attack on the machine of an already-checked scenario
 * (`tlplab hunt` composes many attacks on one machine): the same semantic
 * pass as a file's steps, without checking the machine again.
 */
export function normalizeAttackOn(spec: ScenarioSpec, attack: ScenarioFile['attack'], locate: Locate): { ok: true; steps: StepSpec[] } | { ok: false; diagnostics: Diagnostic[] } {
  const check = new Checker(locate);
  const machine = spec.machine;
  const multifunction = new Map<string, string[]>();
  for (const f of machine.functions) if (f.device !== f.id) multifunction.set(f.device, [...(multifunction.get(f.device) ?? []), f.id]);
  const principals = new Set<string>([HOST, ...machine.functions.map((f) => f.owner), ...machine.memory.map((m) => m.owner), ...machine.irtes.flatMap((e) => (e.owner === null ? [] : [e.owner]))]);
  for (const f of machine.functions) for (const r of f.barRegions) principals.add(r.owner);
  const barCounts = new Map(machine.fabric.functions.map((f) => [f.id, f.bars?.length ?? 0]));
  const ctx = { machine, functions: new Map(machine.functions.map((f) => [f.id, f])), multifunction, principals, barCounts };
  const steps = normalizeSteps(attack, spec.domains, ctx, check);
  return check.failed ? { ok: false, diagnostics: check.diagnostics } : { ok: true, steps };
}

export function normalizeScenario(file: string, data: unknown, locate: Locate): NormalizeResult {
  const parsed = ScenarioSchema.safeParse(data);
  if (!parsed.success) return { ok: false, diagnostics: zodDiagnostics(ScenarioSchema, parsed.error.issues, data, locate) };
  const entry = parsed.data;
  const check = new Checker(locate);
  const { machine, principals } = normalizeMachine(entry.machine, check);
  const multifunction = new Map(entry.machine.devices.filter((d) => d.functions).map((d) => [d.id, d.functions!.map((f) => f.id)]));
  const barCounts = new Map(machine.fabric.functions.map((f) => [f.id, f.bars?.length ?? 0]));
  const ctx = { machine, functions: new Map(machine.functions.map((f) => [f.id, f])), multifunction, principals, barCounts };
  const domains = normalizeDomains(entry.domains, ctx, check);
  const steps = normalizeSteps(entry.attack, domains, ctx, check);
  if (check.failed) return { ok: false, diagnostics: check.diagnostics };
  return {
    ok: true,
    file: entry,
    spec: { file, name: entry.name, title: entry.title, summary: entry.summary, sources: entry.sources, machine, domains, attacker: entry.attack.attacker, via: entry.attack.via ?? 'device', steps },
  };
}
