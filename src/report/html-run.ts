/**
 * One run on the report page: its variant, verdict against expectation and
 * the rule's `because`, the gates, the breaches with their byte spans or
 * interrupt receivers and evidence links, and every TLP hop by hop with the
 * rule that decided each hop. Each hop row's id is RUN-hRECORD, the trace
 * record id that breach evidence names.
 */
import type { RunStory, StoryTlp } from '../scenario/run-story.ts';
import { effectText } from './explain.ts';
import { formatDuration } from '../sim/time.ts';
import { esc } from './escape.ts';
import { endingMark, TLP_COLOURS } from './svg.ts';
import { formatValue } from './variant-text.ts';

export const hopId = (run: string, record: number) => `${run}-h${record}`;

export function renderRun(run: string, story: RunStory, picture: string, isDefault: boolean): string {
  const out: string[] = [];
  out.push(`<div class="run" id="${run}" data-picture="${esc(picture)}"${isDefault ? ' data-default=""' : ''}>`);
  const chips = Object.entries(story.variant).map(([axis, value]) => `<span class="chip">${esc(axis)}=${esc(formatValue(value))}</span>`);
  out.push(`<div class="chips">${chips.join('') || '<span class="chip">base</span>'}</div>`);
  const refused = story.gates.find((g) => g.enforced && !g.passed);
  out.push(
    `<h3><span class="verdict ${story.verdict}">${story.verdict}</span>${refused ? ` — refused by ${esc(refused.gate)}` : ''} · expected ${story.expected} ${story.pass ? '<span title="as expected">✓</span>' : '<span class="bad">✗ NOT as expected</span>'}</h3>`,
  );
  if (story.because) out.push(`<p class="because">${esc(story.because)}</p>`);
  if (story.differences.length > 0) out.push(`<ul class="breaches">${story.differences.map((d) => `<li class="bad">≠ ${esc(d)}</li>`).join('')}</ul>`);
  if (story.gates.length > 0) {
    const gates = story.gates.map((g) => `<li><b>${esc(g.gate)}</b>: ${g.passed ? 'passes' : g.enforced ? '<span class="bad">refuses the assignment</span>' : 'would refuse (not enforced)'} — ${esc(g.detail)}</li>`);
    out.push(`<details class="gates"><summary>Linux gates (${story.gates.filter((g) => g.passed).length}/${story.gates.length} pass)</summary><ul class="gates">${gates.join('')}</ul></details>`);
  }
  if (story.breaches.length > 0) {
    out.push('<ul class="breaches">');
    for (const b of story.breaches) {
      const effects = b.effects.map((e) => `<li>${esc(effectText(e))}</li>`).join('');
      const evidence = b.evidence.map((id) => `<a href="#${hopId(run, id)}">#${id}</a>`).join('');
      out.push(`<li><b class="bad">${esc(b.kind)}</b> (${esc(b.attacker)} → ${esc(b.victim)}${b.bytes > 0 ? `, ${b.bytes} byte(s)` : ''}): ${esc(b.detail)}${effects ? `<ul>${effects}</ul>` : ''}<div class="evidence">evidence (trace records): ${evidence}</div></li>`);
    }
    out.push('</ul>');
  }
  const colourOf = new Map(story.tlps.filter((t) => t.hops.some((h) => h.place !== null)).map((t, k) => [t.tlp, TLP_COLOURS[k % TLP_COLOURS.length]!]));
  for (const step of story.steps) {
    out.push(`<div class="step">@${esc(formatDuration(step.at))} step ${step.index}: ${esc(step.text)}${step.refused ? ` — <span class="bad">${esc(step.refused)}</span>` : ''}</div>`);
    const tlps = step.tlps.map((id) => story.tlps.find((t) => t.tlp === id)!).filter(Boolean);
    if (tlps.length === 0) continue;
    out.push('<table class="hops">');
    for (const tlp of tlps) out.push(tlpRows(run, story, tlp, colourOf.get(tlp.tlp) ?? '#999'));
    out.push('</table>');
  }
  out.push('</div>');
  return out.join('\n');
}

function tlpRows(run: string, story: RunStory, tlp: StoryTlp, colour: string): string {
  const rows: string[] = [`<tbody data-tlp="${tlp.tlp}">`];
  const what = `${tlp.kind} 0x${tlp.address.toString(16)} from ${tlp.by} (requester ${tlp.requester})${tlp.answers === null ? '' : `, answering TLP ${tlp.answers}`}`;
  rows.push(`<tr class="tlp-head"><th><span class="swatch" style="background:${colour}"></span>TLP ${tlp.tlp}: ${esc(what)}</th></tr>`);
  for (const hop of tlp.hops) {
    const text = [hop.rule, hop.detail].filter(Boolean).map(esc).join(' · ');
    rows.push(`<tr id="${hopId(run, hop.id)}"><td><div class="h1"><span class="id">#${hop.id}</span> <span class="t">${hop.at} ns</span> <b>${esc(hop.node)}</b> <span class="dec">${esc(hop.decision)}</span></div>${text ? `<div class="rule">${text}</div>` : ''}</td></tr>`);
  }
  const mark = endingMark(tlp, story);
  const ending = tlp.ending;
  const effects = tlp.effects.map(effectText).join('; ');
  const detail = ending === null ? '' : `${ending.reason}${ending.faultCode ? ` ${ending.faultCode}` : ''} at ${ending.decidedAt}${ending.target ? ` → ${ending.target}` : ''}${effects ? ` — ${effects}` : ''}`;
  const why = ending?.title ? `<div class="rule">${esc(ending.reason)}: ${esc(ending.title)} (${esc(ending.source)})</div>` : '';
  rows.push(`<tr class="ending ${mark.cls}"><td><b>${esc(mark.text)}</b> ${esc(detail)}${why}</td></tr>`);
  rows.push('</tbody>');
  return rows.join('');
}
