/**
 * `tlplab report --html out.html`: one self-contained page a teacher can
 * project. A table of contents; per scenario its title, summary, sources
 * and expectations, the isolation matrix with coloured verdict cells, and
 * the machine's picture (laid out here by ELK, static SVG) on which the
 * selected run's TLPs are drawn hop by hop; below the matrix that run's
 * story with rules and evidence links. Built from RunResult.story (the run
 * story model), never from the trace.
 */
import type { RunResult, ScenarioInfo, SuiteResult } from '../scenario/results.ts';
import type { MachineView } from '../scenario/machine-view.ts';
import { esc, linkify, slug } from './escape.ts';
import { PAGE_SCRIPT, PAGE_STYLE } from './html-assets.ts';
import { renderRun } from './html-run.ts';
import { layout } from './layout.ts';
import { renderMatrix } from './html-matrix.ts';
import { renderPicture } from './svg.ts';
import { renderLegend } from './svg-legend.ts';

export interface IndexedRun {
  /** Page id of the run: "r12". */
  readonly id: string;
  readonly run: RunResult;
}

function byScenario(suite: SuiteResult): { info: ScenarioInfo; runs: IndexedRun[] }[] {
  const groups = new Map<string, IndexedRun[]>();
  suite.runs.forEach((run, i) => groups.set(run.file, [...(groups.get(run.file) ?? []), { id: `r${i + 1}`, run }]));
  return [...groups.entries()].map(([file, runs]) => {
    const first = runs[0]!.run;
    const info = suite.scenarios?.find((s) => s.file === file) ?? { file, name: first.scenario, title: first.title, summary: '', sources: [], axes: Object.keys(first.variant), rules: [] };
    return { info, runs };
  });
}

/** The run a scenario opens on: the first that missed its expectation, else the first breach, else the first. */
function defaultRun(runs: readonly IndexedRun[]): IndexedRun {
  return runs.find((r) => !r.run.pass) ?? runs.find((r) => r.run.verdict === 'breached') ?? runs[0]!;
}

export async function renderHtml(suite: SuiteResult): Promise<string> {
  const scenarios = byScenario(suite);
  const passed = suite.runs.filter((r) => r.pass).length;
  const sections: string[] = [];
  const contents: string[] = [];
  const options: string[] = [];
  for (const [i, { info, runs }] of scenarios.entries()) {
    const id = `s${i + 1}-${slug(info.name)}`;
    const breached = runs.filter((r) => r.run.verdict === 'breached').length;
    const misses = runs.filter((r) => !r.run.pass).length;
    options.push(`<option value="${id}">${esc(info.name)}${misses ? ' ✗' : ''}</option>`);
    contents.push(
      `<tr><td>${i + 1}</td><td><a href="#${id}">${esc(info.name)}</a></td><td>${esc(info.title)}</td><td class="num">${runs.length}</td><td class="num"><span class="dot b"></span> ${breached}</td><td class="num"><span class="dot i"></span> ${runs.length - breached}</td><td>${misses ? `<span class="bad">✗ ${misses} not as expected</span>` : '✓'}</td></tr>`,
    );
    sections.push(await renderScenario(id, info, runs));
  }
  for (const [i, f] of suite.failures.entries()) {
    const id = `f${i + 1}`;
    const label = f.kind === 'invalid' ? 'invalid scenario' : 'internal error';
    options.push(`<option value="${id}">✗ ${esc(f.scenario ?? f.file)}</option>`);
    contents.push(`<tr><td></td><td><a href="#${id}" class="bad">${esc(f.scenario ?? f.file)}</a></td><td colspan="5" class="bad">${esc(label)}</td></tr>`);
    sections.push(`<section class="scenario error" id="${id}"><h2>${esc(label)}: ${esc(f.file)}</h2><pre>${esc(f.message)}</pre></section>`);
  }
  const counts = `${scenarios.length} scenarios · ${suite.runs.length} runs · ${passed} as expected${passed < suite.runs.length ? `, <b>${suite.runs.length - passed} not</b>` : ''}${suite.failures.length ? ` · <b>${suite.failures.length} scenario error(s)</b>` : ''} · seed ${suite.seed}`;
  return `<!doctype html>
<html lang="en" data-groups="auto"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>tlplab — isolation matrix</title>
<style>${PAGE_STYLE}</style></head><body>
<header class="top"><h1><a href="#contents">tlplab</a></h1>
<nav class="switch" aria-label="scenario"><a class="prev" href="#contents" title="previous scenario">◀</a><select aria-label="scenario"><option value="contents">contents</option>${options.join('')}</select><a class="next" href="#contents" title="next scenario">▶</a></nav>
<span class="counts">${counts}</span>
<fieldset><legend>IOMMU groups:</legend>
<label><input type="radio" name="groups" value="auto" checked> each run's kernel</label>
<label><input type="radio" name="groups" value="classic"> classic</label>
<label><input type="radio" name="groups" value="per-bus"> per-bus</label></fieldset></header>
<main>
<section class="scenario contents" id="contents"><h2>Contents</h2>
<p>Each scenario replays an attack TLP by TLP across a matrix of configurations. Open one, then click a cell of its matrix: the picture draws that run's TLPs hop by hop, and the list beside it names the rule that decided every hop.</p>
<table class="toc"><thead><tr><th></th><th>scenario</th><th>what it shows</th><th>runs</th><th>breached</th><th>isolated</th><th>expectations</th></tr></thead><tbody>
${contents.join('\n')}
</tbody></table></section>
${sections.join('\n')}
</main>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

async function renderScenario(id: string, info: ScenarioInfo, runs: readonly IndexedRun[]): Promise<string> {
  const pictures = new Map<string, { id: string; view: MachineView; runs: IndexedRun[] }>();
  for (const r of runs) {
    if (r.run.story === undefined) continue;
    const key = JSON.stringify(r.run.story.view);
    const entry = pictures.get(key) ?? { id: `${id}-p${pictures.size + 1}`, view: r.run.story.view, runs: [] };
    entry.runs.push(r);
    pictures.set(key, entry);
  }
  const opening = defaultRun(runs);
  const pictureOf = new Map<string, string>();
  const svgs: string[] = [];
  let widest = 0;
  for (const p of pictures.values()) {
    for (const r of p.runs) pictureOf.set(r.id, p.id);
    const laid = await layout(p.view);
    const overlays = p.runs.map((r) => ({ run: r.id, story: r.run.story! }));
    const svg = renderPicture(p.view, laid, { id: p.id, overlays, shown: p.runs.includes(opening) ? opening.id : null });
    svgs.push(p.runs.includes(opening) ? svg.replace('class="topology"', 'class="topology current"') : svg);
    widest = Math.max(widest, laid.width);
  }
  const owners = [...new Set([...pictures.values()].flatMap((p) => p.view.owners))];
  const sources = info.sources.map((s) => `<li>${linkify(s)}</li>`).join('');
  const rules = info.rules
    .map((r) => {
      const when = Object.entries(r.when).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
      return `<li><b>${esc(r.verdict)}</b> ${when ? `when ${esc(when)}` : 'otherwise'}${r.because ? ` — ${esc(r.because)}` : ''}</li>`;
    })
    .join('');
  const details = runs.map((r) => (r.run.story === undefined ? '' : renderRun(r.id, r.run.story, pictureOf.get(r.id) ?? '', r === opening))).join('\n');
  return `<section class="scenario" id="${id}">
<h2>${esc(info.title)}</h2>
<p class="file">${esc(info.name)} · ${esc(info.file)}</p>
<div class="bench"${widest > 880 ? ' style="--picture:1.75fr"' : ''}><div class="left">
<p class="summary">${esc(info.summary)}</p>
<details class="about"><summary>Sources (${info.sources.length}) and expectations (${info.rules.length})</summary><h4>Sources</h4><ul>${sources}</ul><h4>Expectations (first match wins)</h4><ol>${rules}</ol></details>
${renderMatrix(info.axes, runs)}
${details}
</div><div class="right"><div class="picture">${svgs.join('\n')}</div><div class="legend">${renderLegend(owners.length ? owners : ['host'])}</div></div></div>
</section>`;
}
