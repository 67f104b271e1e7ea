import { formatBench } from '../../bench/format.ts';
import { DEFAULT_BENCH, missedTargets, runBench as runBenchSuite, type BenchOptions } from '../../bench/suite.ts';
import { ExitCode } from '../exit.ts';
import type { Io } from '../io.ts';
import { positiveInteger } from '../options.ts';

export interface BenchFlags {
  json?: boolean;
  check?: boolean;
  events?: unknown;
  endpoints?: unknown;
  tlps?: unknown;
  devices?: unknown;
  inFlight?: unknown;
  runs?: unknown;
  warmups?: unknown;
}

function optionsOf(flags: BenchFlags): BenchOptions {
  const n = (value: unknown, flag: string, fallback: number) => (value === undefined ? fallback : positiveInteger(value, flag));
  return {
    events: n(flags.events, '--events', DEFAULT_BENCH.events),
    endpoints: n(flags.endpoints, '--endpoints', DEFAULT_BENCH.endpoints),
    tlps: n(flags.tlps, '--tlps', DEFAULT_BENCH.tlps),
    devices: n(flags.devices, '--devices', DEFAULT_BENCH.devices),
    inFlight: n(flags.inFlight, '--in-flight', DEFAULT_BENCH.inFlight),
    runs: n(flags.runs, '--runs', DEFAULT_BENCH.runs),
    warmups: flags.warmups === undefined || Number(flags.warmups) === 0 ? Number(flags.warmups ?? DEFAULT_BENCH.warmups) : positiveInteger(flags.warmups, '--warmups'),
  };
}

/** Prints every figure with its target; with --check, exits 1 when a measured target is missed. */
export function runBench(io: Io, flags: BenchFlags): number {
  const options = optionsOf(flags);
  const report = runBenchSuite(options, flags.json ? undefined : (figure) => io.err(`bench: ${figure}…`));
  if (flags.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of formatBench(report)) io.out(line);
  const missed = missedTargets(report);
  if (missed.length > 0 && !flags.json) io.out(`targets not met: ${missed.join(', ')}`);
  return flags.check && missed.length > 0 ? ExitCode.expectationFailed : ExitCode.ok;
}
