/**
 * `tlplab hunt` on one configuration (a scenario variant, or a machine
 * imported from lspci): build the machine, read its attack surface, run
 * the systematic and seeded random probes in batches (one machine, many
 * independent probes per run), collect every breach from the ending
 * records, keep one finding per (kind, victim, path), and give each a
 * minimal reproducer that replays to the same breach.
 */
import { buildMachine } from '../scenario/machine.ts';
import { evaluateGates } from '../scenario/gates.ts';
import type { ScenarioSpec, VariantAssignment } from '../scenario/model.ts';
import { describeAssignment } from '../scenario/variants.ts';
import { systematicProbes } from './candidates.ts';
import { compose, hitsOf, runSteps, type Hit } from './execute.ts';
import type { Finding, HuntOptions, HuntTarget, Probe, StepEntry, Technique } from './model.ts';
import { randomProbes } from './random.ts';
import { checksOut, makeRepro, minimize, reproDocument, tryEntries, type Reproduced } from './repro.ts';
import { readSurface, type Surface } from './surface.ts';

/** One configuration to hunt on. */
export interface Configuration {
  readonly scenario: string;
  readonly file: string;
  readonly variant: VariantAssignment;
  readonly spec: ScenarioSpec;
  /** The scenario document with this variant's values written in: what repros and hardened files start from. */
  readonly document: Record<string, unknown>;
}

/** Counts runs, numbers findings across configurations, and notes when the first finding came. */
export class HuntLedger {
  runs = 0;
  findings = 0;
  firstFindingMs: number | null = null;
  private readonly started: number;
  constructor(private readonly clock: (() => number) | undefined) {
    this.started = clock?.() ?? 0;
  }
  count = (): void => void this.runs++;
  found(): string {
    this.findings++;
    if (this.firstFindingMs === null && this.clock !== undefined) this.firstFindingMs = this.clock() - this.started;
    return `F${this.findings}`;
  }
}

interface Pending {
  readonly key: string;
  readonly hit: Hit;
  readonly probe: Probe | null;
  /** The steps that showed it first: the probe's batch (or the scenario's own steps). */
  readonly batch: readonly StepEntry[];
  hits: number;
  readonly techniques: Set<Technique>;
}

export function huntConfiguration(config: Configuration, options: HuntOptions, ledger: HuntLedger = new HuntLedger(undefined)): HuntTarget {
  const spec = config.spec;
  const machine = buildMachine(spec, options.seed);
  const devices = spec.machine.functions.filter((f) => f.owner === spec.attacker).map((f) => f.id);
  const base = { scenario: config.scenario, file: config.file, variant: config.variant, attacker: spec.attacker, devices };
  const refused = evaluateGates(machine).find((g) => g.enforced && !g.passed);
  const none = { systematic: 0, random: 0, byTechnique: {} };
  if (refused !== undefined) return { ...base, refusedBy: refused.gate, skipped: `${refused.gate} refuses ${spec.attacker}'s devices: ${refused.detail}`, probes: none, runs: 0, findings: [] };
  if (devices.length === 0) return { ...base, refusedBy: null, skipped: `${spec.attacker} controls no device`, probes: none, runs: 0, findings: [] };

  const entries = ((config.document.attack as { steps?: StepEntry[] }).steps ?? []) as StepEntry[];
  const surface = readSurface(machine, entries);
  const systematic = systematicProbes(surface);
  const random = randomProbes(surface, options.seed, options.budget);
  const probes = [...systematic, ...random];
  const byTechnique: Record<string, number> = {};
  for (const p of probes) byTechnique[p.technique] = (byTechnique[p.technique] ?? 0) + 1;
  const runsBefore = ledger.runs;

  const pending = new Map<string, Pending>();
  const findings: Finding[] = [];
  const target = (): HuntTarget => ({ ...base, refusedBy: null, skipped: null, probes: { systematic: systematic.length + (options.ownSteps ? 1 : 0), random: random.length, byTechnique }, runs: ledger.runs - runsBefore, findings });
  const note = (hits: readonly Hit[], probeOf: (hit: Hit) => Probe | null, batch: readonly StepEntry[], technique: (hit: Hit) => Technique | null) => {
    for (const hit of hits) {
      const t = technique(hit);
      if (t === null) continue;
      const known = pending.get(hit.key);
      if (known !== undefined) {
        known.hits++;
        known.techniques.add(t);
        continue;
      }
      const p: Pending = { key: hit.key, hit, probe: probeOf(hit), batch, hits: 1, techniques: new Set([t]) };
      pending.set(hit.key, p);
      const finding = confirm(config, surface, p, options, ledger);
      if (finding !== null) {
        findings.push(finding);
        options.onFinding?.(finding, null);
      }
    }
  };

  if (options.ownSteps && spec.steps.length > 0) {
    ledger.count();
    const run = runSteps(spec, entries, options.seed);
    note(hitsOf(run, entries.map(() => 0)), () => null, entries, () => 'scenario');
  }
  for (const batch of batches(probes, options.batch)) {
    const ids = batch.map((p) => probes.indexOf(p));
    const composed = compose(surface.timeline, batch, ids);
    ledger.count();
    const run = runSteps(spec, composed.entries, options.seed);
    note(hitsOf(run, composed.owners), (hit) => (hit.probe === null ? null : probes[hit.probe]!), composed.entries, (hit) => (hit.probe === null ? null : probes[hit.probe]!.technique));
  }
  // Findings in pending whose repro could not be confirmed are dropped: only replayable findings are reported.
  for (const f of findings) {
    const p = pending.get(keyOfFinding(f))!;
    Object.assign(f, { hits: p.hits, techniques: [...p.techniques] });
  }
  return target();
}

/**
 * A forged requester ID from a device with no downstream port above it (an
 * RCiEP, a device on the root bus): no ACS Source Validation can stop it,
 * and whether the root complex checks IDs is implementation-specific.
 */
function caveatsOf(config: Configuration, hit: Hit): string[] {
  if (!hit.mechanism.includes('forged requester ID')) return [];
  const origin = config.spec.machine.fabric.functions.find((f) => f.id === hit.route[0]);
  if (origin === undefined || origin.parent !== undefined) return [];
  return ['no ACS port sits above this integrated device to validate its requester ID; whether the root complex does is implementation-specific'];
}

export function keyOfFinding(f: Finding): string {
  return `${f.kind} | ${f.victim} | ${f.path}`;
}

/** Probes in runs of `size`: those that need a run of their own alone, the rest grouped by time. */
function batches(probes: readonly Probe[], size: number): Probe[][] {
  const out: Probe[][] = [];
  const shared = new Map<string, Probe[]>();
  for (const p of probes) {
    if (p.alone) {
      out.push([p]);
      continue;
    }
    const group = p.technique === 'random' ? 'random' : `t${p.at}`;
    const list = shared.get(group) ?? [];
    list.push(p);
    shared.set(group, list);
  }
  for (const list of shared.values()) for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** A finding's minimal reproducer, replayed from its YAML; null when it cannot be reproduced alone or with its batch. */
function confirm(config: Configuration, surface: Surface, p: Pending, options: HuntOptions, ledger: HuntLedger): Finding | null {
  const spec = config.spec;
  const alone = p.probe === null ? null : tryEntries(spec, compose(surface.timeline, [p.probe], [0]).entries, p.key, options.seed, ledger.count);
  const start: Reproduced | null = alone ?? tryEntries(spec, p.batch, p.key, options.seed, ledger.count);
  if (start === null) return null;
  const found = minimize(spec, start, options.seed, ledger.count);
  const id = ledger.found();
  const name = `${config.scenario}-${id.toLowerCase()}`;
  const hit = found.hit;
  const technique = p.probe?.technique ?? 'scenario';
  const label = p.probe?.label ?? "the scenario's own attack steps";
  const where = Object.keys(config.variant).length === 0 ? config.file : `${config.file} (${describeAssignment(config.variant)})`;
  const document = reproDocument(config.document, found, {
    name,
    title: `${hit.breach.kind} of ${hit.breach.victim}: ${label}`,
    summary: `Found by tlplab hunt (seed ${options.seed}) on ${where}. ${hit.breach.detail}. Path: ${hit.path}. Once the configuration is hardened this run fails: change the expectation to isolated and keep it as a regression test.`,
    because: hit.path,
    sources: [`tlplab hunt --seed ${options.seed} ${config.file}`, ...(((config.document.sources as string[] | undefined) ?? []).slice(0, 3))],
  });
  const header = `${id}: ${hit.breach.kind} of ${hit.breach.victim} — reproducer written by tlplab hunt.\nReplay: tlplab run ${name}.yaml --seed ${options.seed}`;
  const checked = checksOut(document, `${name}.yaml`, p.key, options.seed, ledger.count);
  return {
    id,
    kind: hit.breach.kind as Finding['kind'],
    attacker: hit.breach.attacker,
    victim: hit.breach.victim,
    path: hit.path,
    route: hit.route,
    mechanism: hit.mechanism,
    landing: hit.landing,
    from: p.probe?.from ?? (found.entries.find((e) => typeof e.from === 'string')?.from as string | undefined) ?? '',
    technique,
    label,
    techniques: [...p.techniques],
    hits: p.hits,
    bytes: hit.breach.bytes,
    cpus: hit.breach.cpus,
    detail: hit.breach.detail,
    caveats: caveatsOf(config, hit),
    repro: makeRepro(name, document, header, checked),
  };
}
