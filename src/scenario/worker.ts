/** One unit of parallel work: a scenario file's variant, run in a worker thread. */
import { loadScenarioFile } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import { runVariant } from './runner.ts';
import { runStory } from './run-story.ts';

export interface VariantTask {
  readonly file: string;
  /** Index into the loaded scenario's variants. */
  readonly variant: number;
  readonly seed: number;
  /** Also tell the run TLP by TLP (RunResult.story), for reports. */
  readonly story?: boolean;
}

export type TaskOutcome = { readonly run: RunResult } | { readonly failure: ScenarioFailure };

export function runTask(task: VariantTask): TaskOutcome {
  const loaded = loadScenarioFile(task.file);
  const variant = loaded.variants[task.variant]!;
  try {
    const run = runVariant(loaded, variant, task.seed);
    return { run: task.story ? { ...run.result, story: runStory(loaded, variant, run) } : run.result };
  } catch (error) {
    const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
    return {
      failure: { file: task.file, scenario: loaded.name, kind: userFacing ? 'invalid' : 'crashed', message: error instanceof Error ? error.message : String(error), diagnostics: [], variant: variant.assignment },
    };
  }
}
