/** The isolation matrix for terminals: one table per scenario, variants × verdict, ✓/✗ against expectation. */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { RunResult, SuiteResult } from '../scenario/results.ts';
import { expectationText, formatValue, shortAxis, verdictText } from './variant-text.ts';

export function renderPretty(suite: SuiteResult, options: { color: boolean; verbose?: boolean }): string {
  const paint = pc.createColors(options.color);
  const out: string[] = [];
  const byScenario = new Map<string, RunResult[]>();
  for (const run of suite.runs) {
    const list = byScenario.get(run.file) ?? [];
    list.push(run);
    byScenario.set(run.file, list);
  }
  for (const runs of byScenario.values()) {
    const first = runs[0]!;
    out.push(paint.bold(`${first.scenario} — ${first.title}`));
    const axes = Object.keys(first.variant);
    const table = new Table({
      head: [...axes.map(shortAxis), 'verdict', 'expected', ''],
      style: options.color ? { head: ['cyan'] } : { head: [], border: [] },
    });
    for (const run of runs) {
      const verdict = run.verdict === 'breached' ? paint.red(verdictText(run)) : paint.green(verdictText(run));
      table.push([...axes.map((a) => formatValue(run.variant[a])), verdict, run.expected, run.pass ? paint.green('✓') : paint.red('✗')]);
    }
    out.push(table.toString());
    for (const run of runs.filter((r) => !r.pass || options.verbose)) {
      if (run.pass && !options.verbose) continue;
      const label = axes.map((a) => `${shortAxis(a)}=${formatValue(run.variant[a])}`).join(' ') || 'base';
      out.push(`  ${run.pass ? ' ' : paint.red('✗')} ${label}: expected ${expectationText(run.expectation)}, got ${verdictText(run)}`);
      for (const difference of run.differences) out.push(`      ${paint.red('≠')} ${difference}`);
      if (!run.pass && run.expectation.because !== null) out.push(`      because (as the scenario says): ${run.expectation.because}`);
      for (const breach of run.breaches) out.push(`      ${breach.kind}: ${breach.detail} [evidence ${breach.evidence.join(',')}]`);
      for (const stop of run.stopped.slice(0, 5)) out.push(`      stopped: ${stop.tlp === null ? 'host' : `tlp#${stop.tlp}`} ${stop.outcome} (${stop.reason}${stop.faultCode ? ` ${stop.faultCode}` : ''}) at ${stop.at}`);
    }
    out.push('');
  }
  for (const failure of suite.failures) {
    out.push(paint.red(failure.kind === 'invalid' ? `invalid scenario ${failure.file}:` : `internal error in ${failure.file}:`));
    out.push(failure.message.split('\n').map((l) => `  ${l}`).join('\n'));
    out.push('');
  }
  const passed = suite.runs.filter((r) => r.pass).length;
  const summary = `${suite.runs.length} runs, ${passed} as expected, ${suite.runs.length - passed} not${suite.failures.length ? `, ${suite.failures.length} scenario error(s)` : ''} (seed ${suite.seed})`;
  out.push(passed === suite.runs.length && suite.failures.length === 0 ? paint.green(summary) : paint.red(summary));
  return `${out.join('\n')}\n`;
}
