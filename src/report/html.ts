/**
 * A self-contained HTML page (`tlplab report --html out.html`) and a
 * Markdown summary (`--markdown`): one matrix per scenario with its title,
 * verdicts against expectations, and each breach with its evidence.
 */
import type { RunResult, SuiteResult } from '../scenario/results.ts';
import { formatValue, shortAxis } from './variant-text.ts';

function byScenario(suite: SuiteResult): RunResult[][] {
  const groups = new Map<string, RunResult[]>();
  for (const run of suite.runs) groups.set(run.file, [...(groups.get(run.file) ?? []), run]);
  return [...groups.values()];
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderHtml(suite: SuiteResult): string {
  const passed = suite.runs.filter((r) => r.pass).length;
  const sections = byScenario(suite).map((runs) => {
    const first = runs[0]!;
    const axes = Object.keys(first.variant);
    const rows = runs
      .map((run) => {
        const cells = axes.map((a) => `<td>${esc(formatValue(run.variant[a]))}</td>`).join('');
        const details = run.breaches.map((b) => `<li><b>${esc(b.kind)}</b> (${esc(b.attacker)} → ${esc(b.victim)}): ${esc(b.detail)} <small>trace ${b.evidence.join(', ')}</small></li>`).join('');
        const stopped = run.stopped.map((s) => `<li>stopped tlp#${s.tlp}: ${esc(s.outcome)} at ${esc(s.at)} (${esc(s.reason)}${s.faultCode ? ` ${esc(s.faultCode)}` : ''})</li>`).join('');
        return `<tr class="${run.pass ? 'pass' : 'fail'}">${cells}<td class="${run.verdict}">${run.verdict}</td><td>${run.expected}</td><td>${run.pass ? '✓' : '✗'}</td><td><ul>${details}${stopped}</ul></td></tr>`;
      })
      .join('\n');
    return `<section><h2>${esc(first.scenario)} — ${esc(first.title)}</h2><p class="file">${esc(first.file)}</p>
<table><thead><tr>${axes.map((a) => `<th>${esc(shortAxis(a))}</th>`).join('')}<th>verdict</th><th>expected</th><th></th><th>evidence</th></tr></thead>
<tbody>
${rows}
</tbody></table></section>`;
  });
  const failures = suite.failures.map((f) => `<section class="error"><h2>${esc(f.kind === 'invalid' ? 'invalid scenario' : 'internal error')}: ${esc(f.file)}</h2><pre>${esc(f.message)}</pre></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlplab isolation matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}.breached{color:#b00;font-weight:bold}
.isolated{color:#070;font-weight:bold}tr.fail{background:#fee}.file{color:#666;font-family:monospace}ul{margin:0;padding-left:1.2em}
small{color:#666}.error pre{background:#fee;padding:1em}
</style></head><body>
<h1>tlplab isolation matrix</h1>
<p>${suite.runs.length} runs, ${passed} as expected, ${suite.runs.length - passed} not${suite.failures.length ? `, ${suite.failures.length} scenario error(s)` : ''} — seed ${suite.seed}</p>
${[...sections, ...failures].join('\n')}
</body></html>
`;
}

export function renderMarkdown(suite: SuiteResult): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const out = [`# tlplab isolation matrix`, '', `${suite.runs.length} runs, ${suite.runs.filter((r) => r.pass).length} as expected (seed ${suite.seed})`, ''];
  for (const runs of byScenario(suite)) {
    const first = runs[0]!;
    const axes = Object.keys(first.variant);
    out.push(`## ${first.scenario} — ${first.title}`, '');
    out.push(`| ${[...axes.map(shortAxis), 'verdict', 'expected', ''].map(cell).join(' | ')} |`);
    out.push(`|${[...axes, 'v', 'e', 'p'].map(() => '---').join('|')}|`);
    for (const run of runs) out.push(`| ${[...axes.map((a) => formatValue(run.variant[a])), run.verdict, run.expected, run.pass ? '✓' : '✗'].map(cell).join(' | ')} |`);
    out.push('');
  }
  for (const f of suite.failures) out.push(`## ${f.kind === 'invalid' ? 'invalid scenario' : 'internal error'}: ${f.file}`, '', '```', f.message, '```', '');
  return `${out.join('\n')}\n`;
}
