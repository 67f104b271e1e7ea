/** One unit of parallel work: a scenario file's variant, run in a worker thread. */
import { loadScenarioFile } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import { runVariant } from './runner.ts';

export interface VariantTask {
  readonly file: string;
  /** Index into the loaded scenario's variants. */
  readonly variant: number;
  readonly seed: number;
}

export type TaskOutcome = { readonly run: RunResult } | { readonly failure: ScenarioFailure };

export function runTask(task: VariantTask): TaskOutcome {
  const loaded = loadScenarioFile(task.file);
  const variant = loaded.variants[task.variant]!;
  try {
    return { run: runVariant(loaded, variant, task.seed).result };
  } catch (error) {
    const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
    return {
      failure: { file: task.file, scenario: loaded.name, kind: userFacing ? 'invalid' : 'crashed', message: error instanceof Error ? error.message : String(error), diagnostics: [], variant: variant.assignment },
    };
  }
}
