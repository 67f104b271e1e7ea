/**
 * Running probes: a run is the host's timeline plus some probes, composed
 * into one list of YAML step entries (so what ran can be written back as
 * a scenario), checked by the scenario layer's own step pass, and run by
 * runVariant on the configuration's machine. Its breaches are traced back
 * to the probe whose step issued them, each with its path.
 */
import type { Ending } from '../fabric/ending.ts';
import { normalizeAttackOn } from '../scenario/normalize.ts';
import { unexpectedVariant } from '../scenario/load.ts';
import type { ScenarioSpec } from '../scenario/model.ts';
import { runVariant, type VariantRun } from '../scenario/runner.ts';
import type { BreachResult } from '../scenario/results.ts';
import type { Probe, StepEntry } from './model.ts';
import { breachPath, type BreachPath } from './path.ts';
import { recordsByTlp } from '../scenario/story.ts';
import type { TimelineStep } from './surface.ts';
import { inTimeOrder } from './order.ts';

/** Steps as the scenario file writes them, and which probe each belongs to (null: the timeline). */
export interface Composed {
  readonly entries: readonly StepEntry[];
  readonly owners: readonly (number | null)[];
}

export interface Hit extends BreachPath {
  readonly key: string;
  readonly probe: number | null;
  readonly breach: BreachResult;
}

export class HuntError extends Error {
  readonly code = 'HUNT_INTERNAL';
}

/** Durations as the file writes them. */
const ns = (n: number) => `${n}ns`;

/**
 * The timeline (its `after:` references renumbered) followed by each probe
 * (its steps at the probe's time plus their offsets, or after the step they
 * name). `probes[i]` gets owner `ids[i]`.
 */
export function compose(timeline: readonly TimelineStep[], probes: readonly Probe[], ids: readonly number[], keep: readonly number[] | null = null): Composed {
  const entries: StepEntry[] = [];
  const owners: (number | null)[] = [];
  const position = new Map<number, number>();
  timeline.forEach((t, i) => {
    if (keep !== null && !keep.includes(i)) return;
    position.set(t.index, entries.length);
    const after = t.spec.after;
    const entry = { ...t.entry };
    if (after && after.step !== null) entry.after = { ...(entry.after as object), step: position.get(after.step) ?? after.step };
    entries.push(entry);
    owners.push(null);
  });
  probes.forEach((probe, p) => {
    const first = entries.length;
    for (const step of probe.steps) {
      if (step.after === undefined) entries.push({ at: ns(probe.at + (step.offset ?? 0)), ...step.entry });
      else {
        const ref = step.after.ref;
        const target = 'own' in ref ? first + ref.own : position.get(timeline[ref.timeline]!.index);
        if (target === undefined) throw new HuntError(`probe '${probe.label}' waits on a timeline step that is not in this run`);
        entries.push({ after: { step: target, ...(step.after.event === undefined ? {} : { event: step.after.event }), ...(step.after.delay > 0 ? { delay: ns(step.after.delay) } : {}) }, ...step.entry });
      }
      owners.push(ids[p]!);
    }
  });
  const ordered = inTimeOrder(entries, owners);
  return { entries: ordered.entries, owners: ordered.carried };
}

/** The configuration with these steps as its attack, checked as a file's steps are; the problems when they do not check. */
export function withSteps(spec: ScenarioSpec, entries: readonly StepEntry[]): ScenarioSpec | string {
  const normalized = normalizeAttackOn(spec, { attacker: spec.attacker, via: spec.via, steps: entries as never }, (path, message, code) => ({ file: spec.file, line: 0, column: 0, message: `${path.join('.')}: ${message}`, code }));
  if (!normalized.ok) return normalized.diagnostics.map((d) => d.message).join('; ');
  return { ...spec, steps: normalized.steps };
}

/** Runs steps hunt composed; they must check (a probe that does not is a bug in hunt). */
export function runSteps(spec: ScenarioSpec, entries: readonly StepEntry[], seed: number): VariantRun {
  const run = tryRunSteps(spec, entries, seed);
  if (typeof run === 'string') throw new HuntError(`a composed attack does not check: ${run}`);
  return run;
}

/** Runs the steps, or says why they do not make a valid attack (minimizing drops steps others need). */
export function tryRunSteps(spec: ScenarioSpec, entries: readonly StepEntry[], seed: number): VariantRun | string {
  const checked = withSteps(spec, entries);
  return typeof checked === 'string' ? checked : runVariant({ file: spec.file }, unexpectedVariant(checked), seed);
}

/** Every breach of a run, with its path and the probe that caused it. */
export function hitsOf(run: VariantRun, owners: readonly (number | null)[]): Hit[] {
  const breaches = run.result.breaches;
  if (breaches.length === 0) return [];
  const byTlp = recordsByTlp(run.machine.trace.records);
  const endings = new Map<number, Ending>();
  for (const e of run.endings) if (e.tlp !== null) endings.set(e.tlp, e);
  const fabric = run.machine.fabric;
  return breaches.map((breach) => {
    const ending = endings.get(breach.tlp)!;
    const path = breachPath(breach, ending, byTlp.get(breach.tlp) ?? [], fabric.functions.get(ending.origin)?.rid);
    return { ...path, key: keyOf(breach.kind, breach.victim, path.path), probe: ending.step >= 0 ? (owners[ending.step] ?? null) : null, breach };
  });
}

export function keyOf(kind: string, victim: string, path: string): string {
  return `${kind} | ${victim} | ${path}`;
}
