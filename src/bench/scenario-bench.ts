/**
 * Figure 3: the whole built-in scenario library × all variants — runs per
 * second and total wall time, target < 2 s. Not measured yet: the scenario
 * runner is being written. To add it, make `benchScenarioLibrary` run the
 * library and return `{ measured: true, ... }`; the bench command and its
 * output already carry the slot.
 */

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

export function benchScenarioLibrary(): ScenarioFigures {
  return { measured: false, note: 'scenario library: not measured yet (the scenario runner is not in place)', targetMs: SCENARIO_LIBRARY_TARGET_MS };
}
