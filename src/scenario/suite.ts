/**
 * Runs scenario files: discovers them, loads and checks each, runs every
 * variant, and gathers results and failures (an invalid file or an internal
 * error in one scenario does not stop the others).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ScenarioError } from './diagnostics.ts';
import { loadScenarioFile, type LoadedScenario, type ScenarioVariant } from './load.ts';
import type { RunResult, ScenarioFailure } from './results.ts';
import { runVariant } from './runner.ts';
import { sameValue } from './variants.ts';

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

export interface FileOutcome {
  readonly runs: RunResult[];
  readonly failures: ScenarioFailure[];
}

/** Loads and runs one scenario file. */
export function runScenarioFile(file: string, seed: number, filter: VariantFilter = {}): FileOutcome {
  let loaded: LoadedScenario;
  try {
    loaded = loadScenarioFile(file);
  } catch (error) {
    if (error instanceof ScenarioError) return { runs: [], failures: [{ file, scenario: null, kind: 'invalid', message: error.message, diagnostics: error.diagnostics, variant: null }] };
    throw error;
  }
  const runs: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  for (const variant of selectVariants(loaded, filter)) {
    try {
      runs.push(runVariant(loaded, variant, seed).result);
    } catch (error) {
      const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ file, scenario: loaded.name, kind: userFacing ? 'invalid' : 'crashed', message, diagnostics: [], variant: variant.assignment });
    }
  }
  return { runs, failures };
}
