/**
 * The JSON contract of DESIGN.md §4 (schema tlplab/run-v1). Wall-clock
 * figures only under `meta`. `jsonStream` writes the same bytes as
 * `renderJson` run by run, so a sweep's output never sits in memory whole.
 */
import type { RunResult, ScenarioFailure, SuiteResult } from '../scenario/results.ts';

export function runJson(run: RunResult): unknown {
  return {
    scenario: run.scenario,
    file: run.file,
    variant: run.variant,
    verdict: run.verdict,
    expected: run.expected,
    expectation: run.expectation,
    pass: run.pass,
    differences: run.differences,
    refusedBy: run.refusedBy,
    breaches: run.breaches,
    stopped: run.stopped,
    gates: run.gates,
    tlps: run.tlps,
  };
}

export function failureJson(f: ScenarioFailure): unknown {
  return {
    file: f.file,
    scenario: f.scenario,
    kind: f.kind,
    variant: f.variant,
    message: f.message,
    diagnostics: f.diagnostics.map((d) => ({ line: d.line, column: d.column, code: d.code, message: d.message })),
  };
}

export function renderJson(suite: SuiteResult, options: { meta?: boolean } = {}): string {
  const document = {
    schema: 'tlplab/run-v1',
    seed: suite.seed,
    runs: suite.runs.map(runJson),
    errors: suite.failures.map(failureJson),
    ...(suite.seeds === undefined ? {} : { seeds: suite.seeds }),
    ...(options.meta === false ? {} : { meta: suite.meta }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** An element of a top-level array, as JSON.stringify(document, null, 2) indents it. */
function element(value: unknown): string {
  return `    ${JSON.stringify(value, null, 2).replace(/\n/g, '\n    ')}`;
}

/** Writes the run-v1 document piece by piece; the text equals renderJson's for the same results. */
export function jsonStream(write: (text: string) => void, seed: number): { run(run: RunResult): void; end(failures: readonly ScenarioFailure[], meta?: SuiteResult['meta'], seeds?: SuiteResult['seeds']): void } {
  let runs = 0;
  write(`{\n  "schema": "tlplab/run-v1",\n  "seed": ${JSON.stringify(seed)},\n  "runs": [`);
  return {
    run(run) {
      write(`${runs++ === 0 ? '\n' : ',\n'}${element(runJson(run))}`);
    },
    end(failures, meta, seeds) {
      write(runs === 0 ? '],\n' : '\n  ],\n');
      write(failures.length === 0 ? '  "errors": []' : `  "errors": [\n${failures.map((f) => element(failureJson(f))).join(',\n')}\n  ]`);
      if (seeds !== undefined) write(`,\n  "seeds": ${JSON.stringify(seeds, null, 2).replace(/\n/g, '\n  ')}`);
      write(meta === undefined ? '\n}\n' : `,\n  "meta": ${JSON.stringify(meta, null, 2).replace(/\n/g, '\n  ')}\n}\n`);
    },
  };
}
