/**
 * One unit of parallel work: a batch of one scenario's variants, run in a
 * worker thread. The task is plain data — the checked plan, not a file
 * name — so a worker never re-reads or re-validates a file.
 */
import { variantOf, type ScenarioPlan } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import { runVariant } from './runner.ts';

export interface BatchTask {
  readonly plan: ScenarioPlan;
  /** Variant indices of the plan's matrix. */
  readonly indices: readonly number[];
  readonly seed: number;
}

export type TaskOutcome = { readonly run: RunResult } | { readonly failure: ScenarioFailure };

/** Runs one variant of a checked plan; an error while simulating is a failure of that variant, not of the suite. */
export function runIndex(plan: ScenarioPlan, index: number, seed: number): TaskOutcome {
  let variant;
  try {
    variant = variantOf(plan, index);
    return { run: runVariant(plan, variant, seed).result };
  } catch (error) {
    const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
    return {
      failure: {
        file: plan.file,
        scenario: plan.entry.name,
        kind: userFacing ? 'invalid' : 'crashed',
        message: error instanceof Error ? error.message : String(error),
        diagnostics: [],
        variant: variant?.assignment ?? null,
      },
    };
  }
}

export function runBatch(task: BatchTask): TaskOutcome[] {
  return task.indices.map((index) => runIndex(task.plan, index, task.seed));
}

export default runBatch;
