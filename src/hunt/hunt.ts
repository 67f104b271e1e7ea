/**
 * `tlplab hunt` on one configuration (a scenario variant, or a machine
 * imported from lspci): build the machine, read its attack surface, run
 * the systematic and seeded random probes in batches (one machine, many
 * independent probes per run), collect every breach from the ending
 * records, keep one finding per (kind, victim, path), and give each a
 * minimal reproducer that replays to the same breach.
 *
 * Exploring can be split into shards (every n-th batch) run on worker
 * threads; merged, they give the same findings in the same order as one
 * thread: each finding is ordered by the batch and hit that first showed
 * it, and numbered only once every shard is in.
 */
import { buildMachine } from '../scenario/machine.ts';
import { evaluateGates } from '../scenario/gates.ts';
import type { GateName, ScenarioSpec, VariantAssignment } from '../scenario/model.ts';
import { describeAssignment } from '../scenario/variants.ts';
import { systematicProbes } from './candidates.ts';
import { compose, hitsOf, runSteps, type Hit } from './execute.ts';
import { TECHNIQUES, type Finding, type HuntOptions, type HuntTarget, type Probe, type StepEntry, type Technique } from './model.ts';
import { randomProbes } from './random.ts';
import { makeRepro, minimize, reproDocument, tryEntries, type Reproduced } from './repro.ts';
import { attackerFunctions, readSurface, type Surface } from './surface.ts';

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
  /** A finding was confirmed (wall clock, for meta only). */
  confirmed(): void {
    if (this.firstFindingMs === null && this.clock !== undefined) this.firstFindingMs = this.clock() - this.started;
  }
  nextId(): string {
    this.findings++;
    return `F${this.findings}`;
  }
}

/** A distinct breach, confirmed and minimized, before it is numbered. */
export interface RawFinding {
  readonly key: string;
  /** Batch index × 2^20 + hit index: the order one thread would find it in. */
  readonly order: number;
  readonly technique: Technique;
  readonly label: string;
  readonly from: string;
  readonly found: Reproduced;
  hits: number;
  techniques: Technique[];
}

/** What exploring (a shard of) a configuration gives. */
export interface Exploration {
  readonly refusedBy: GateName | null;
  readonly skipped: string | null;
  readonly devices: readonly string[];
  readonly probes: HuntTarget['probes'];
  /** Exploring runs (the batches, and the scenario's own steps): the same however the work is split. */
  readonly runs: number;
  /** Every simulation run, minimizing and checking included (depends on how the work is split). */
  readonly allRuns: number;
  readonly raw: readonly RawFinding[];
  /** Every breach key seen, with the probes that hit it and their techniques (confirmed or not). */
  readonly tally: Readonly<Record<string, { readonly hits: number; readonly techniques: readonly Technique[] }>>;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

const ORDER = 2 ** 20;

export function huntConfiguration(config: Configuration, options: HuntOptions, ledger: HuntLedger = new HuntLedger(undefined)): HuntTarget {
  return finishConfiguration(config, exploreConfiguration(config, options, null, ledger), options, ledger);
}

export function exploreConfiguration(config: Configuration, options: HuntOptions, shard: Shard | null, ledger: HuntLedger = new HuntLedger(undefined)): Exploration {
  const spec = config.spec;
  const machine = buildMachine(spec, options.seed);
  const devices = attackerFunctions(spec);
  const refused = evaluateGates(machine).find((g) => g.enforced && !g.passed);
  const none = { systematic: 0, random: 0, byTechnique: {} };
  if (refused !== undefined) return { refusedBy: refused.gate, skipped: `${refused.gate} refuses ${spec.attacker}'s devices: ${refused.detail}`, devices, probes: none, runs: 0, allRuns: 0, raw: [], tally: {} };
  if (devices.length === 0) return { refusedBy: null, skipped: `${spec.attacker} controls no device`, devices, probes: none, runs: 0, allRuns: 0, raw: [], tally: {} };

  const entries = ((config.document.attack as { steps?: StepEntry[] }).steps ?? []) as StepEntry[];
  const surface = readSurface(machine, entries);
  const systematic = systematicProbes(surface);
  const random = randomProbes(surface, options.seed, options.budget);
  const probes = [...systematic, ...random];
  const byTechnique: Record<string, number> = {};
  for (const p of probes) byTechnique[p.technique] = (byTechnique[p.technique] ?? 0) + 1;
  const runsBefore = ledger.runs;
  let exploring = 0;
  const mine = (batch: number) => shard === null || batch % shard.count === shard.index;

  const seen = new Set<string>();
  const raw: RawFinding[] = [];
  const tally: Record<string, { hits: number; techniques: Technique[] }> = {};
  const note = (hits: readonly Hit[], batchIndex: number, batch: readonly StepEntry[], probeOf: (hit: Hit) => Probe | null) => {
    hits.forEach((hit, h) => {
      const probe = probeOf(hit);
      if (probe === null && batchIndex >= 0) return;
      const technique: Technique = probe?.technique ?? 'scenario';
      const count = (tally[hit.key] ??= { hits: 0, techniques: [] });
      count.hits++;
      if (!count.techniques.includes(technique)) count.techniques.push(technique);
      if (seen.has(hit.key)) return;
      seen.add(hit.key);
      const found = confirm(spec, surface, hit.key, probe, batch, options, ledger);
      // A breach that no run on its own reproduces is not reported: every finding comes with a repro.
      const finding: RawFinding | null =
        found === null
          ? null
          : { key: hit.key, order: (batchIndex + 1) * ORDER + h, technique, label: probe?.label ?? "the scenario's own attack steps", from: probe?.from ?? hit.route[0] ?? '', found, hits: 1, techniques: [technique] };
      if (finding !== null) raw.push(finding);
    });
  };

  if (options.ownSteps && spec.steps.length > 0 && mine(0)) {
    ledger.count();
    exploring++;
    note(hitsOf(runSteps(spec, entries, options.seed), entries.map(() => null)), -1, entries, () => null);
  }
  // One machine per run: on a large machine, fewer and larger batches (a run's cost is mostly building it).
  const size = Math.max(options.batch, Math.ceil(probes.length / 16));
  batches(probes, size).forEach((batch, b) => {
    if (!mine(b)) return;
    const composed = compose(surface.timeline, batch, batch.map((p) => probes.indexOf(p)));
    ledger.count();
    exploring++;
    note(hitsOf(runSteps(spec, composed.entries, options.seed), composed.owners), b, composed.entries, (hit) => (hit.probe === null ? null : probes[hit.probe]!));
  });
  return { refusedBy: null, skipped: null, devices, probes: { systematic: systematic.length + (options.ownSteps ? 1 : 0), random: random.length, byTechnique }, runs: exploring, allRuns: ledger.runs - runsBefore, raw, tally };
}

/** Shards of one configuration as one exploration: each breach kept where it was first found, its hits summed in shard order. */
export function mergeExplorations(parts: readonly Exploration[]): Exploration {
  const first = parts[0]!;
  const byKey = new Map<string, RawFinding>();
  for (const part of parts) for (const r of part.raw) if ((byKey.get(r.key)?.order ?? Infinity) > r.order) byKey.set(r.key, r);
  // Techniques in the order one thread meets them: by the batch that first showed each.
  const tally: Record<string, { hits: number; techniques: Technique[] }> = {};
  for (const part of parts) {
    for (const [key, t] of Object.entries(part.tally)) {
      const sum = (tally[key] ??= { hits: 0, techniques: [] });
      sum.hits += t.hits;
      for (const technique of t.techniques) if (!sum.techniques.includes(technique)) sum.techniques.push(technique);
    }
  }
  return { ...first, runs: parts.reduce((n, p) => n + p.runs, 0), allRuns: parts.reduce((n, p) => n + p.allRuns, 0), raw: [...byKey.values()].sort((a, b) => a.order - b.order), tally };
}

/** Numbers the findings and writes each one's reproducer document, checked as a scenario file is. */
export function finishConfiguration(config: Configuration, exploration: Exploration, options: HuntOptions, ledger: HuntLedger): HuntTarget {
  // Hits and techniques counted over every probe (and shard); techniques in the catalogue's order.
  const counted = (r: RawFinding): RawFinding => {
    const t = exploration.tally[r.key];
    return t === undefined ? r : { ...r, hits: t.hits, techniques: TECHNIQUES.filter((x) => t.techniques.includes(x)) };
  };
  const findings: Finding[] = [...exploration.raw].sort((a, b) => a.order - b.order).map((r) => finding(config, counted(r), options, ledger));
  return {
    scenario: config.scenario,
    file: config.file,
    variant: config.variant,
    attacker: config.spec.attacker,
    devices: exploration.devices,
    refusedBy: exploration.refusedBy,
    skipped: exploration.skipped,
    probes: exploration.probes,
    runs: exploration.runs,
    findings,
  };
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

/** The breach's minimal steps: its probe alone with the timeline, else its whole batch, then minimized; null when neither shows it. */
function confirm(spec: ScenarioSpec, surface: Surface, key: string, probe: Probe | null, batch: readonly StepEntry[], options: HuntOptions, ledger: HuntLedger): Reproduced | null {
  const alone = probe === null ? null : tryEntries(spec, compose(surface.timeline, [probe], [0]).entries, key, options.seed, ledger.count);
  const start = alone ?? tryEntries(spec, batch, key, options.seed, ledger.count);
  if (start === null) return null;
  const found = minimize(spec, start, options.seed, ledger.count);
  ledger.confirmed();
  return found;
}

function finding(config: Configuration, r: RawFinding, options: HuntOptions, ledger: HuntLedger): Finding {
  const id = ledger.nextId();
  const name = `${config.scenario}-${id.toLowerCase()}`;
  const hit = r.found.hit;
  const where = Object.keys(config.variant).length === 0 ? config.file : `${config.file} (${describeAssignment(config.variant)})`;
  const document = reproDocument(config.document, r.found, {
    name,
    title: `${hit.breach.kind} of ${hit.breach.victim}: ${r.label}`,
    summary: `Found by tlplab hunt (seed ${options.seed}) on ${where}. ${hit.breach.detail}. Path: ${hit.path}. Once the configuration is hardened this run fails: change the expectation to isolated and keep it as a regression test.`,
    because: hit.path,
    sources: [`tlplab hunt --seed ${options.seed} ${config.file}`, ...((config.document.sources as string[] | undefined) ?? []).slice(0, 3)],
  });
  const header = `${id}: ${hit.breach.kind} of ${hit.breach.victim} — reproducer written by tlplab hunt.\nReplay: tlplab run ${name}.yaml --seed ${options.seed}`;
  // The minimal steps ran as a checked attack (minimize's last run) and showed this breach; the YAML is replayed when written.
  const checked = true;
  return {
    id,
    kind: hit.breach.kind as Finding['kind'],
    attacker: hit.breach.attacker,
    victim: hit.breach.victim,
    path: hit.path,
    route: hit.route,
    mechanism: hit.mechanism,
    landing: hit.landing,
    from: r.from,
    technique: r.technique,
    label: r.label,
    techniques: r.techniques,
    hits: r.hits,
    bytes: hit.breach.bytes,
    cpus: hit.breach.cpus,
    detail: hit.breach.detail,
    caveats: caveatsOf(config, hit),
    repro: makeRepro(name, document, header, checked),
  };
}

/**
 * A forged requester ID from a device with no downstream port above it (an
 * RCiEP, a device on the root bus): no ACS Source Validation can stop it,
 * and whether the root complex checks IDs is implementation-specific.
 */
function caveatsOf(config: Configuration, hit: Hit): string[] {
  if (!hit.mechanism.includes('forged requester ID')) return [];
  const caveats: string[] = [];
  // DESIGN.md's threat model: hostile firmware puts any requester ID in a TLP; a VFIO user's driver alone does not.
  if (config.spec.via === 'vfio') caveats.push("a VFIO user drives the device through its driver: forging its requester ID takes reflashed or hostile device firmware");
  const origin = config.spec.machine.fabric.functions.find((f) => f.id === hit.route[0]);
  if (origin !== undefined && origin.parent === undefined) caveats.push('no ACS port sits above this integrated device to validate its requester ID; whether the root complex does is implementation-specific');
  return caveats;
}

export function keyOfFinding(f: Finding): string {
  return `${f.kind} | ${f.victim} | ${f.path}`;
}
