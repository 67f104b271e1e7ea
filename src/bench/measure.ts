/** Timing helpers for benchmarks: warm up, then the median of several runs. Wall-clock by nature. */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  /** Median wall time of one run, ms. */
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

export function measure(run: () => void, options: { warmups?: number; runs?: number } = {}): Measurement {
  for (let i = 0; i < (options.warmups ?? 2); i++) run();
  const runsMs: number[] = [];
  for (let i = 0; i < (options.runs ?? 5); i++) {
    const start = performance.now();
    run();
    runsMs.push(performance.now() - start);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, runsMs };
}
