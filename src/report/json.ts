/** The JSON contract of DESIGN.md §4 (schema tlplab/run-v1). Wall-clock figures only under `meta`. */
import type { SuiteResult } from '../scenario/results.ts';

export function renderJson(suite: SuiteResult, options: { meta?: boolean } = {}): string {
  const document = {
    schema: 'tlplab/run-v1',
    seed: suite.seed,
    runs: suite.runs.map((run) => ({
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
    })),
    errors: suite.failures.map((f) => ({
      file: f.file,
      scenario: f.scenario,
      kind: f.kind,
      variant: f.variant,
      message: f.message,
      diagnostics: f.diagnostics.map((d) => ({ line: d.line, column: d.column, code: d.code, message: d.message })),
    })),
    ...(suite.seeds === undefined ? {} : { seeds: suite.seeds }),
    ...(options.meta === false ? {} : { meta: suite.meta }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
