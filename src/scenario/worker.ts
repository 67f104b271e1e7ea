/**
 * One unit of parallel work: a batch of one scenario's variants, run in a
 * worker thread. The task is plain data — the checked plan, not a file
 * name — so a worker never re-reads or re-validates a file.
 */
import { VariantCheckError, variantOf, type ScenarioPlan, type ScenarioVariant } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import { runVariant } from './runner.ts';
import { runStory } from './run-story.ts';

export interface BatchTask {
  readonly plan: ScenarioPlan;
  /** Variant indices of the plan's matrix. */
  readonly indices: readonly number[];
  readonly seed: number;
  /** Also tell each run TLP by TLP (RunResult.story), for reports. */
  readonly story?: boolean;
}

/** A run, a failure while simulating, or "this variant fails its checks" (the caller reports the file with positions). */
export type TaskOutcome = { readonly run: RunResult } | { readonly failure: ScenarioFailure } | { readonly unchecked: number };

/** Runs one derived variant; an error while simulating is a failure of that variant, not of the suite. */
export function runDerived(plan: ScenarioPlan, variant: ScenarioVariant, seed: number, story = false): TaskOutcome {
  try {
    const run = runVariant(plan, variant, seed);
    return { run: story ? { ...run.result, story: runStory(plan, variant, run) } : run.result };
  } catch (error) {
    const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
    return {
      failure: {
        file: plan.file,
        scenario: plan.entry.name,
        kind: userFacing ? 'invalid' : 'crashed',
        message: error instanceof Error ? error.message : String(error),
        diagnostics: [],
        variant: variant.assignment,
      },
    };
  }
}

/** Derives and runs variant `index` of a plan (in a worker: no positions, so a failed check is only flagged). */
export function runIndex(plan: ScenarioPlan, index: number, seed: number, story = false): TaskOutcome {
  let variant: ScenarioVariant;
  try {
    variant = variantOf(plan, index);
  } catch (error) {
    if (error instanceof VariantCheckError) return { unchecked: index };
    throw error;
  }
  return runDerived(plan, variant, seed, story);
}

export function runBatch(task: BatchTask): TaskOutcome[] {
  return task.indices.map((index) => runIndex(task.plan, index, task.seed, task.story === true));
}

export default runBatch;
