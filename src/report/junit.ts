/**
 * JUnit XML: one testsuite per scenario file, one testcase per variant.
 * A failed expectation is a <failure>; an invalid or crashed scenario is an
 * <error> (CI tools tell the two apart, as Vitest's reporter does).
 */
import { describeVariant, expectationText, verdictText } from './variant-text.ts';
import type { RunResult, ScenarioFailure, SuiteResult } from '../scenario/results.ts';

export function renderJunit(suite: SuiteResult): string {
  const files = new Map<string, { runs: RunResult[]; failures: ScenarioFailure[]; name: string }>();
  const entry = (file: string, name: string) => {
    let e = files.get(file);
    if (e === undefined) files.set(file, (e = { runs: [], failures: [], name }));
    return e;
  };
  for (const run of suite.runs) entry(run.file, run.scenario).runs.push(run);
  for (const failure of suite.failures) entry(failure.file, failure.scenario ?? failure.file).failures.push(failure);
  return junitDocument([...files].map(([file, e]) => junitSuite(file, e.name, e.runs, e.failures)));
}

/** One file's <testsuite>, with the counts the document header sums. */
export interface JunitSuite {
  readonly text: string;
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
}

export function junitSuite(file: string, name: string, runs: readonly RunResult[], failures: readonly ScenarioFailure[]): JunitSuite {
  const failed = runs.filter((r) => !r.pass).length;
  const lines = [`  <testsuite name="${xml(name)}" file="${xml(file)}" tests="${runs.length + failures.length}" failures="${failed}" errors="${failures.length}">`];
  for (const run of runs) {
    const testName = `${run.scenario} [${describeVariant(run.variant)}]`;
    if (run.pass) {
      // A run a Linux gate stopped passed without the attack running: say so (a property, not a failure).
      if (run.refusedBy === null) lines.push(`    <testcase classname="${xml(run.scenario)}" name="${xml(testName)}"/>`);
      else lines.push(`    <testcase classname="${xml(run.scenario)}" name="${xml(testName)}"><properties><property name="refused-by" value="${xml(run.refusedBy)}"/></properties></testcase>`);
      continue;
    }
    const breaches = run.breaches.map((b) => `${b.kind}: ${b.detail}`);
    const body = [...run.differences, ...(run.expectation.because === null ? [] : [`because: ${run.expectation.because}`]), ...(breaches.length > 0 ? breaches : ['no breach: every attempt was stopped'])].join('\n');
    lines.push(`    <testcase classname="${xml(run.scenario)}" name="${xml(testName)}">`);
    lines.push(`      <failure message="${xml(`expected ${expectationText(run.expectation)}, got ${verdictText(run)}`)}" type="expectation">${xml(body)}</failure>`);
    lines.push('    </testcase>');
  }
  for (const failure of failures) {
    const testName = failure.variant === null ? failure.file : `${failure.scenario} [${describeVariant(failure.variant)}]`;
    lines.push(`    <testcase classname="${xml(failure.scenario ?? failure.file)}" name="${xml(testName)}">`);
    lines.push(`      <error message="${xml(failure.kind === 'invalid' ? 'invalid scenario' : 'internal error')}" type="${failure.kind}">${xml(failure.message)}</error>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  return { text: lines.join('\n'), tests: runs.length + failures.length, failures: failed, errors: failures.length };
}

/** The document: the header's totals are the sums of its suites'. */
export function junitDocument(suites: readonly JunitSuite[]): string {
  const sum = (key: 'tests' | 'failures' | 'errors') => suites.reduce((n, s) => n + s[key], 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tlplab" tests="${sum('tests')}" failures="${sum('failures')}" errors="${sum('errors')}">`,
    ...suites.map((s) => s.text),
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry. */
export function xml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
