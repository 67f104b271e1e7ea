/**
 * Executing a suite plan: each file's variants checked then run, in this
 * thread or in a worker pool (batches of one file's variants, as plain
 * data), results handed on in order and released file by file.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Tinypool from 'tinypool';
import { fromSources, packageRoot } from '../package-root.ts';
import { ScenarioError } from './diagnostics.ts';
import { VariantCheckError, type OpenedScenario } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import type { FileResult, SuiteCounts, SuiteOptions, SuiteSink } from './suite.ts';
import { runDerived, type BatchTask, type TaskOutcome } from './worker.ts';

export type Planned = { readonly file: string; readonly failure: ScenarioFailure } | { readonly file: string; readonly opened: OpenedScenario; readonly indices: readonly number[] };

/**
 * Below this many runs the pool is not started: starting workers (each loads
 * the simulator, ~0.2 s on the reference machine) costs more than it saves.
 * The crossover measured for BENCHMARKS.md, figure 6.
 */
export const POOL_MIN_RUNS = 400;

/** Worker threads worth starting for `total` runs when `requested` were asked for. */
export function poolSize(requested: number, total: number, minRuns = POOL_MIN_RUNS): number {
  if (requested <= 1 || total < minRuns) return 1;
  return Math.min(requested, Math.ceil(total / 16));
}

function workerFile(): string {
  // From the sources (tests, tsx) the worker must register tsx itself; the built CLI runs the bundled worker.
  return fromSources ? new URL('./worker-entry.js', import.meta.url).href : pathToFileURL(join(packageRoot(), 'dist', 'worker.js')).href;
}

interface Tally {
  done: number;
  runs: number;
  passed: number;
  failures: number;
  crashed: number;
  bailed: boolean;
}

function tallyFile(tally: Tally, result: FileResult, bail: number | undefined): void {
  tally.runs += result.runs.length;
  for (const run of result.runs) if (run.pass) tally.passed++;
  tally.failures += result.failures.length;
  tally.crashed += result.failures.filter((f) => f.kind === 'crashed').length;
  if (bail !== undefined && tally.runs - tally.passed + tally.failures >= bail) tally.bailed = true;
}

function gather(file: string, outcomes: readonly TaskOutcome[]): FileResult {
  const runs: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  for (const outcome of outcomes) {
    if ('run' in outcome) runs.push(outcome.run);
    else if ('failure' in outcome) failures.push(outcome.failure);
  }
  return { file, runs, failures };
}

/** Every variant of the file checked, for its positioned diagnostics (called once one fails). */
function invalidFile(item: Extract<Planned, { opened: unknown }>): FileResult {
  try {
    item.opened.check();
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return { file: item.file, runs: [], failures: [{ file: item.file, scenario: item.opened.name, kind: 'invalid', message: error.message, diagnostics: error.diagnostics, variant: null }] };
  }
  throw new Error(`${item.file}: a variant failed its checks, but checking the whole file passed`);
}

export async function runPlanned(planned: readonly Planned[], total: number, options: SuiteOptions, sink: SuiteSink): Promise<Omit<SuiteCounts, 'unselected'>> {
  const tally: Tally = { done: 0, runs: 0, passed: 0, failures: 0, crashed: 0, bailed: false };
  const jobs = poolSize(options.jobs ?? 1, total, options.poolMinRuns);
  const emit = async (result: FileResult) => {
    tallyFile(tally, result, options.bail);
    await sink.file(result);
  };
  if (jobs === 1) await runInline(planned, total, options, sink, tally, emit);
  else await runPooled(planned, total, options, sink, tally, emit, jobs);
  return { planned: total, runs: tally.runs, passed: tally.passed, failures: tally.failures, crashed: tally.crashed, bailed: tally.bailed, jobs };
}

/**
 * This thread: each selected variant is derived once, with positions, and
 * run. Sharded runs check every variant of a file first, so every shard
 * agrees on which files are invalid; otherwise a variant that fails its
 * checks makes the file invalid when it is reached (its runs are dropped).
 */
async function runInline(planned: readonly Planned[], total: number, options: SuiteOptions, sink: SuiteSink, tally: Tally, emit: (r: FileResult) => Promise<void>): Promise<void> {
  let lastYield = performance.now();
  for (const item of planned) {
    if (tally.bailed) return;
    if ('failure' in item) {
      await emit({ file: item.file, runs: [], failures: [item.failure] });
      continue;
    }
    if (options.shard !== undefined && !fileValid(item)) {
      await emit(invalidFile(item));
      continue;
    }
    const outcomes: TaskOutcome[] = [];
    let misses = tally.runs - tally.passed + tally.failures;
    let valid = true;
    for (const index of item.indices) {
      let variant;
      try {
        variant = item.opened.variantAt(index);
      } catch (error) {
        if (!(error instanceof VariantCheckError)) throw error;
        valid = false;
        break;
      }
      const outcome = runDerived(item.opened.plan, variant, options.seed);
      outcomes.push(outcome);
      sink.progress?.(++tally.done, total, item.opened.name);
      if (!('run' in outcome) || !outcome.run.pass) misses++;
      if (options.bail !== undefined && misses >= options.bail) break;
      // Let timers (the progress bar) and stdout run now and then during a long file.
      if (performance.now() - lastYield > 100) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    await emit(valid ? gather(item.file, outcomes) : invalidFile(item));
  }
}

function fileValid(item: Extract<Planned, { opened: unknown }>): boolean {
  try {
    item.opened.check();
    return true;
  } catch (error) {
    if (error instanceof ScenarioError) return false;
    throw error;
  }
}

async function runPooled(planned: readonly Planned[], total: number, options: SuiteOptions, sink: SuiteSink, tally: Tally, emit: (r: FileResult) => Promise<void>, jobs: number): Promise<void> {
  const pool = new Tinypool({ filename: workerFile(), minThreads: jobs, maxThreads: jobs });
  const batchSize = Math.max(1, Math.min(64, Math.ceil(total / (jobs * 8))));
  const queue: Promise<FileResult>[] = [];
  const submit = (item: Planned): Promise<FileResult> => {
    if ('failure' in item) return Promise.resolve({ file: item.file, runs: [], failures: [item.failure] });
    if (options.shard !== undefined && !fileValid(item)) return Promise.resolve(invalidFile(item));
    const batches: Promise<TaskOutcome[]>[] = [];
    for (let at = 0; at < item.indices.length; at += batchSize) {
      const task: BatchTask = { plan: item.opened.plan, indices: item.indices.slice(at, at + batchSize), seed: options.seed };
      batches.push(
        (pool.run(task) as Promise<TaskOutcome[]>).then((outcomes) => {
          tally.done += outcomes.length;
          sink.progress?.(tally.done, total, item.opened.name);
          return outcomes;
        }),
      );
    }
    // A variant that fails its checks in a worker (no positions there) makes the file invalid, reported here with positions.
    return Promise.all(batches).then((all) => {
      const outcomes = all.flat();
      return outcomes.some((o) => 'unchecked' in o) ? invalidFile(item) : gather(item.file, outcomes);
    });
  };
  try {
    for (const item of planned) {
      if (tally.bailed) break;
      queue.push(submit(item));
      // Keep a few files in flight so workers stay busy, but not every file's results at once.
      while (queue.length > jobs * 2) await emit(await queue.shift()!);
    }
    while (queue.length > 0 && !tally.bailed) await emit(await queue.shift()!);
  } finally {
    await pool.destroy();
    // Batches cancelled by a bail reject; nobody waits for them.
    for (const pending of queue) pending.catch(() => undefined);
  }
}
