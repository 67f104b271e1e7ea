/**
 * When a step runs: at a time (`at:`), or after an event (`after:`) — a
 * step of the attack that ran, ended or faulted, or the host's next unmap,
 * invalidation or IOTLB flush — plus a delay. Checked here: exactly one of
 * the two, an existing step that is not the step itself, events that need
 * a step name one, and no step waits (through others) on itself.
 */
import type { Checker } from './checker.ts';
import type { AfterSpec, StepEvent, StepSpec } from './model.ts';
import type { StepEntry } from './schema.ts';
import type { Path } from './source.ts';

/** Events about a named step's own TLPs (or the step itself): they need `step:`. */
const STEP_BOUND: readonly StepEvent[] = ['ran', 'tlp-ended'];

export function stepTiming(step: StepEntry, index: number, count: number, path: Path, check: Checker): { at: number; after: AfterSpec | null } {
  if (step.after === undefined) {
    if (step.at === undefined) {
      check.error(path, 'a step needs at: (a time) or after: (an event to wait on)', 'missing-time');
      return { at: 0, after: null };
    }
    return { at: check.duration(step.at, [...path, 'at'], 'step time'), after: null };
  }
  const where: Path = [...path, 'after'];
  if (step.at !== undefined) check.error([...path, 'at'], 'a step runs at: a time or after: an event, not both', 'at-and-after', true);
  const { step: other, event, delay } = step.after;
  const named = other ?? null;
  if (named !== null && (named < 0 || named >= count)) check.error([...where, 'step'], `after.step ${named} is not a step: steps are numbered 0 to ${count - 1}`, 'bad-after-step');
  else if (named === index) check.error([...where, 'step'], `a step cannot wait on itself`, 'bad-after-step');
  const kind: StepEvent = event ?? 'ran';
  if (named === null && STEP_BOUND.includes(kind)) check.error(where, `after: { event: ${kind} } is about a step: name it with step: N`, 'after-needs-step');
  const ns = delay === undefined ? 0 : check.duration(delay, [...where, 'delay'], 'delay');
  return { at: 0, after: { step: named, event: kind, delay: ns } };
}

/** A step that waits, through others, on itself never runs: reported at the first step of the cycle. */
export function checkAfterCycles(steps: readonly StepSpec[], check: Checker): void {
  const byIndex = new Map(steps.map((s) => [s.index, s]));
  for (const start of steps) {
    const seen = new Set<number>([start.index]);
    for (let s = start.after?.step ?? null; s !== null; s = byIndex.get(s)?.after?.step ?? null) {
      if (s === start.index) {
        check.error(['attack', 'steps', start.index, 'after', 'step'], `step ${start.index} waits on itself through ${[...seen].slice(1).join(' → ') || 'itself'}: it would never run`, 'after-cycle');
        break;
      }
      if (seen.has(s)) break;
      seen.add(s);
    }
  }
}
