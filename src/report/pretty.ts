/** The isolation matrix for terminals: one table per scenario, variants × verdict, ✓/✗ against expectation. */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { RunResult, SuiteResult } from '../scenario/results.ts';
import { describeVariant, expectationText, formatValue, shortAxis, verdictText } from './variant-text.ts';

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
  if (suite.seeds !== undefined) out.push(...renderRaces(suite.seeds, paint));
  const passed = suite.runs.filter((r) => r.pass).length;
  const summary = `${suite.runs.length} runs, ${passed} as expected, ${suite.runs.length - passed} not${suite.failures.length ? `, ${suite.failures.length} scenario error(s)` : ''} (seed ${suite.seed})`;
  out.push(passed === suite.runs.length && suite.failures.length === 0 ? paint.green(summary) : paint.red(summary));
  return `${out.join('\n')}\n`;
}

/** `--seeds A..B`: which runs changed with the seed, and how. */
function renderRaces(seeds: NonNullable<SuiteResult['seeds']>, paint: ReturnType<typeof pc.createColors>): string[] {
  const range = `seeds ${seeds.from}..${seeds.to}`;
  if (seeds.races.length === 0) return [paint.green(`${range}: no run depends on the seed`), ''];
  const out = [paint.yellow(`${range}: ${seeds.races.length} run(s) depend on the seed (a race the attack can win)`)];
  for (const race of seeds.races) {
    out.push(`  ${race.scenario} [${describeVariant(race.variant)}]`);
    const bySignature = new Map<string, number[]>();
    for (const o of race.outcomes) {
      const text = `${o.verdict}${o.breaches.length ? `: ${o.breaches.join(', ')}` : ''}${o.stopped.length ? ` (stopped: ${o.stopped.join(', ')})` : ''}${o.pass ? '' : ' ✗'}`;
      bySignature.set(text, [...(bySignature.get(text) ?? []), o.seed]);
    }
    for (const [text, list] of bySignature) out.push(`    seeds ${list.join(',')}: ${text}`);
  }
  if (seeds.failedSeeds.length > 0) out.push(paint.red(`  not as expected under seed(s) ${seeds.failedSeeds.join(', ')}`));
  out.push('');
  return out;
}
