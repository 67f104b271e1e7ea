/**
 * Runs scenario files: discovers them, loads and checks each, runs every
 * variant, and gathers results and failures (an invalid file or an internal
 * error in one scenario does not stop the others).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ScenarioError } from './diagnostics.ts';
import Tinypool from 'tinypool';
import { loadScenarioFile, type LoadedScenario, type ScenarioVariant } from './load.ts';
import { runTask, type TaskOutcome, type VariantTask } from './worker.ts';
import type { RunResult, ScenarioFailure, ScenarioInfo } from './results.ts';
import { sameValue } from './variants.ts';

/** The attack library shipped with tlplab (`tlplab run` without paths). */
export const BUILT_IN_LIBRARY = fileURLToPath(new URL('../../scenarios', import.meta.url));

export class SuiteInputError extends Error {
  readonly userFacing = true;
  readonly code = 'NO_SCENARIOS';
}

/** Scenario files under the given paths: directories are searched recursively for *.yaml / *.yml, sorted. */
export function discoverScenarios(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (path: string): void => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new SuiteInputError(`no such file or directory: ${path}`);
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory() || /\.ya?ml$/i.test(entry)) walk(child);
      }
    } else {
      files.push(path);
    }
  };
  for (const path of paths) walk(path);
  if (files.length === 0) throw new SuiteInputError(`no scenario files (*.yaml) in ${paths.join(', ')}`);
  return files;
}

/** `--variant axis=value` filters: a variant runs when every given axis has that value. */
export type VariantFilter = Readonly<Record<string, string>>;

export function selectVariants(loaded: LoadedScenario, filter: VariantFilter): ScenarioVariant[] {
  // Values are read as YAML, as in the file: "on", "[SV, RR]", "[]", "0x10".
  const wanted = Object.entries(filter).map(([axis, text]) => [axis, flowValue(text)] as const);
  return loaded.variants.filter((v) => wanted.every(([axis, value]) => !(axis in v.assignment) || sameValue(v.assignment[axis], value)));
}

function flowValue(text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface SuiteOptions {
  readonly seed: number;
  readonly filter?: VariantFilter;
  /** Worker threads; 1 runs everything in this thread. */
  readonly jobs?: number;
  /** This process runs shard `index` (1-based) of `count`. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Tell each run TLP by TLP (RunResult.story) and describe each scenario, for reports. */
  readonly stories?: boolean;
}

/**
 * The files of shard i/n: contiguous slices of the sorted list, as test
 * runners shard (vitest --shard), so each CI job gets a stable share.
 */
export function shardOf<T>(files: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (shard === undefined) return [...files];
  const from = Math.floor(((shard.index - 1) * files.length) / shard.count);
  const to = Math.floor((shard.index * files.length) / shard.count);
  return files.slice(from, to);
}

/**
 * Runs every selected variant of every file. Results come back in file and
 * variant order whatever the number of workers, so output does not depend
 * on --jobs.
 */
export async function runSuite(files: readonly string[], options: SuiteOptions): Promise<{ runs: RunResult[]; failures: ScenarioFailure[]; scenarios: ScenarioInfo[] }> {
  const tasks: VariantTask[] = [];
  const scenarios: ScenarioInfo[] = [];
  const slots: (TaskOutcome | ScenarioFailure)[] = [];
  const order: (() => TaskOutcome | ScenarioFailure)[] = [];
  for (const file of shardOf(files, options.shard)) {
    let loaded: LoadedScenario;
    try {
      loaded = loadScenarioFile(file);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      const failure: ScenarioFailure = { file, scenario: null, kind: 'invalid', message: error.message, diagnostics: error.diagnostics, variant: null };
      order.push(() => failure);
      continue;
    }
    scenarios.push({ file, name: loaded.name, title: loaded.title, summary: loaded.summary, sources: loaded.sources, axes: loaded.axes.map((a) => a.name), rules: loaded.rules });
    for (const variant of selectVariants(loaded, options.filter ?? {})) {
      const task = { file, variant: loaded.variants.indexOf(variant), seed: options.seed, ...(options.stories ? { story: true } : {}) };
      const at = tasks.push(task) - 1;
      order.push(() => slots[at]!);
    }
  }
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, tasks.length));
  if (jobs === 1) {
    tasks.forEach((task, i) => (slots[i] = runTask(task)));
  } else {
    const pool = new Tinypool({ filename: new URL('./worker-entry.js', import.meta.url).href, minThreads: jobs, maxThreads: jobs });
    try {
      const outcomes = await Promise.all(tasks.map((task) => pool.run(task) as Promise<TaskOutcome>));
      outcomes.forEach((outcome, i) => (slots[i] = outcome));
    } finally {
      await pool.destroy();
    }
  }
  const runs: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  for (const take of order) {
    const outcome = take();
    if ('run' in outcome) runs.push(outcome.run);
    else if ('failure' in outcome) failures.push(outcome.failure);
    else failures.push(outcome);
  }
  return { runs, failures, scenarios };
}
