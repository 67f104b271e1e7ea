/**
 * `tlplab bench`: every figure of issue 8 with its target, in one report.
 * Figures are independent functions; the scenario library (figure 3) is a
 * slot that scenario-bench.ts fills.
 */
import { cpus, availableParallelism } from 'node:os';
import { benchFlood, type FloodFigures } from './flood-bench.ts';
import { FLOOD_DEFAULTS } from './flood-shape.ts';
import { benchGroups, type GroupsFigures } from './groups-bench.ts';
import { benchKernel, type KernelFigures } from './kernel-bench.ts';
import { DEFAULT_RUNS, DEFAULT_WARMUPS } from './measure.ts';
import { memoryFigure, MEMORY_TARGET_BYTES, type MemoryFigure } from './memory-bench.ts';
import { benchScenarioLibrary, type ScenarioFigures } from './scenario-bench.ts';
import { benchProcesses, STARTUP_COMMANDS, type ProcessFigure } from './process-bench.ts';
import { benchJobs, benchMatrix, type JobsFigures, type MatrixFigures } from './matrix-bench.ts';
import { benchLong, benchShards, benchSweep, type LongFigures, type ShardBalance, type SweepFigures } from './sweep-bench.ts';

/** Figures `--only` can pick. */
export const FIGURES = ['kernel', 'flood', 'scenarios', 'groups', 'memory', 'startup', 'matrix', 'jobs', 'shards', 'explain', 'load', 'sweep'] as const;
/** Figures run without --only: all but the sweep (a minute of work; issue 18's memory figure). */
export const DEFAULT_FIGURES: readonly FigureName[] = FIGURES.filter((f) => f !== 'sweep');
export type FigureName = (typeof FIGURES)[number];

export interface BenchOptions {
  /** Events per kernel micro-benchmark run. */
  readonly events: number;
  readonly endpoints: number;
  /** Writes per endpoint in the flood. */
  readonly tlps: number;
  /** Functions of the generated machine for group computation. */
  readonly devices: number;
  /** TLPs in flight for the memory figure. */
  readonly inFlight: number;
  readonly runs: number;
  readonly warmups: number;
  /** Only these figures (default: all). */
  readonly only?: readonly FigureName[];
}

export const DEFAULT_BENCH: BenchOptions = {
  events: 1_000_000,
  endpoints: FLOOD_DEFAULTS.endpoints,
  tlps: FLOOD_DEFAULTS.tlps,
  devices: 10_000,
  inFlight: 1_000_000,
  runs: DEFAULT_RUNS,
  warmups: DEFAULT_WARMUPS,
};

export interface BenchMachine {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly platform: string;
}

export interface BenchReport {
  readonly schema: 'tlplab/bench-v1';
  readonly machine: BenchMachine;
  readonly runs: number;
  readonly warmups: number;
  /** A figure left out by --only is absent. */
  readonly kernel?: KernelFigures;
  readonly flood?: FloodFigures;
  readonly scenarios?: ScenarioFigures;
  readonly groups?: GroupsFigures;
  readonly memory?: MemoryFigure & { readonly targetBytes: number; readonly met: boolean };
  /** Whole processes of the built CLI (issue 13). */
  readonly startup?: readonly ProcessFigure[];
  readonly matrix?: MatrixFigures;
  readonly jobs?: JobsFigures;
  /** Issue 18: shard balance, explain over 10 000 steps, a 100 000-step file, a sweep's memory. */
  readonly shards?: readonly ShardBalance[];
  readonly explain?: LongFigures;
  readonly load?: LongFigures;
  readonly sweep?: SweepFigures;
}

export function benchMachine(): BenchMachine {
  return { node: process.version, cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), platform: `${process.platform}-${process.arch}` };
}

/** Runs every figure (or those of `only`); `progress` hears which one starts (the suite takes about a minute). */
export async function runBench(options: BenchOptions, progress: (figure: string) => void = () => undefined): Promise<BenchReport> {
  const timing = { runs: options.runs, warmups: options.warmups };
  const want = (name: FigureName) => {
    const yes = (options.only ?? DEFAULT_FIGURES).includes(name);
    if (yes) progress(name);
    return yes;
  };
  const kernel = want('kernel') ? benchKernel(options.events, timing) : undefined;
  const flood = want('flood') ? benchFlood({ endpoints: options.endpoints, tlps: options.tlps }, timing) : undefined;
  const scenarios = want('scenarios') ? benchScenarioLibrary(timing) : undefined;
  const groups = want('groups') ? benchGroups(options.devices, timing) : undefined;
  const memory = want('memory') ? memoryFigure(options.inFlight) : undefined;
  const startup = want('startup') ? benchProcesses(STARTUP_COMMANDS(), timing) : undefined;
  const matrix = want('matrix') ? await benchMatrix({ runs: Math.min(options.runs, 3), warmups: Math.min(options.warmups, 1) }) : undefined;
  const libraryRuns = scenarios?.measured ? scenarios.runs : 0;
  const jobs = want('jobs') ? benchJobs({ runs: Math.min(options.runs, 3), warmups: Math.min(options.warmups, 1) }, libraryRuns) : undefined;
  const shards = want('shards') ? benchShards() : undefined;
  const few = { runs: Math.min(options.runs, 3), warmups: Math.min(options.warmups, 1) };
  const explain = want('explain') ? benchLong(10_000, true, 2000, few) : undefined;
  const load = want('load') ? benchLong(100_000, false, 5000, { runs: 1, warmups: 0 }) : undefined;
  const sweep = want('sweep') ? benchSweep(100) : undefined;
  return {
    schema: 'tlplab/bench-v1',
    machine: benchMachine(),
    ...timing,
    ...(kernel && { kernel }),
    ...(flood && { flood }),
    ...(scenarios && { scenarios }),
    ...(groups && { groups }),
    ...(memory && { memory: { ...memory, targetBytes: MEMORY_TARGET_BYTES, met: memory.maxRssBytes < MEMORY_TARGET_BYTES } }),
    ...(startup && { startup }),
    ...(matrix && { matrix }),
    ...(jobs && { jobs }),
    ...(shards && { shards }),
    ...(explain && { explain }),
    ...(load && { load }),
    ...(sweep && { sweep }),
  };
}

/** Targets measured and missed (an unmeasured figure is neither). */
export function missedTargets(report: BenchReport): string[] {
  const missed: string[] = [];
  if (report.flood && !report.flood.met) missed.push('flood');
  if (report.scenarios?.measured && !report.scenarios.met) missed.push('scenarios');
  if (report.groups && !report.groups.met) missed.push('groups');
  if (report.memory && !report.memory.met) missed.push('memory');
  for (const figure of report.startup ?? []) if (figure.met === false) missed.push(`startup (${figure.label})`);
  if (report.matrix && !report.matrix.met) missed.push('matrix');
  if (report.shards?.some((s) => !s.met)) missed.push('shards');
  if (report.explain && !report.explain.met) missed.push('explain');
  if (report.load && !report.load.met) missed.push('load');
  if (report.sweep?.measured && !report.sweep.met) missed.push('sweep');
  return missed;
}
