/**
 * Lays a MachineView out with ELK's layered algorithm (elkjs, the Eclipse
 * Layout Kernel compiled to JavaScript), at report time in Node: pictures
 * are static SVG, so the page carries no layout library and draws the same
 * with scripts off. Containers (root complex, switches, multifunction
 * devices) are ELK compound nodes laid out with their children
 * (hierarchyHandling INCLUDE_CHILDREN); links are routed orthogonally.
 */
import elkjs from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { MachineView, ViewNode } from '../scenario/machine-view.ts';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LaidOut {
  readonly width: number;
  readonly height: number;
  /** Absolute boxes by view node id. */
  readonly boxes: ReadonlyMap<string, Box>;
  /** Routed links, absolute points from the `from` side to the `to` side. */
  readonly links: readonly { readonly from: string; readonly to: string; readonly points: readonly Point[] }[];
}

/** Text metrics without a font: generous per-character widths for the system sans fonts (DejaVu Sans is the widest common one). */
export const TEXT = { label: 15, labelChar: 9.2, sub: 12, subChar: 7.1 } as const;
export const ACS_CELL = { w: 21, h: 16 } as const;
const PAD = 10;

export function nodeSize(node: ViewNode): { width: number; height: number } {
  const text = Math.max(node.label.length * TEXT.labelChar, node.sub.length * TEXT.subChar);
  const strip = node.acs !== null || node.acsRelevant ? 7 * ACS_CELL.w : 0;
  const width = Math.ceil(Math.max(text, strip, 110) + 2 * PAD);
  const height = 16 + TEXT.label + (node.sub ? TEXT.sub + 6 : 0) + (strip ? ACS_CELL.h + 8 : 0) + 6;
  return { width, height };
}

const CONTAINER_KINDS = new Set(['root-complex', 'switch', 'device']);

// elkjs is CommonJS: its module object is the constructor and also carries it as `default`.
const ELK = elkjs.default;
let elk: InstanceType<typeof ELK> | null = null;

/**
 * Pictures of one scenario's variants mostly differ only in ACS bits,
 * groups and labels, not in shape: layouts are cached by the ELK input.
 */
const cache = new Map<string, Promise<LaidOut>>();
const CACHE_LIMIT = 256;

export function layout(view: MachineView): Promise<LaidOut> {
  const graph = elkGraph(view);
  const key = JSON.stringify(graph);
  let laid = cache.get(key);
  if (laid === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    laid = run(graph, view.links);
    cache.set(key, laid);
  }
  return laid;
}

function elkGraph(view: MachineView): ElkNode {
  const children = new Map<string | null, ViewNode[]>();
  for (const node of view.nodes) children.set(node.parent, [...(children.get(node.parent) ?? []), node]);
  const build = (node: ViewNode): ElkNode => {
    if (!CONTAINER_KINDS.has(node.kind)) return { id: node.id, ...nodeSize(node) };
    return {
      id: node.id,
      layoutOptions: { 'elk.padding': '[top=42,left=14,bottom=14,right=14]' },
      children: (children.get(node.id) ?? []).map(build),
    };
  };
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      // Room below the lowest nodes and beside the widest for the path's ending marks.
      'elk.padding': '[top=12,left=12,bottom=56,right=40]',
    },
    children: (children.get(null) ?? []).map(build),
    edges: view.links.map((l, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [l.from], targets: [l.to] })),
  };
  return graph;
}

async function run(graph: ElkNode, viewLinks: MachineView['links']): Promise<LaidOut> {
  elk ??= new ELK();
  const result = await elk.layout(structuredClone(graph));
  const boxes = new Map<string, Box>();
  const walk = (node: ElkNode, dx: number, dy: number) => {
    for (const child of node.children ?? []) {
      const x = dx + (child.x ?? 0);
      const y = dy + (child.y ?? 0);
      boxes.set(child.id, { x, y, w: child.width ?? 0, h: child.height ?? 0 });
      walk(child, x, y);
    }
  };
  walk(result, 0, 0);
  const edges: ElkExtendedEdge[] = [];
  const collect = (node: ElkNode) => {
    edges.push(...(node.edges ?? []));
    for (const child of node.children ?? []) collect(child);
  };
  collect(result);
  const links = edges.map((edge) => {
    const container = (edge as { container?: string }).container;
    const origin = container === undefined || container === 'root' ? { x: 0, y: 0 } : boxes.get(container)!;
    const section = edge.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({ x: origin.x + p.x, y: origin.y + p.y })) : [];
    const index = Number(edge.id.slice(1));
    return { from: viewLinks[index]!.from, to: viewLinks[index]!.to, points };
  });
  return { width: Math.ceil(result.width ?? 0), height: Math.ceil(result.height ?? 0), boxes, links };
}
