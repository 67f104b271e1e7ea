/**
 * Figure 3: the whole built-in scenario library × all variants — every file
 * loaded and checked, every variant's machine built, run and judged, in
 * this thread — as runs per second and total wall time. Target < 2 s.
 */
import { loadScenarioFile } from '../scenario/load.ts';
import { runVariant } from '../scenario/runner.ts';
import { BUILT_IN_LIBRARY, discoverScenarios } from '../scenario/suite.ts';
import { measure, type MeasureOptions } from './measure.ts';

/** Target for the whole library (issue 8). */
export const SCENARIO_LIBRARY_TARGET_MS = 2000;

export type ScenarioFigures =
  | { readonly measured: false; readonly note: string; readonly targetMs: number }
  | {
      readonly measured: true;
      readonly scenarios: number;
      /** Scenario × variant runs. */
      readonly runs: number;
      readonly totalMs: number;
      readonly runsPerSecond: number;
      readonly targetMs: number;
      readonly met: boolean;
    };

export const LIBRARY_DIR = BUILT_IN_LIBRARY;

/** Loads and runs every variant of every scenario once; returns how many runs. */
export function runLibraryOnce(files: readonly string[]): number {
  let runs = 0;
  for (const file of files) {
    const loaded = loadScenarioFile(file);
    for (const variant of loaded.variants) {
      runVariant(loaded, variant, 1);
      runs++;
    }
  }
  return runs;
}

export function benchScenarioLibrary(timing: MeasureOptions, dir = LIBRARY_DIR): ScenarioFigures {
  const files = discoverScenarios([dir]);
  let runs = 0;
  const timed = measure(() => void (runs = runLibraryOnce(files)), timing);
  return {
    measured: true,
    scenarios: files.length,
    runs,
    totalMs: timed.medianMs,
    runsPerSecond: Math.round((runs / timed.medianMs) * 1000),
    targetMs: SCENARIO_LIBRARY_TARGET_MS,
    met: timed.medianMs < SCENARIO_LIBRARY_TARGET_MS,
  };
}
