/**
 * A breach's path: the nodes its TLP crossed (from the trace), the
 * mechanisms that let it through on the way (the domain and kind of
 * translation, a stale IOTLB entry, AT = translated, a forged requester ID
 * where something checked it, the interrupt hardware's path and entry),
 * and where it landed. Kind, victim and path make a finding distinct: the
 * same way into the same place with another address or another forged ID
 * of the same domain is the same finding.
 */
import type { Ending } from '../fabric/ending.ts';
import type { TraceRecord } from '../sim/trace.ts';
import type { MachineEvent } from '../scenario/machine.ts';
import type { BreachResult } from '../scenario/results.ts';

export interface BreachPath {
  readonly route: readonly string[];
  readonly mechanism: readonly string[];
  readonly landing: string;
  /** route, mechanism and landing in one line: the dedup key with kind and victim. */
  readonly path: string;
}

export function breachPath(breach: BreachResult, ending: Ending, records: readonly TraceRecord<MachineEvent>[], ownRid: number | undefined): BreachPath {
  const route: string[] = [];
  const push = (node: string) => {
    if (node !== '' && route.at(-1) !== node) route.push(node);
  };
  const mechanism: string[] = [];
  let checked = false;
  let aliased = false;
  for (const r of records) {
    if (r.type === 'tlp.issued') push(r.by);
    else if (r.type === 'tlp.hop') {
      push(r.node);
      if (r.decision === 'alias') {
        aliased = true;
        mechanism.push(`requester aliased at ${r.node}`);
      }
      if (r.next !== '') push(r.next);
    } else if (r.type === 'tlp.ended') push(r.node);
    else if (r.type === 'iommu.translate') {
      checked = true;
      const how = TRANSLATION[r.source] ?? r.source;
      if (r.stale) mechanism.push(`stale IOTLB entry in domain ${r.domain}`);
      else if (how !== '') mechanism.push(`${how}${r.domain === null ? '' : ` in domain ${r.domain}`}`);
    } else if (r.type === 'ir.remapped' || r.type === 'its.translated') checked = true;
  }
  if (ending.at === 'translated') mechanism.push('AT=translated');
  for (const effect of ending.effects) {
    if (effect.kind !== 'interrupt') continue;
    checked ||= effect.entry !== null;
    mechanism.push(`${effect.controller} ${effect.path}${effect.stale ? ' (stale entry)' : ''}`);
  }
  // The requester ID matters only where something looked it up (IOMMU context, IRTE source check, ITS
  // DeviceID), and not once a PCIe-to-PCI bridge replaced it with its alias.
  if (ownRid !== undefined && ending.requester !== ownRid && checked && !aliased) mechanism.push('forged requester ID');
  const landing = landingOf(breach, ending);
  return { route, mechanism, landing, path: `${route.join(' → ')}${mechanism.length > 0 ? ` [${mechanism.join('; ')}]` : ''} ⇒ ${landing}` };
}

/** How the IOMMU passed it: a page-table walk and an IOTLB hit are the same grant; the interrupt window is told by the interrupt effect. */
const TRANSLATION: Record<string, string> = {
  walk: 'mapped',
  iotlb: 'mapped',
  'stale-iotlb': 'stale IOTLB entry',
  identity: 'identity',
  translated: '',
  'remapping-off': 'DMA remapping off',
  'interrupt-window': '',
  'untranslated-range': 'consumed before the IOMMU',
};

function landingOf(breach: BreachResult, ending: Ending): string {
  if (breach.spans.length > 0) return [...new Set(breach.spans.map((s) => (s.sub === null ? (s.region ?? 'unclaimed') : `${s.region}/${s.sub}`)))].join(', ');
  const irq = ending.effects.find((e) => e.kind === 'interrupt');
  if (irq !== undefined) return irq.entry !== null && breach.kind === 'foreign-irte' ? `${irq.controller} entry of ${irq.entryOwner}` : `a vector of ${breach.victim}`;
  const config = ending.effects.find((e) => e.kind === 'config');
  return config !== undefined ? `config space of ${config.device}` : breach.victim;
}
