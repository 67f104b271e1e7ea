/** `explain --svg out.svg`: one run's picture on its own — a heading, the machine with the run's TLPs drawn, and the legend. */
import type { RunStory } from '../scenario/run-story.ts';
import { esc } from './escape.ts';
import { layout } from './layout.ts';
import { renderPicture } from './svg.ts';
import { LEGEND_WIDTH, legendHeight, renderLegend } from './svg-legend.ts';
import { describeVariant } from './variant-text.ts';

const HEADING = 52;

export async function renderRunSvg(story: RunStory, title: string): Promise<string> {
  const laid = await layout(story.view);
  const picture = renderPicture(story.view, laid, { id: 'picture', overlays: [{ run: 'run', story }], shown: 'run' });
  const heading = `${story.scenario} — ${title}`;
  const width = Math.ceil(Math.max(laid.width, LEGEND_WIDTH, heading.length * 9.6 + 24));
  const legend = legendHeight(story.view.owners);
  const height = HEADING + laid.height + legend;
  const verdict = `${story.verdict.toUpperCase()} (expected ${story.expected}${story.pass ? '' : ' — NOT as expected'})`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui,'Segoe UI','Liberation Sans','DejaVu Sans',Arial,sans-serif">
<rect width="${width}" height="${height}" fill="#fff"/>
<text x="12" y="22" font-size="16" font-weight="700" fill="#17202c">${esc(heading)}</text>
<text x="12" y="42" font-size="12.5" fill="#3b4656">${esc(describeVariant(story.variant))} · <tspan font-weight="700" fill="${story.verdict === 'breached' ? '#b42318' : '#1e6b2a'}">${esc(verdict)}</tspan></text>
<svg x="0" y="${HEADING}" width="${laid.width}" height="${laid.height}">${picture}</svg>
<svg x="0" y="${HEADING + laid.height}" width="${LEGEND_WIDTH}" height="${legend}">${renderLegend(story.view.owners)}</svg>
</svg>
`;
}
