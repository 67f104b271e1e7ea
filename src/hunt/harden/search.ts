/**
 * `tlplab harden`: the smallest sets of configuration changes under which
 * hunt finds no breach. Hunt the configuration; for every candidate change
 * (changes.ts) replay each finding's reproducer with it, to learn which
 * findings it closes; then try sets of 1, 2, … changes that together close
 * every finding known so far, cheapest first, and hunt each such set from
 * scratch: a set is a solution only if that hunt finds nothing. What a
 * hunt under a set still finds joins the findings to close. When no set of
 * up to `maxChanges` works within `maxHunts` hunts, a greedy pass adds the
 * change that closes most until nothing is found, then drops each change
 * the result does not need.
 */
import { ScenarioError } from '../../scenario/diagnostics.ts';
import { loadScenarioDocument } from '../../scenario/load.ts';
import type { ScenarioSpec } from '../../scenario/model.ts';
import { hitsOf, tryRunSteps } from '../execute.ts';
import { huntConfiguration, HuntLedger, type Configuration } from '../hunt.ts';
import type { Finding, HuntOptions, HuntTarget, StepEntry } from '../model.ts';
import { changesFor, COST_CLASSES, type Change } from './changes.ts';

export interface HardenOptions {
  readonly hunt: HuntOptions;
  /** Largest set tried exhaustively before the greedy pass. */
  readonly maxChanges: number;
  /** Solutions of the smallest size to report. */
  readonly maxSolutions: number;
  /** Hunts allowed for trying sets (the greedy pass has its own bound: one hunt per change). */
  readonly maxHunts: number;
}

export const DEFAULT_HARDEN: Omit<HardenOptions, 'hunt'> = { maxChanges: 4, maxSolutions: 3, maxHunts: 40 };

export interface Solution {
  readonly changes: readonly Change[];
  /** A hunt of the configuration with these changes found nothing. */
  readonly verified: true;
  /** How it was found: trying sets in order of size, or the greedy pass. */
  readonly search: 'exhaustive' | 'greedy';
}

export interface HardenTarget {
  readonly scenario: string;
  readonly file: string;
  readonly variant: HuntTarget['variant'];
  readonly attacker: string;
  /** The hunt of the configuration as it is. */
  readonly hunt: HuntTarget;
  readonly status: 'already-isolated' | 'hardened' | 'no-solution';
  /** Fewest changes first, then cheapest. */
  readonly solutions: readonly Solution[];
  readonly candidates: readonly Change[];
  readonly hunts: number;
}

/**
 * A finding to close: its steps, and what each change did to it when
 * replayed (under the set it was found with): closed it, or changed its
 * path without closing it (RR at a switch port that sends the write back
 * down at a root port without UF: the change that completes it comes next).
 */
interface Open {
  readonly key: string;
  readonly kind: string;
  readonly victim: string;
  readonly steps: readonly StepEntry[];
  /** Found under these changes (empty: the configuration as it is). */
  readonly context: readonly string[];
  readonly closedBy: ReadonlySet<string>;
  readonly alteredBy: ReadonlySet<string>;
}

/** The configuration document as one plain configuration: no variants, an expectation that checks. */
export function plainDocument(document: Record<string, unknown>): Record<string, unknown> {
  const { variants: _variants, expect: _expect, ...rest } = document;
  return { ...rest, expect: [{ verdict: 'isolated' }] };
}

/** The configuration with these changes made, checked as a scenario; null when a change makes it invalid. */
export function configurationWith(config: Configuration, changes: readonly Change[]): Configuration | null {
  const document = changes.reduce((doc, c) => c.apply(doc), plainDocument(config.document));
  try {
    const loaded = loadScenarioDocument(config.file, document);
    return { ...config, spec: loaded.variants[0]!.spec, document };
  } catch (error) {
    if (error instanceof ScenarioError) return null;
    throw error;
  }
}

export function hardenConfiguration(config: Configuration, options: HardenOptions, ledger: HuntLedger = new HuntLedger(undefined)): HardenTarget {
  let hunts = 1;
  const base = huntConfiguration(config, options.hunt, ledger);
  const result = (status: HardenTarget['status'], solutions: Solution[], candidates: Change[]): HardenTarget => ({
    scenario: config.scenario,
    file: config.file,
    variant: config.variant,
    attacker: config.spec.attacker,
    hunt: base,
    status,
    solutions: [...solutions].sort(bySizeAndCost),
    candidates,
    hunts,
  });
  if (base.findings.length === 0) return result('already-isolated', [], []);

  const candidates = changesFor(config.spec, config.document, config.variant).filter((c) => configurationWith(config, [c]) !== null);
  const specs = new Map<string, ScenarioSpec | null>();
  const specWith = (ids: readonly string[]): ScenarioSpec | null => {
    const key = [...ids].sort().join('+');
    if (!specs.has(key)) specs.set(key, configurationWith(config, candidates.filter((c) => ids.includes(c.id)))?.spec ?? null);
    return specs.get(key)!;
  };
  /** What each change (on top of `context`) does to a finding's reproducer: closes it, or moves it elsewhere. */
  const effects = (context: readonly string[], f: { key: string; kind: string; victim: string; steps: readonly StepEntry[] }) => {
    const closed = new Set<string>();
    const altered = new Set<string>();
    for (const c of candidates) {
      if (context.includes(c.id) || !bears(c, f.kind)) continue;
      const spec = specWith([...context, c.id]);
      if (spec === null) continue;
      ledger.count();
      const run = tryRunSteps(spec, f.steps, options.hunt.seed);
      // Steps that are no attack under the change (the device is no longer the attacker's) are closed by it.
      const hits = typeof run === 'string' ? [] : hitsOf(run, []).filter((h) => h.breach.kind === f.kind && h.breach.victim === f.victim);
      if (hits.length === 0) closed.add(c.id);
      else if (!hits.some((h) => h.key === f.key)) altered.add(c.id);
    }
    return { closed, altered };
  };
  const open: Open[] = [];
  const learn = (findings: readonly Finding[], context: readonly string[]) => {
    for (const f of findings) {
      const key = `${f.kind} | ${f.victim} | ${f.path}`;
      if (open.some((o) => o.key === key && sameSet(o.context, context))) continue;
      const item = { key, kind: f.kind, victim: f.victim, steps: f.repro.steps };
      const { closed, altered } = effects(context, item);
      open.push({ ...item, context, closedBy: closed, alteredBy: altered });
    }
  };
  learn(base.findings, []);
  const huntWith = (ids: readonly string[]): HuntTarget | null => {
    const changed = configurationWith(config, candidates.filter((c) => ids.includes(c.id)));
    if (changed === null) return null;
    hunts++;
    return huntConfiguration(changed, options.hunt, ledger);
  };

  // Sets of 1, 2, … changes that close every open finding, cheapest first. Taking a device away from
  // the attacker always "works"; it is tried only when no set of other changes does.
  const solutions: Solution[] = [];
  let budget = options.maxHunts;
  for (const tier of [candidates.filter((c) => c.costClass !== 'ownership'), candidates]) {
    for (let size = 1; size <= options.maxChanges && solutions.length === 0 && budget > 0; size++) {
      // Any change may complete a set (CFI clear does nothing until remapping is on); the set must close or move every finding.
      const pool = tier.filter((c) => open.some((o) => bears(c, o.kind))).sort(byCost);
      const sets = [...combinations(pool, size)].filter((set) => closesAll(open, set.map((c) => c.id))).sort((a, b) => setCost(a) - setCost(b));
      for (const set of sets) {
        if (budget <= 0 || solutions.length >= options.maxSolutions) break;
        const ids = set.map((c) => c.id);
        // Findings learnt since the sets were listed may rule this one out.
        if (!closesAll(open, ids)) continue;
        budget--;
        const found = huntWith(ids);
        if (found === null) continue;
        if (found.findings.length === 0) solutions.push({ changes: set, verified: true, search: 'exhaustive' });
        else learn(found.findings, ids);
      }
    }
    if (solutions.length > 0) return result('hardened', solutions, candidates);
  }

  const closes = (context: readonly string[], f: Finding) => effects(context, { key: `${f.kind} | ${f.victim} | ${f.path}`, kind: f.kind, victim: f.victim, steps: f.repro.steps }).closed;
  const greedy = greedyPass(candidates, base.findings, huntWith, closes);
  return greedy === null ? result('no-solution', [], candidates) : result('hardened', [{ changes: greedy, verified: true, search: 'greedy' }], candidates);
}

/** Add the change that closes most of what is still found (cheapest on ties) until a hunt finds nothing; then drop what is not needed. */
function greedyPass(candidates: readonly Change[], findings: readonly Finding[], huntWith: (ids: readonly string[]) => HuntTarget | null, closes: (context: readonly string[], f: Finding) => Set<string>): Change[] | null {
  let chosen: string[] = [];
  let still = findings;
  for (let round = 0; round < candidates.length && still.length > 0; round++) {
    const score = new Map<string, number>();
    for (const f of still) for (const id of closes(chosen, f)) score.set(id, (score.get(id) ?? 0) + 1);
    const ranked = candidates.filter((c) => !chosen.includes(c.id)).sort((a, b) => (score.get(b.id) ?? 0) - (score.get(a.id) ?? 0) || byCost(a, b));
    // Nothing closes anything alone: take the cheapest not yet taken (it may work together with a later one).
    const next = ranked[0];
    if (next === undefined) break;
    chosen = [...chosen, next.id];
    still = huntWith(chosen)?.findings ?? still;
  }
  if (still.length > 0) return null;
  // Drop each change the rest does without.
  for (const id of [...chosen].reverse()) {
    const without = chosen.filter((x) => x !== id);
    if (without.length > 0 && huntWith(without)?.findings.length === 0) chosen = without;
  }
  return candidates.filter((c) => chosen.includes(c.id));
}

/**
 * Every open finding (found under a subset of `ids`) may be closed by the
 * set: one of them closed it, or one moved it and the set holds another
 * that may finish the job. Optimistic on purpose: the hunt decides.
 */
function closesAll(open: readonly Open[], ids: readonly string[]): boolean {
  const closed = (o: Open) => {
    const extra = ids.filter((id) => !o.context.includes(id));
    return extra.some((id) => o.closedBy.has(id)) || (extra.length >= 2 && extra.some((id) => o.alteredBy.has(id)));
  };
  return open.every((o) => !o.context.every((c) => ids.includes(c)) || closed(o));
}

/** Interrupt settings cannot close a memory or BAR breach, nor DMA settings an interrupt one. */
function bears(change: Change, kind: string): boolean {
  const interrupt = kind === 'interrupt-injection' || kind === 'foreign-irte';
  if (change.id.startsWith('ir:') || change.id.startsWith('irte:')) return interrupt;
  if (change.id === 'iommu:strict' || change.id.startsWith('bounce:') || change.id.startsWith('ats:') || change.id.startsWith('translate:')) return !interrupt;
  return true;
}

function* combinations<T>(items: readonly T[], size: number, from = 0, prefix: T[] = []): Generator<T[]> {
  if (prefix.length === size) {
    yield prefix;
    return;
  }
  for (let i = from; i <= items.length - (size - prefix.length); i++) yield* combinations(items, size, i + 1, [...prefix, items[i]!]);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

const classRank = (c: Change) => COST_CLASSES.indexOf(c.costClass);

function byCost(a: Change, b: Change): number {
  return classRank(a) - classRank(b) || a.label.localeCompare(b.label);
}

function setCost(set: readonly Change[]): number {
  return set.reduce((n, c) => n + classRank(c), 0);
}

/** Fewest changes, then cheapest, then named changes before the scenario's own axis values (which say less about their cost). */
function bySizeAndCost(a: Solution, b: Solution): number {
  const cost = (s: Solution) => setCost(s.changes);
  const axes = (s: Solution) => s.changes.filter((c) => c.id.startsWith('axis:')).length;
  return a.changes.length - b.changes.length || cost(a) - cost(b) || axes(a) - axes(b) || a.changes.map((c) => c.label).join().localeCompare(b.changes.map((c) => c.label).join());
}
