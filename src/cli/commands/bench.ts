import { benchKernel } from '../../bench/kernel-bench.ts';
import { ExitCode } from '../exit.ts';
import type { Io } from '../io.ts';
import { positiveInteger } from '../options.ts';

export function runBench(io: Io, options: { json?: boolean; events: unknown }): number {
  const events = positiveInteger(options.events, '--events');
  const figures = benchKernel(events);
  if (options.json) {
    io.out(JSON.stringify({ schema: 'tlplab/bench-v1', kernel: figures }, null, 2));
    return ExitCode.ok;
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  io.out(`kernel: ${fmt(figures.kernelEventsPerSecond)} events/s, bare binary-heap loop: ${fmt(figures.bareEventsPerSecond)} events/s`);
  io.out(`        ratio tlplab/bare = ${figures.ratio.toFixed(2)} (median of 5 runs of ${fmt(events)} events, after 2 warm-ups)`);
  return ExitCode.ok;
}
