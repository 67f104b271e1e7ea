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
import { runBatch, runDerived, type BatchTask, type TaskOutcome } from './worker.ts';

export type Planned = { readonly file: string; readonly failure: ScenarioFailure } | { readonly file: string; readonly opened: OpenedScenario; readonly indices: readonly number[] };

/**
 * Below this many runs the pool is not started. Measured on the reference
 * machine (2 vCPUs, BENCHMARKS.md figure 7): a run costs ~1 ms cold and
 * ~0.4 ms once V8 has optimised the simulator, each worker pays that
 * warm-up again, and two busy threads there give ~1.2× the throughput of
 * one, so `--jobs 2` breaks even near 16 000 runs. TLPLAB_POOL_MIN_RUNS
 * overrides it (benchmarks, machines with real cores to spare).
 */
export const POOL_MIN_RUNS = Number(process.env.TLPLAB_POOL_MIN_RUNS ?? 16_000);

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

function gather(item: Extract<Planned, { opened: unknown }>, outcomes: readonly TaskOutcome[]): FileResult {
  const runs: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  for (const outcome of outcomes) {
    if ('run' in outcome) runs.push(outcome.run);
    else if ('failure' in outcome) failures.push(outcome.failure);
  }
  return { file: item.file, runs, failures, scenario: item.opened.info };
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
      const outcome = runDerived(item.opened.plan, variant, options.seed, options.stories === true);
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
    await emit(valid ? gather(item, outcomes) : invalidFile(item));
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

interface Batch {
  readonly indices: readonly number[];
  outcomes?: TaskOutcome[];
}

interface Slot {
  readonly item: Planned;
  readonly batches: Batch[];
  remaining: number;
  /** Index of its first batch in the queue. */
  first: number;
  /** Set when the file is known before any run (read failure, or a shard's whole-file check). */
  readonly result?: FileResult;
}

/**
 * Worker threads and this thread share the work: batches of one file's
 * variants go to jobs − 1 workers as they free up, and this thread runs the
 * next batch itself meanwhile, so a pool that cannot pay (no spare core)
 * costs little more than running alone. Files are handed on in order as
 * their last batch lands; at most `jobs` batches are ahead of the first
 * unfinished file.
 */
async function runPooled(planned: readonly Planned[], total: number, options: SuiteOptions, sink: SuiteSink, tally: Tally, emit: (r: FileResult) => Promise<void>, jobs: number): Promise<void> {
  const workers = jobs - 1;
  const pool = new Tinypool({ filename: workerFile(), minThreads: workers, maxThreads: workers });
  const batchSize = Math.max(1, Math.min(32, Math.ceil(total / (jobs * 16))));
  const slots: Slot[] = planned.map((item) => {
    if ('failure' in item) return { item, batches: [], remaining: 0, first: 0, result: { file: item.file, runs: [], failures: [item.failure] } };
    if (options.shard !== undefined && !fileValid(item)) return { item, batches: [], remaining: 0, first: 0, result: invalidFile(item) };
    const batches: Batch[] = [];
    for (let at = 0; at < item.indices.length; at += batchSize) batches.push({ indices: item.indices.slice(at, at + batchSize) });
    return { item, batches, remaining: batches.length, first: 0 };
  });
  const queue: { slot: Slot; batch: Batch }[] = [];
  for (const slot of slots) {
    slot.first = queue.length;
    for (const batch of slot.batches) queue.push({ slot, batch });
  }
  let next = 0;
  let inflight = 0;
  let wake: (() => void) | null = null;
  const finish = (slot: Slot, batch: Batch, outcomes: TaskOutcome[]) => {
    batch.outcomes = outcomes;
    slot.remaining--;
    tally.done += outcomes.length;
    sink.progress?.(tally.done, total, (slot.item as { opened: OpenedScenario }).opened.name);
  };
  const dispatch = () => {
    // Two batches per worker: the next is queued while this thread is busy with its own batch.
    while (inflight < workers * 2 && next < queue.length && !tally.bailed) {
      const { slot, batch } = queue[next++]!;
      const { opened } = slot.item as { opened: OpenedScenario };
      inflight++;
      const task: BatchTask = { plan: opened.plan, indices: batch.indices, seed: options.seed, story: options.stories === true };
      void (pool.run(task) as Promise<TaskOutcome[]>).then(
        (outcomes) => {
          inflight--;
          finish(slot, batch, outcomes);
          dispatch();
          wake?.();
        },
        (error: unknown) => {
          // A worker that died (not a run that failed: those come back as outcomes) crashes its batch.
          inflight--;
          const { opened } = slot.item as { opened: OpenedScenario };
          const message = error instanceof Error ? error.message : String(error);
          finish(slot, batch, [{ failure: { file: opened.file, scenario: opened.name, kind: 'crashed', message: `worker thread failed: ${message}`, diagnostics: [], variant: null } }]);
          wake?.();
        },
      );
    }
  };
  const resultOf = (slot: Slot): FileResult => {
    if (slot.result !== undefined) return slot.result;
    const outcomes = slot.batches.flatMap((b) => b.outcomes!);
    const item = slot.item as Extract<Planned, { opened: unknown }>;
    // A variant that fails its checks (no positions in workers) makes the file invalid, reported here with positions.
    return outcomes.some((o) => 'unchecked' in o) ? invalidFile(item) : gather(item, outcomes);
  };
  try {
    dispatch();
    let emitted = 0;
    while (emitted < slots.length && !tally.bailed) {
      const slot = slots[emitted]!;
      if (slot.remaining === 0) {
        await emit(resultOf(slot));
        slot.batches.length = 0; // released
        emitted++;
        continue;
      }
      // Run ahead only as far as the workers are: memory holds a few batches past the first unfinished file.
      if (next < queue.length && next - slot.first < (jobs + 1) * 4 + slot.batches.length) {
        const { slot: mine, batch } = queue[next++]!;
        const { opened } = mine.item as { opened: OpenedScenario };
        finish(mine, batch, runBatch({ plan: opened.plan, indices: batch.indices, seed: options.seed, story: options.stories === true }));
        dispatch();
        await yieldToEventLoop();
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
  } finally {
    await pool.destroy();
  }
}
