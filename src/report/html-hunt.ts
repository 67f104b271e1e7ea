/**
 * `tlplab hunt --html out.html`: the findings as a self-contained page in
 * the report's style — per configuration, a table of findings (breach,
 * path, how it was found) and each reproducer's YAML, ready to copy.
 */
import type { Finding, HuntResult, HuntTarget } from '../hunt/model.ts';
import { scenarioYaml } from '../hunt/repro.ts';
import { esc, slug } from './escape.ts';
import { PAGE_STYLE } from './html-assets.ts';
import { countFindings } from './hunt-text.ts';
import { describeVariant } from './variant-text.ts';

const HUNT_STYLE = `
table.findings{border-collapse:collapse;font-size:.95rem;margin:.5rem 0;width:100%}
table.findings td,table.findings th{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
table.findings th{background:var(--panel)}
table.findings td.path{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.82rem}
details.repro pre{background:var(--panel);padding:.6rem;overflow:auto;font-size:.82rem}
.ok{color:var(--isolated);font-weight:700}
`;

export function renderHuntHtml(result: HuntResult): string {
  const total = countFindings(result);
  const sections = result.targets.map((t, i) => renderTarget(`t${i + 1}-${slug(t.scenario)}`, t));
  const contents = result.targets
    .map((t, i) => `<tr><td>${i + 1}</td><td><a href="#t${i + 1}-${slug(t.scenario)}">${esc(t.scenario)}</a></td><td>${esc(describeVariant(t.variant) || '—')}</td><td class="num">${t.skipped === null ? t.findings.length : '—'}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>tlplab hunt — ${esc(result.input.file)}</title>
<style>${PAGE_STYLE}${HUNT_STYLE}</style></head><body>
<header class="top"><h1>tlplab hunt</h1><span class="counts">${esc(result.input.file)} · ${result.targets.length} configuration(s) · ${total === 0 ? 'no breach found' : `<b>${total} finding(s)</b>`} · seed ${result.seed}</span></header>
<main>
<section class="scenario contents" id="contents"><h2>Configurations</h2>
${result.input.assumptions.length > 0 ? `<p>Assumed: ${result.input.assumptions.map(esc).join('; ')}.</p>` : ''}
<table class="toc"><thead><tr><th></th><th>scenario</th><th>variant</th><th>findings</th></tr></thead><tbody>
${contents}
</tbody></table></section>
${sections.join('\n')}
</main></body></html>
`;
}

function renderTarget(id: string, t: HuntTarget): string {
  const head = `<section class="scenario" id="${id}"><h2>${esc(t.scenario)}</h2><p class="file">${esc(t.file)}${Object.keys(t.variant).length ? ` · ${esc(describeVariant(t.variant))}` : ''} · ${esc(t.attacker)} holds ${esc(t.devices.join(', ') || 'nothing')}</p>`;
  if (t.skipped !== null) return `${head}<p class="ok">Nothing to explore: ${esc(t.skipped)}</p></section>`;
  const probes = `<p>${t.probes.systematic + t.probes.random} probes in ${t.runs} runs: ${t.findings.length === 0 ? '<span class="ok">no breach found</span>' : `<span class="bad">${t.findings.length} finding(s)</span>`}</p>`;
  if (t.findings.length === 0) return `${head}${probes}</section>`;
  const rows = t.findings
    .map((f) => `<tr id="${id}-${f.id}"><td><a href="#${id}-${f.id}">${f.id}</a></td><td class="bad">${esc(`${f.kind} of ${f.victim}`)}</td><td>${esc(f.from)}</td><td>${esc(f.technique)}: ${esc(f.label)}${f.hits > 1 ? ` (+${f.hits - 1})` : ''}</td><td class="path">${esc(f.path)}</td></tr>`)
    .join('\n');
  return `${head}${probes}
<table class="findings"><thead><tr><th></th><th>breach</th><th>from</th><th>found by</th><th>path</th></tr></thead><tbody>
${rows}
</tbody></table>
${t.findings.map(renderRepro).join('\n')}
</section>`;
}

function renderRepro(f: Finding): string {
  const caveats = f.caveats.map((c) => `<p>Caveat: ${esc(c)}</p>`).join('');
  return `<details class="repro"><summary>${f.id}: ${esc(f.detail)}</summary>${caveats}<p>Reproducer${f.repro.file === null ? '' : ` <code>${esc(f.repro.file)}</code>`} — <code>tlplab run ${esc(f.repro.name)}.yaml</code>:</p><pre>${esc(scenarioYaml(f.repro.document, f.repro.header))}</pre></details>`;
}
