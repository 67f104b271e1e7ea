/**
 * Runs scenario files. First every file is read, parsed and validated once
 * and the selected runs are counted (a matrix over --max-runs is refused
 * before anything runs; --shard takes an equal slice of all runs). Then, file
 * by file, each file's variants are checked, run — in this thread or, where
 * it pays, in worker threads that get plain data — and handed to the sink
 * in file and variant order whatever the number of workers, and released:
 * memory holds one file's results, never a trace per run.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { ScenarioError } from './diagnostics.ts';
import { MatrixTooLargeError, openScenarioFile, type LoadedScenario, type OpenedScenario, type ScenarioVariant } from './load.ts';
import type { RunResult, ScenarioFailure, ScenarioInfo } from './results.ts';
import { choiceCount, namePattern, resolveFilter, selectIndices, SelectionError, type VariantFilter } from './select.ts';
import { runPlanned, type Planned } from './suite-run.ts';

export type { VariantFilter } from './select.ts';

/** The attack library shipped with tlplab (`tlplab run` without paths). */
export const BUILT_IN_LIBRARY = join(packageRoot(), 'scenarios');

/** Default of --max-runs. */
export const DEFAULT_MAX_RUNS = 100_000;

export class SuiteInputError extends Error {
  readonly userFacing = true;
  readonly code = 'NO_SCENARIOS';
}

/** Scenario files under the given paths: directories are searched recursively for *.yaml / *.yml, sorted. Each path must give one. */
export function discoverScenarios(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (path: string, found: string[]): void => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new SuiteInputError(`no such file or directory: ${path}`);
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory() || /\.ya?ml$/i.test(entry)) walk(child, found);
      }
    } else {
      found.push(path);
    }
  };
  for (const path of paths) {
    const found: string[] = [];
    walk(path, found);
    if (found.length === 0) throw new SuiteInputError(`no scenario files (*.yaml, *.yml) in ${path}`);
    files.push(...found);
  }
  return files;
}

/** The variants of one loaded scenario that a `--variant` filter selects (an axis or value it lacks is an error). */
export function selectVariants(loaded: LoadedScenario, filter: VariantFilter, pattern?: string): ScenarioVariant[] {
  const [choices] = resolveFilter(filter, [loaded]);
  return selectIndices(loaded, choices!, namePattern(pattern)).map((i) => loaded.variantAt(i));
}

export interface SuiteOptions {
  readonly seed: number;
  readonly filter?: VariantFilter;
  /** -t: a regular expression on scenario and variant names. */
  readonly pattern?: string;
  /** Worker threads; 1 runs everything in this thread. */
  readonly jobs?: number;
  /** This process runs shard `index` (1-based) of `count`. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** More selected runs than this is refused before any runs (default 100 000). */
  readonly maxRuns?: number;
  /** Stop after this many failed expectations or scenario errors. */
  readonly bail?: number;
  /** Fewest runs for which the pool is started (default POOL_MIN_RUNS; tests and benchmarks lower it). */
  readonly poolMinRuns?: number;
  /** Tell each run TLP by TLP (RunResult.story), for reports. */
  readonly stories?: boolean;
}

/** What one file gave: its runs in variant order, or why it could not run. */
export interface FileResult {
  readonly file: string;
  readonly runs: readonly RunResult[];
  readonly failures: readonly ScenarioFailure[];
  /** What reports say about the file, when it is valid. */
  readonly scenario?: ScenarioInfo;
}

export interface SuiteSink {
  /** Each file's results, in file order. */
  file(result: FileResult): void | Promise<void>;
  /** After each finished run: how many of the planned runs are done, and in which scenario. */
  progress?(done: number, total: number, scenario: string): void;
}

export interface SuiteCounts {
  /** Runs planned (after selection and sharding). */
  readonly planned: number;
  readonly runs: number;
  readonly passed: number;
  readonly failures: number;
  readonly crashed: number;
  /** Valid scenarios none of whose variants the filters selected. */
  readonly unselected: number;
  /** Whether --bail stopped the suite before every planned run. */
  readonly bailed: boolean;
  /** Worker threads actually used (1 when the pool would not pay). */
  readonly jobs: number;
}

/**
 * The plan: every file opened once, the selection resolved and counted, the
 * shard sliced. Throws (exit 2) on a filter that matches nothing or a
 * matrix over the limit.
 */
export function planSuite(files: readonly string[], options: Omit<SuiteOptions, 'seed'>): { planned: Planned[]; total: number; of: number; unselected: number } {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const items: { file: string; opened?: OpenedScenario; failure?: ScenarioFailure }[] = files.map((file) => {
    try {
      return { file, opened: openScenarioFile(file, { maxVariants: maxRuns }) };
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      return { file, failure: invalid(file, null, error) };
    }
  });
  const valid = items.flatMap((item) => (item.opened ? [item.opened] : []));
  const filter = options.filter ?? {};
  const choices = valid.length === 0 ? [] : resolveFilter(filter, valid);
  const pattern = namePattern(options.pattern);
  let total = 0;
  let unselected = 0;
  const selected = new Map<OpenedScenario, number[]>();
  valid.forEach((opened, i) => {
    const indices = selectIndices(opened, choices[i]!, pattern, maxRuns + 1 - total);
    if (choiceCount(choices[i]!) === 0 || indices.length === 0) unselected++;
    selected.set(opened, indices);
    total += indices.length;
  });
  if (total > maxRuns) {
    const biggest = [...selected].sort((a, b) => b[1].length - a[1].length).slice(0, 3).map(([o, ix]) => `${o.file} (${ix.length.toLocaleString('en-US')})`);
    throw new MatrixTooLargeError(`more than ${maxRuns.toLocaleString('en-US')} runs selected (the --max-runs limit): ${biggest.join(', ')}; narrow them with --variant or -t, split them with --shard, or raise --max-runs`);
  }
  if (total === 0 && valid.length > 0) {
    throw new SelectionError(`no run selected: ${[options.pattern === undefined ? '' : `-t ${options.pattern}`, ...Object.entries(filter).map(([k, v]) => `--variant ${k}=${v}`)].filter(Boolean).join(' ')} matches no variant of the same scenario`);
  }
  const shard = options.shard;
  const from = shard === undefined ? 0 : Math.floor(((shard.index - 1) * total) / shard.count);
  const to = shard === undefined ? total : Math.floor((shard.index * total) / shard.count);
  const planned: Planned[] = [];
  let position = 0;
  for (const item of items) {
    if (item.failure !== undefined) {
      planned.push({ file: item.file, failure: item.failure });
      continue;
    }
    const indices = selected.get(item.opened!)!;
    const mine = indices.slice(Math.max(0, from - position), Math.max(0, to - position));
    position += indices.length;
    if (mine.length > 0) planned.push({ file: item.file, opened: item.opened!, indices: mine });
  }
  return { planned, total: to - from, of: total, unselected };
}

export function invalid(file: string, scenario: string | null, error: ScenarioError): ScenarioFailure {
  return { file, scenario, kind: 'invalid', message: error.message, diagnostics: error.diagnostics, variant: null };
}

/** Runs the plan, handing each file's results to the sink as soon as the file is done. */
export async function streamSuite(files: readonly string[], options: SuiteOptions, sink: SuiteSink): Promise<SuiteCounts> {
  const { planned, total, unselected } = planSuite(files, options);
  const counts = await runPlanned(planned, total, options, sink);
  return { ...counts, unselected };
}

/**
 * Runs every selected variant of every file and returns all results. Results
 * come back in file and variant order whatever the number of workers.
 */
export async function runSuite(files: readonly string[], options: SuiteOptions): Promise<{ runs: RunResult[]; failures: ScenarioFailure[]; scenarios: ScenarioInfo[] }> {
  const runs: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  const scenarios: ScenarioInfo[] = [];
  await streamSuite(files, options, {
    file(result) {
      runs.push(...result.runs);
      failures.push(...result.failures);
      if (result.scenario) scenarios.push(result.scenario);
    },
  });
  return { runs, failures, scenarios };
}
