/**
 * `--markdown out.md`: the matrix per scenario and, for every run that
 * missed its expectation, the evidence — breaches with bytes and trace
 * records, each TLP's path with the rule that decided each hop — so the
 * file can be a CI job summary (e.g. appended to $GITHUB_STEP_SUMMARY).
 * Every scenario string is escaped (GitHub renders inline HTML).
 */
import type { RunResult, SuiteResult } from '../scenario/results.ts';
import type { RunStory } from '../scenario/run-story.ts';
import { md } from './escape.ts';
import { effectText } from './explain.ts';
import { endingMark } from './svg.ts';
import { describeVariant, formatValue, shortAxis } from './variant-text.ts';

export function renderMarkdown(suite: SuiteResult): string {
  const passed = suite.runs.filter((r) => r.pass).length;
  const ok = passed === suite.runs.length && suite.failures.length === 0;
  const out = [
    `# tlplab isolation matrix ${ok ? '✅' : '❌'}`,
    '',
    `${suite.runs.length} runs, ${passed} as expected${passed < suite.runs.length ? `, **${suite.runs.length - passed} not**` : ''}${suite.failures.length ? `, **${suite.failures.length} scenario error(s)**` : ''} (seed ${suite.seed})`,
    '',
  ];
  const groups = new Map<string, RunResult[]>();
  for (const run of suite.runs) groups.set(run.file, [...(groups.get(run.file) ?? []), run]);
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const axes = Object.keys(first.variant);
    const misses = runs.filter((r) => !r.pass);
    out.push(`## ${misses.length ? '❌' : '✅'} ${md(first.scenario)} — ${md(first.title)}`, '');
    out.push(`| ${[...axes.map(shortAxis), 'verdict', 'expected', ''].map(md).join(' | ')} |`);
    out.push(`|${[...axes, 'v', 'e', 'p'].map(() => '---').join('|')}|`);
    for (const run of runs) out.push(`| ${[...axes.map((a) => formatValue(run.variant[a])), run.verdict, run.expected].map(md).join(' | ')} | ${run.pass ? '✓' : '**✗**'} |`);
    out.push('');
    for (const run of misses) out.push(...evidence(run));
  }
  for (const f of suite.failures) out.push(`## ❌ ${f.kind === 'invalid' ? 'invalid scenario' : 'internal error'}: ${md(f.file)}`, '', '```', f.message.replace(/```/g, "'''"), '```', '');
  return `${out.join('\n')}\n`;
}

/** What a failing row shows: why it was expected otherwise, what happened, and the path of every TLP that mattered. */
function evidence(run: RunResult): string[] {
  const out = [`### ✗ ${md(describeVariant(run.variant))}: expected ${run.expected}, got ${run.verdict}`, ''];
  const story = run.story;
  if (story?.because) out.push(`Expected because: ${md(story.because)}`, '');
  for (const d of run.differences) out.push(`- ≠ ${md(d)}`);
  for (const g of run.gates.filter((x) => !x.passed)) out.push(`- gate **${g.gate}** ${g.enforced ? 'refused the assignment' : 'would refuse (not enforced)'}: ${md(g.detail)}`);
  for (const b of run.breaches) out.push(`- **${md(b.kind)}** (${md(b.attacker)} → ${md(b.victim)}): ${md(b.detail)} — trace records ${b.evidence.join(', ')}`);
  if (run.breaches.length === 0) out.push(`- no breach: every attempt was stopped (${run.stopped.map((s) => `${s.tlp === null ? 'the host' : `TLP ${s.tlp}`} ${s.outcome} at ${md(s.at)}: ${md(s.reason)}${s.faultCode ? ` ${s.faultCode}` : ''}`).join('; ') || 'nothing reached the fabric'})`);
  out.push('');
  if (story !== undefined) out.push(...paths(story));
  return out;
}

function paths(story: RunStory): string[] {
  const relevant = new Set<number | null>([...story.breaches.flatMap((b) => b.tlps), ...story.stopped.map((s) => s.tlp)]);
  const tlps = story.tlps.filter((t) => relevant.has(t.tlp));
  if (tlps.length === 0) return [];
  const out = ['<details><summary>TLP paths</summary>', ''];
  for (const tlp of tlps) {
    out.push(`**TLP ${tlp.tlp}** ${md(tlp.kind)} 0x${tlp.address.toString(16)} from ${md(tlp.by)} (requester ${md(tlp.requester)}) — ${md(endingMark(tlp, story).text)}`, '');
    out.push('| record | t | where | decision | rule · detail |', '|---|---|---|---|---|');
    for (const h of tlp.hops) out.push(`| #${h.id} | ${h.at}ns | ${md(h.node)} | ${md(h.decision)} | ${md([h.rule, h.detail].filter(Boolean).join(' · '))} |`);
    for (const e of tlp.effects) out.push(`| | | | effect | ${md(effectText(e))} |`);
    out.push('');
  }
  out.push('</details>', '');
  return out;
}
