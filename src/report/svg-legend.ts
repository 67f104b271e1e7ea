/** The key to the pictures: owners' colours, the four ACS states, group outlines and path marks. */
import { esc } from './escape.ts';
import { ACS_STATE_TEXT, SVG_STYLE, TLP_COLOURS, ownerColour } from './svg.ts';

export const LEGEND_WIDTH = 720;
const ROW = 19;

export function legendHeight(owners: readonly string[]): number {
  return 22 + Math.max(4, owners.length) * ROW + 2 * 16 + 6;
}

export function renderLegend(owners: readonly string[]): string {
  const height = legendHeight(owners);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="topology legend-svg" viewBox="0 0 ${LEGEND_WIDTH} ${height}" width="${LEGEND_WIDTH}" height="${height}" role="img" aria-label="legend">`,
    `<style>${SVG_STYLE}.lt{font-size:12.5px;fill:#2b3645}.lh{font-size:12.5px;font-weight:700;fill:#17202c}.la{font-size:11.5px;fill:#4a5563}</style>`,
  ];
  const top = 26;
  let x = 6;
  out.push(`<text class="lh" x="${x}" y="15">owners</text>`);
  owners.forEach((owner, i) => {
    const c = ownerColour({ owners }, owner);
    const y = top + i * ROW;
    out.push(`<rect x="${x}" y="${y}" width="22" height="14" rx="3" fill="${c.fill}" stroke="${c.stroke}" stroke-width="2"/><text class="lt" x="${x + 28}" y="${y + 12}">${esc(owner)}</text>`);
  });
  x = 112;
  out.push(`<text class="lh" x="${x}" y="15">ACS controls (PCIe 6.0 §6.12)</text>`);
  (['on', 'off', 'hard-wired', 'absent'] as const).forEach((state, i) => {
    const y = top + i * ROW - 1;
    out.push(`<g class="acs acs-${state}"><rect x="${x}" y="${y}" width="19" height="16" rx="2"/><text x="${x + 9.5}" y="${y + 12}">RR</text></g><text class="lt" x="${x + 26}" y="${y + 12}">${esc(ACS_STATE_TEXT[state])}</text>`);
  });
  x = 470;
  out.push(`<text class="lh" x="${x}" y="15">IOMMU groups and TLPs</text>`);
  const marks = [
    `<g class="group"><rect x="${x}" y="${top - 1}" width="34" height="16" rx="6" stroke="#1d4ed8"/></g>`,
    `<g class="tlp-line" stroke="${TLP_COLOURS[0]}"><polyline points="${x + 2},${top + ROW + 7} ${x + 32},${top + ROW + 7}"/></g>`,
    `<g class="end end-stopped"><rect x="${x}" y="${top + 2 * ROW - 2}" width="34" height="18" rx="9" stroke="#43536b"/><text x="${x + 11}" y="${top + 2 * ROW + 11}">✕</text></g>`,
    `<g class="end end-breach"><rect x="${x}" y="${top + 3 * ROW - 2}" width="34" height="18" rx="9" stroke="#a3150c"/><text x="${x + 10}" y="${top + 3 * ROW + 11}">⚠</text></g>`,
  ];
  const words = ['an IOMMU group (Linux)', "a TLP's path, hop by hop", 'where it was stopped', 'a breach (✓ = allowed)'];
  words.forEach((w, i) => out.push(`${marks[i]}<text class="lt" x="${x + 42}" y="${top + i * ROW + 11}">${esc(w)}</text>`));
  const foot = top + Math.max(4, owners.length) * ROW + 10;
  out.push(`<text class="la" x="6" y="${foot}">SV source validation · TB translation blocking · RR / CR P2P request / completion redirect</text>`);
  out.push(`<text class="la" x="6" y="${foot + 16}">UF upstream forwarding · EC P2P egress control · DT direct translated P2P</text>`);
  out.push('</svg>');
  return out.join('');
}
