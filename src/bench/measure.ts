/** Timing helpers for benchmarks: warm up, then the median of several runs. Wall-clock by nature. */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  /** Median wall time of one run, ms. */
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

export interface MeasureOptions {
  readonly warmups?: number;
  readonly runs?: number;
}

export const DEFAULT_WARMUPS = 2;
export const DEFAULT_RUNS = 5;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times whole calls of `run`. */
export function measure(run: () => void, options: MeasureOptions = {}): Measurement {
  return measureTimed(() => {
    const start = performance.now();
    run();
    return performance.now() - start;
  }, options);
}

/** `run` times its own measured part (leaving out set-up) and returns it in ms. */
export function measureTimed(run: () => number, options: MeasureOptions = {}): Measurement {
  for (let i = 0; i < (options.warmups ?? DEFAULT_WARMUPS); i++) run();
  const runsMs: number[] = [];
  for (let i = 0; i < (options.runs ?? DEFAULT_RUNS); i++) runsMs.push(run());
  return { medianMs: median(runsMs), runsMs };
}

/**
 * Two self-timed workloads measured alternately (a, b, a, b, …) after their
 * warm-ups, so a slow spell of the machine hits both alike and their ratio
 * stays fair.
 */
export function measurePair(a: () => number, b: () => number, options: MeasureOptions = {}): [Measurement, Measurement] {
  for (let i = 0; i < (options.warmups ?? DEFAULT_WARMUPS); i++) {
    a();
    b();
  }
  const runsA: number[] = [];
  const runsB: number[] = [];
  for (let i = 0; i < (options.runs ?? DEFAULT_RUNS); i++) {
    runsA.push(a());
    runsB.push(b());
  }
  return [
    { medianMs: median(runsA), runsMs: runsA },
    { medianMs: median(runsB), runsMs: runsB },
  ];
}
