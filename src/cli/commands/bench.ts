import { formatBench } from '../../bench/format.ts';
import { DEFAULT_BENCH, FIGURES, missedTargets, runBench as runBenchSuite, type BenchOptions, type FigureName } from '../../bench/suite.ts';
import { didYouMean } from '../../scenario/diagnostics.ts';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { positiveInteger } from '../options.ts';
import { jsonTarget } from './explain.ts';

export interface BenchFlags {
  json?: boolean;
  jsonFile?: unknown;
  check?: boolean;
  events?: unknown;
  endpoints?: unknown;
  tlps?: unknown;
  devices?: unknown;
  inFlight?: unknown;
  runs?: unknown;
  warmups?: unknown;
  only?: unknown;
}

function onlyOf(value: unknown): FigureName[] | undefined {
  if (value === undefined) return undefined;
  return String(value)
    .split(',')
    .map((name) => {
      const figure = name.trim();
      if (!(FIGURES as readonly string[]).includes(figure)) throw new UsageError(`--only: unknown figure '${figure}'${didYouMean(figure, FIGURES)} (figures: ${FIGURES.join(', ')})`);
      return figure as FigureName;
    });
}

function optionsOf(flags: BenchFlags): BenchOptions {
  const n = (value: unknown, flag: string, fallback: number) => (value === undefined ? fallback : positiveInteger(value, flag));
  const only = onlyOf(flags.only);
  return {
    events: n(flags.events, '--events', DEFAULT_BENCH.events),
    endpoints: n(flags.endpoints, '--endpoints', DEFAULT_BENCH.endpoints),
    tlps: n(flags.tlps, '--tlps', DEFAULT_BENCH.tlps),
    devices: n(flags.devices, '--devices', DEFAULT_BENCH.devices),
    inFlight: n(flags.inFlight, '--in-flight', DEFAULT_BENCH.inFlight),
    runs: n(flags.runs, '--runs', DEFAULT_BENCH.runs),
    warmups: flags.warmups === undefined || Number(flags.warmups) === 0 ? Number(flags.warmups ?? DEFAULT_BENCH.warmups) : positiveInteger(flags.warmups, '--warmups'),
    ...(only ? { only } : {}),
  };
}

/** Prints every figure with its target; with --check, exits 1 when a measured target is missed. */
export async function runBench(io: Io, flags: BenchFlags): Promise<number> {
  const options = optionsOf(flags);
  const json = jsonTarget(io, flags, []);
  const report = await runBenchSuite(options, json ? undefined : (figure) => io.err(`bench: ${figure}…`));
  if (json) json(report);
  else for (const line of formatBench(report)) io.out(line);
  const missed = missedTargets(report);
  if (missed.length > 0 && !json) io.out(`targets not met: ${missed.join(', ')}`);
  return flags.check && missed.length > 0 ? ExitCode.expectationFailed : ExitCode.ok;
}
