/**
 * Steps in time order, as a scenario file must list them (check-steps.ts):
 * steps with a time stably sorted by it (same-time steps keep their order,
 * which is the order they run in), each step that waits on another right
 * after it (and after those waiting on it in turn), steps that wait on an
 * event alone at the end; `after.step` renumbered, and anything carried
 * along (which probe a step belongs to) permuted with the steps.
 */
import { parseDuration } from '../sim/time.ts';
import type { StepEntry } from './model.ts';

export function inTimeOrder<T>(entries: readonly StepEntry[], carried: readonly T[]): { entries: StepEntry[]; carried: T[] } {
  const waitsOn = (e: StepEntry) => (e.after as { step?: number } | undefined)?.step;
  const timed = entries.map((e, i) => ({ e, i })).filter(({ e }) => e.after === undefined);
  timed.sort((a, b) => (parseDuration(a.e.at as string | number) ?? 0) - (parseDuration(b.e.at as string | number) ?? 0) || a.i - b.i);
  const order: number[] = [];
  const place = (i: number) => {
    order.push(i);
    entries.forEach((e, j) => {
      if (waitsOn(e) === i) place(j);
    });
  };
  for (const { i } of timed) place(i);
  entries.forEach((e, j) => {
    if (e.after !== undefined && waitsOn(e) === undefined) place(j);
  });
  // A step waiting on a step that is not there (a cycle, or a dropped step) keeps its place at the end.
  entries.forEach((_e, j) => {
    if (!order.includes(j)) order.push(j);
  });
  const position = new Map(order.map((old, now) => [old, now]));
  return {
    entries: order.map((old) => {
      const e = entries[old]!;
      const step = waitsOn(e);
      return step === undefined ? e : { ...e, after: { ...(e.after as object), step: position.get(step) ?? step } };
    }),
    carried: order.map((old) => carried[old]!),
  };
}
