/** The isolation matrix for terminals: one table per scenario, variants × verdict, ✓/✗ against expectation. */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { RunResult, ScenarioFailure, SuiteResult } from '../scenario/results.ts';
import { describeVariant, expectationText, formatValue, shortAxis, verdictText } from './variant-text.ts';

export interface PrettyOptions {
  readonly color: boolean;
  readonly verbose?: boolean;
}

export function renderPretty(suite: SuiteResult, options: PrettyOptions): string {
  const byScenario = new Map<string, RunResult[]>();
  for (const run of suite.runs) {
    const list = byScenario.get(run.file) ?? [];
    list.push(run);
    byScenario.set(run.file, list);
  }
  const out = [...byScenario.values()].map((runs) => renderPrettyFile(runs, options));
  const passed = suite.runs.filter((r) => r.pass).length;
  out.push(renderPrettyEnd(suite.failures, { seed: suite.seed, runs: suite.runs.length, passed, seeds: suite.seeds }, options));
  return out.join('');
}

/** One scenario's table, and the runs that missed their expectation (all with verbose). */
export function renderPrettyFile(runs: readonly RunResult[], options: PrettyOptions): string {
  if (runs.length === 0) return '';
  const paint = pc.createColors(options.color);
  const out: string[] = [];
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
  for (const run of runs) {
    if (run.pass && !options.verbose) continue;
    const label = axes.map((a) => `${shortAxis(a)}=${formatValue(run.variant[a])}`).join(' ') || 'base';
    out.push(`  ${run.pass ? ' ' : paint.red('✗')} ${label}: expected ${expectationText(run.expectation)}, got ${verdictText(run)}`);
    for (const difference of run.differences) out.push(`      ${paint.red('≠')} ${difference}`);
    if (!run.pass && run.expectation.because !== null) out.push(`      because (as the scenario says): ${run.expectation.because}`);
    for (const breach of run.breaches) out.push(`      ${breach.kind}: ${breach.detail} [evidence ${breach.evidence.join(',')}]`);
    for (const stop of run.stopped.slice(0, 5)) out.push(`      stopped: ${stop.tlp === null ? 'host' : `tlp#${stop.tlp}`} ${stop.outcome} (${stop.reason}${stop.faultCode ? ` ${stop.faultCode}` : ''}) at ${stop.at}`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

export interface PrettyTotals {
  readonly seed: number;
  readonly runs: number;
  readonly passed: number;
  /** Planned runs --bail left undone. */
  readonly notRun?: number;
  /** Scenarios that --variant / -t selected nothing of. */
  readonly unselected?: number;
  /** --seeds A..B: the runs that depend on the seed. */
  readonly seeds?: SuiteResult['seeds'];
}

/** Scenario errors, then the summary line. */
export function renderPrettyEnd(failures: readonly ScenarioFailure[], totals: PrettyTotals, options: PrettyOptions): string {
  const paint = pc.createColors(options.color);
  const out: string[] = [];
  for (const failure of failures) {
    out.push(paint.red(failure.kind === 'invalid' ? `invalid scenario ${failure.file}:` : `internal error in ${failure.file}:`));
    out.push(failure.message.split('\n').map((l) => `  ${l}`).join('\n'));
    out.push('');
  }
  if (totals.seeds !== undefined) out.push(...renderRaces(totals.seeds, paint));
  if (totals.unselected) out.push(`${totals.unselected} scenario(s) not run: --variant / -t selects none of their variants`);
  if (totals.notRun) out.push(paint.red(`--bail: stopped after the first failure; ${totals.notRun} planned run(s) not run`));
  const { runs, passed } = totals;
  const summary = `${runs} runs, ${passed} as expected, ${runs - passed} not${failures.length ? `, ${failures.length} scenario error(s)` : ''} (seed ${totals.seed})`;
  out.push(passed === runs && failures.length === 0 && !totals.notRun ? paint.green(summary) : paint.red(summary));
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
