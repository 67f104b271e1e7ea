/**
 * The machine as SVG: containers, links, nodes coloured by owner, ACS bits
 * on every function with the capability, IOMMU groups outlined (one layer
 * per algorithm, `g-classic` / `g-per-bus`), and per run an overlay that
 * draws each TLP hop by hop with its ending marked where it stopped.
 * Static markup: the HTML page only shows and hides layers.
 */
import { ACS_FLAGS } from '../pcie/acs.ts';
import type { MachineView, ViewGroup, ViewNode } from '../scenario/machine-view.ts';
import type { RunStory, StoryTlp } from '../scenario/run-story.ts';
import { esc } from './escape.ts';
import { ACS_CELL, TEXT, type Box, type LaidOut, type Point } from './layout.ts';

const HOST_COLOUR = { fill: '#e4eaf3', stroke: '#43536b' };
const GUEST_COLOURS = [
  { fill: '#fde3c6', stroke: '#a85300' },
  { fill: '#eadcf8', stroke: '#6a37a5' },
  { fill: '#d5f0ea', stroke: '#0d6b62' },
  { fill: '#fbdbe7', stroke: '#9c2256' },
];
const GROUP_COLOURS = ['#1d4ed8', '#b45309', '#047857', '#be185d', '#6d28d9', '#0e7490', '#4d7c0f', '#9f1239'];
export const TLP_COLOURS = ['#1e63d6', '#8e24aa', '#00897b', '#e65100', '#5d4037', '#3949ab'];

export function ownerColour(view: Pick<MachineView, 'owners'>, owner: string | null): { fill: string; stroke: string } {
  if (owner === null) return { fill: '#ffffff', stroke: '#43536b' };
  if (owner === 'host') return HOST_COLOUR;
  const guests = view.owners.filter((o) => o !== 'host');
  return GUEST_COLOURS[Math.max(0, guests.indexOf(owner)) % GUEST_COLOURS.length]!;
}

const CONTAINERS = new Set(['root-complex', 'switch', 'device']);
const centre = (b: Box): Point => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });
const n = (v: number) => Math.round(v * 10) / 10;
const pts = (points: readonly Point[]) => points.map((p) => `${n(p.x)},${n(p.y)}`).join(' ');

export interface PictureOverlay {
  /** Id the page uses to show this run's path (`data-run`). */
  readonly run: string;
  readonly story: RunStory;
}

/** One picture with the overlays of every run drawn on it (hidden unless `shown`). */
export function renderPicture(view: MachineView, laid: LaidOut, options: { id: string; overlays?: readonly PictureOverlay[]; shown?: string | null }): string {
  const nodes = view.nodes.filter((v) => laid.boxes.has(v.id));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="topology" id="${esc(options.id)}" data-groups-used="${view.groupsUsed}" viewBox="0 0 ${laid.width} ${laid.height}" width="${laid.width}" height="${laid.height}" role="img" aria-label="PCIe topology">`);
  out.push(`<style>${SVG_STYLE}</style>`);
  for (const node of nodes.filter((v) => CONTAINERS.has(v.kind))) out.push(container(node, laid.boxes.get(node.id)!));
  for (const link of laid.links) if (link.points.length > 0) out.push(`<polyline class="link" points="${pts(link.points)}"/>`);
  for (const algorithm of ['classic', 'per-bus'] as const) out.push(`<g class="groups g-${algorithm}">${view.groups[algorithm].map((g, i) => groupOutline(g, i, nodes, laid)).join('')}</g>`);
  const overlays = (options.overlays ?? []).map((o) => ({ o, layers: pathLayers(o.story, laid) }));
  for (const { o, layers } of overlays) out.push(`<g class="run-path" data-run="${esc(o.run)}"${o.run === options.shown ? '' : ' display="none"'}>${layers.under}</g>`);
  for (const node of nodes.filter((v) => !CONTAINERS.has(v.kind))) out.push(leaf(view, node, laid.boxes.get(node.id)!));
  for (const { o, layers } of overlays) out.push(`<g class="run-path" data-run="${esc(o.run)}"${o.run === options.shown ? '' : ' display="none"'}>${layers.over}</g>`);
  out.push('</svg>');
  return out.join('\n');
}

function container(node: ViewNode, b: Box): string {
  return `<g class="container c-${node.kind}" data-node="${esc(node.id)}"><rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="10"/><text class="clabel" x="${n(b.x + 12)}" y="${n(b.y + 22)}">${esc(node.label)}</text></g>`;
}

function leaf(view: MachineView, node: ViewNode, b: Box): string {
  const colour = ownerColour(view, node.owner);
  const cls = `node k-${node.kind}${node.disabled ? ' disabled' : ''}`;
  const parts = [`<g class="${cls}" data-node="${esc(node.id)}">`];
  parts.push(`<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="6" fill="${node.disabled ? '#f2f2f2' : colour.fill}" stroke="${node.disabled ? '#9aa3ad' : colour.stroke}"/>`);
  parts.push(`<text class="label" x="${n(b.x + 10)}" y="${n(b.y + 12 + TEXT.label)}">${esc(node.label)}</text>`);
  if (node.sub) parts.push(`<text class="sub" x="${n(b.x + 10)}" y="${n(b.y + 16 + TEXT.label + TEXT.sub)}">${esc(node.sub)}</text>`);
  const stripY = b.y + b.h - ACS_CELL.h - 8;
  if (node.acs !== null) {
    ACS_FLAGS.forEach((flag, i) => {
      const x = b.x + 10 + i * ACS_CELL.w;
      const state = node.acs![flag];
      parts.push(`<g class="acs acs-${state}"><title>${flag}: ${ACS_STATE_TEXT[state]}</title><rect x="${n(x)}" y="${n(stripY)}" width="${ACS_CELL.w - 2}" height="${ACS_CELL.h}" rx="2"/><text x="${n(x + (ACS_CELL.w - 2) / 2)}" y="${n(stripY + 12)}">${flag}</text></g>`);
    });
  } else if (node.acsRelevant) {
    parts.push(`<text class="no-acs" x="${n(b.x + 10)}" y="${n(stripY + 12)}">no ACS capability</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

export const ACS_STATE_TEXT = {
  on: 'enabled',
  off: 'implemented, disabled',
  'hard-wired': 'not implemented, in force (hard-wired)',
  absent: 'not implemented, not enforced',
} as const;

/**
 * A group outlined as one box round its members when no other node falls
 * inside that box, else each member outlined on its own (same colour and
 * label), so an outline never seems to hold a device that is not in it.
 */
function groupOutline(group: ViewGroup, index: number, nodes: readonly ViewNode[], laid: LaidOut): string {
  const colour = GROUP_COLOURS[index % GROUP_COLOURS.length]!;
  const members = group.members.map((id) => laid.boxes.get(id)).filter((b): b is Box => b !== undefined);
  if (members.length === 0) return '';
  const pad = 5;
  const hull = {
    x: Math.min(...members.map((b) => b.x)) - pad,
    y: Math.min(...members.map((b) => b.y)) - pad,
    x2: Math.max(...members.map((b) => b.x + b.w)) + pad,
    y2: Math.max(...members.map((b) => b.y + b.h)) + pad,
  };
  const others = nodes.filter((v) => !CONTAINERS.has(v.kind) && !group.members.includes(v.id)).map((v) => laid.boxes.get(v.id)!);
  // Tested without the padding: a neighbour a few pixels inside the padded outline is not inside the group.
  const inside = (b: Box) => b.x < hull.x2 - pad && b.x + b.w > hull.x + pad && b.y < hull.y2 - pad && b.y + b.h > hull.y + pad;
  const clean = !others.some(inside);
  const boxes = clean ? [{ x: hull.x, y: hull.y, w: hull.x2 - hull.x, h: hull.y2 - hull.y }] : members.map((b) => ({ x: b.x - pad, y: b.y - pad, w: b.w + 2 * pad, h: b.h + 2 * pad }));
  const title = `<title>IOMMU group ${group.id}: ${esc(group.members.join(', '))}</title>`;
  const rects = boxes.map((b) => `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="9" stroke="${colour}"/><text class="glabel" x="${n(b.x + b.w - 4)}" y="${n(b.y - 3)}" fill="${colour}">group ${group.id}</text>`);
  return `<g class="group" data-group="${group.id}">${title}${rects.join('')}</g>`;
}

/** Each TLP's places in order, and its segments as polylines between them. */
function tlpRoute(tlp: StoryTlp, laid: LaidOut, parentOf: ReadonlyMap<string, string | null> = new Map()): { places: string[]; segments: Point[][] } {
  const places = tlp.hops.map((h) => h.place).filter((p): p is string => p !== null && laid.boxes.has(p));
  const segments: Point[][] = [];
  for (let i = 1; i < places.length; i++) {
    const a = laid.boxes.get(places[i - 1]!)!;
    const b = laid.boxes.get(places[i]!)!;
    // A function of a multifunction device is linked through its device's box.
    const ends = (id: string) => [id, parentOf.get(id) ?? id];
    const from = ends(places[i - 1]!);
    const to = ends(places[i]!);
    const link = laid.links.find((l) => (from.includes(l.from) && to.includes(l.to)) || (to.includes(l.from) && from.includes(l.to)));
    if (link === undefined || link.points.length < 2) {
      segments.push([centre(a), centre(b)]);
      continue;
    }
    const route = from.includes(link.from) ? link.points : [...link.points].reverse();
    segments.push([{ x: route[0]!.x, y: centre(a).y }, ...route, { x: route[route.length - 1]!.x, y: centre(b).y }]);
  }
  return { places, segments };
}

/** The ending as a short mark: what a teacher reads off the picture. */
export function endingMark(tlp: StoryTlp, story: RunStory): { text: string; cls: 'breach' | 'stopped' | 'landed' | 'open' } {
  const breach = story.breaches.find((b) => b.tlps.includes(tlp.tlp));
  if (breach) return { text: `⚠ breach: ${breach.kind}`, cls: 'breach' };
  const e = tlp.ending;
  if (e === null) return { text: 'in flight', cls: 'open' };
  if (e.outcome === 'delivered' || e.outcome === 'completed') return { text: `✓ ${e.outcome}`, cls: 'landed' };
  return { text: `✕ ${e.outcome}${e.faultCode ? ` ${e.faultCode}` : ''}${e.faultCode ? '' : `: ${e.reason}`}`, cls: 'stopped' };
}

function pathLayers(story: RunStory, laid: LaidOut): { under: string; over: string } {
  const parentOf = new Map(story.view.nodes.filter((v) => v.kind === 'device' || v.parent?.startsWith('device:')).map((v) => [v.id, v.parent]));
  const drawn = story.tlps.filter((t) => tlpRoute(t, laid).places.length > 0);
  const under: string[] = [];
  const over: string[] = [];
  const pillsAt = new Map<string, number>();
  const tagsAt = new Map<string, number>();
  drawn.forEach((tlp, k) => {
    const colour = TLP_COLOURS[k % TLP_COLOURS.length]!;
    const shift = (k - (drawn.length - 1) / 2) * 5;
    const { places, segments } = tlpRoute(tlp, laid, parentOf);
    const moved = segments.map((s) => s.map((p) => ({ x: p.x + shift, y: p.y + shift })));
    const lines = moved.map((s) => `<polyline points="${pts(s)}"/>${arrow(s)}`).join('');
    under.push(`<g class="tlp-line" data-tlp="${tlp.tlp}" stroke="${colour}" fill="${colour}">${lines}</g>`);
    const start = laid.boxes.get(places[0]!)!;
    const end = laid.boxes.get(places[places.length - 1]!)!;
    const mark = endingMark(tlp, story);
    const stack = pillsAt.get(places[places.length - 1]!) ?? 0;
    pillsAt.set(places[places.length - 1]!, stack + 1);
    const tags = tagsAt.get(places[0]!) ?? 0;
    tagsAt.set(places[0]!, tags + 1);
    // Straddling the node's top border, clear of its label and of a container's heading above it.
    const tx = start.x + 8 + tags * 66;
    const startTag = `<g class="tlp-tag"><rect x="${n(tx)}" y="${n(start.y - 10)}" width="62" height="19" rx="9.5" fill="${colour}"/><text x="${n(tx + 31)}" y="${n(start.y + 4)}">TLP ${tlp.tlp}</text></g>`;
    const width = Math.ceil(mark.text.length * 7.4 + 18);
    // Below the node, in the gap between layers, centred; further endings at the same node stack down.
    const px = end.x + end.w / 2 - width / 2;
    const py = end.y + end.h + 4 + stack * 24;
    const pill = `<g class="end end-${mark.cls}"><rect x="${n(px)}" y="${n(py)}" width="${width}" height="22" rx="11" stroke="${colour}"/><text x="${n(px + 9)}" y="${n(py + 15.5)}">${esc(mark.text)}</text></g>`;
    over.push(`<g class="tlp-marks" data-tlp="${tlp.tlp}">${startTag}${pill}</g>`);
  });
  return { under: under.join(''), over: over.join('') };
}

/** A direction arrow halfway along a polyline. */
function arrow(points: readonly Point[]): string {
  let longest = 0;
  let at = 1;
  for (let i = 1; i < points.length; i++) {
    const d = Math.hypot(points[i]!.x - points[i - 1]!.x, points[i]!.y - points[i - 1]!.y);
    if (d > longest) [longest, at] = [d, i];
  }
  if (longest < 16) return '';
  const a = points[at - 1]!;
  const b = points[at]!;
  const angle = (Math.atan2(b.y - a.y, b.x - a.x) * 180) / Math.PI;
  return `<path d="M -7 -6 L 7 0 L -7 6 z" transform="translate(${n((a.x + b.x) / 2)} ${n((a.y + b.y) / 2)}) rotate(${n(angle)})"/>`;
}

export const SVG_STYLE = [
  'svg.topology[data-groups-used="classic"] .g-per-bus,svg.topology[data-groups-used="per-bus"] .g-classic{display:none}',
  'svg.topology{font-family:system-ui,"Segoe UI","Liberation Sans","DejaVu Sans",Arial,sans-serif}',
  '.container rect{fill:#f6f8fb;stroke:#8a97aa;stroke-width:1.5}.c-switch rect{fill:#eef2f7}.c-device rect{fill:#fbf8f3}',
  '.clabel{font-size:14px;font-weight:700;fill:#3b4a60}',
  '.link{fill:none;stroke:#7d8899;stroke-width:2}',
  '.node rect{stroke-width:2}.label{font-size:15px;font-weight:700;fill:#17202c}.sub{font-size:12px;fill:#3b4656}',
  '.disabled .label,.disabled .sub{fill:#7b8490}.disabled rect{stroke-dasharray:5 3}',
  '.acs rect{stroke-width:1.2}.acs text{font-size:10.5px;font-weight:700;text-anchor:middle}',
  '.acs-on rect{fill:#0f766e;stroke:#0f766e}.acs-on text{fill:#fff}',
  '.acs-hard-wired rect{fill:#a7ddd5;stroke:#0f766e;stroke-dasharray:2 1.5}.acs-hard-wired text{fill:#064e46}',
  '.acs-off rect{fill:#fff;stroke:#8b96a3}.acs-off text{fill:#7b8794}',
  '.acs-absent rect{fill:none;stroke:#d3d9df;stroke-dasharray:1.5 2}.acs-absent text{fill:#c3cad2}',
  '.no-acs{font-size:12px;font-weight:700;fill:#b42318}',
  '.group rect{fill:none;stroke-width:2.5;stroke-dasharray:8 4}.glabel{font-size:12px;font-weight:700;text-anchor:end}',
  '.tlp-line polyline{fill:none;stroke-width:5;stroke-linejoin:round;stroke-linecap:round;opacity:.85}',
  '.tlp-tag text{font-size:12px;font-weight:700;fill:#fff;text-anchor:middle}',
  '.end rect{stroke-width:2}.end text{font-size:13px;font-weight:700}',
  '.end-breach rect{fill:#fde8e7}.end-breach text{fill:#a3150c}.end-stopped rect{fill:#fff}.end-stopped text{fill:#1f2937}',
  '.end-landed rect{fill:#f0f7ee}.end-landed text{fill:#1e5b22}.end-open rect{fill:#fff}',
].join('');
