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
  readonly kernel: KernelFigures;
  readonly flood: FloodFigures;
  readonly scenarios: ScenarioFigures;
  readonly groups: GroupsFigures;
  readonly memory: MemoryFigure & { readonly targetBytes: number; readonly met: boolean };
}

export function benchMachine(): BenchMachine {
  return { node: process.version, cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), platform: `${process.platform}-${process.arch}` };
}

/** Runs every figure; `progress` hears which one starts (the suite takes tens of seconds). */
export function runBench(options: BenchOptions, progress: (figure: string) => void = () => undefined): BenchReport {
  const timing = { runs: options.runs, warmups: options.warmups };
  progress('kernel');
  const kernel = benchKernel(options.events, timing);
  progress('flood');
  const flood = benchFlood({ endpoints: options.endpoints, tlps: options.tlps }, timing);
  progress('scenarios');
  const scenarios = benchScenarioLibrary(timing);
  progress('groups');
  const groups = benchGroups(options.devices, timing);
  progress('memory');
  const memory = memoryFigure(options.inFlight);
  return {
    schema: 'tlplab/bench-v1',
    machine: benchMachine(),
    ...timing,
    kernel,
    flood,
    scenarios,
    groups,
    memory: { ...memory, targetBytes: MEMORY_TARGET_BYTES, met: memory.maxRssBytes < MEMORY_TARGET_BYTES },
  };
}

/** Targets measured and missed (an unmeasured figure is neither). */
export function missedTargets(report: BenchReport): string[] {
  const missed: string[] = [];
  if (!report.flood.met) missed.push('flood');
  if (report.scenarios.measured && !report.scenarios.met) missed.push('scenarios');
  if (!report.groups.met) missed.push('groups');
  if (!report.memory.met) missed.push('memory');
  return missed;
}
