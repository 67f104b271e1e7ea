/**
 * A TLP's story read back from the trace: every hop with the rule that
 * decided it, the IOMMU's and interrupt remapping's decisions, and the
 * ending. `explain` and `send` print it; `send --json` returns its path.
 */
import type { TraceRecord } from '../sim/trace.ts';
import type { Effect, Ending } from '../fabric/ending.ts';
import { reasonInfo } from './reasons.ts';
import { formatAddress } from '../pcie/range.ts';
import type { MachineEvent } from './machine.ts';
import { faultCodeText } from './results.ts';

export interface PathEntry {
  /** Simulated time, ns. */
  readonly at: number;
  readonly device: string;
  readonly decision: string;
  readonly rule: string;
  readonly detail?: string;
}

export interface TlpStory {
  readonly tlp: number;
  readonly kind: string;
  readonly by: string;
  readonly requester: string;
  readonly address: number;
  /** Exact hex text of an address at or above 2^53. */
  readonly exactAddress?: string;
  readonly path: readonly PathEntry[];
  readonly outcome: string | null;
  readonly reason: string;
  readonly faultCode: string | null;
  readonly target: string | null;
  /** The registry's line for the reason, and its source. */
  readonly reasonTitle: string;
  readonly reasonSource: string;
  /** What it touched (the ending record's effects); empty when it reached nothing. */
  readonly effects: readonly Effect[];
  /** Trace record ids of this story. */
  readonly evidence: readonly number[];
}

/** Each TLP's trace records, in order: built once per run, so telling every TLP stays linear in the trace (issue 18). */
export function recordsByTlp(records: readonly TraceRecord<MachineEvent>[]): Map<number, TraceRecord<MachineEvent>[]> {
  const index = new Map<number, TraceRecord<MachineEvent>[]>();
  for (const r of records) {
    const tlp = (r as { tlp?: unknown }).tlp;
    if (typeof tlp !== 'number' || tlp === 0) continue;
    const list = index.get(tlp);
    if (list === undefined) index.set(tlp, [r]);
    else list.push(r);
  }
  return index;
}

/** One TLP's story from the trace; pass `index` (recordsByTlp) when telling many TLPs of one run. */
export function tlpStory(records: readonly TraceRecord<MachineEvent>[], tlp: number, ending?: Ending, index?: ReadonlyMap<number, readonly TraceRecord<MachineEvent>[]>): TlpStory {
  const path: PathEntry[] = [];
  const evidence: number[] = [];
  let story: Partial<TlpStory> & { tlp: number } = { tlp };
  for (const r of index === undefined ? records : (index.get(tlp) ?? [])) {
    if ((r as { tlp?: unknown }).tlp !== tlp) continue;
    evidence.push(r.id);
    const entry = describeRecord(r);
    if (entry !== null) path.push(entry);
    if (r.type === 'tlp.issued') story = { ...story, kind: r.kind, by: r.by, requester: r.requester, address: r.address, ...(r.exactAddress === undefined ? {} : { exactAddress: r.exactAddress }) };
    if (r.type === 'tlp.ended') story = { ...story, outcome: r.outcome, reason: r.reason, faultCode: faultCodeText(r.faultCode), target: r.target };
  }
  return {
    tlp,
    kind: story.kind ?? '?',
    by: story.by ?? '?',
    requester: story.requester ?? '?',
    address: story.address ?? 0,
    ...(story.exactAddress === undefined ? {} : { exactAddress: story.exactAddress }),
    path,
    outcome: story.outcome ?? null,
    reason: story.reason ?? '',
    faultCode: story.faultCode ?? null,
    target: story.target ?? null,
    reasonTitle: reasonInfo(story.reason ?? '')?.title ?? '',
    reasonSource: reasonInfo(story.reason ?? '')?.source ?? '',
    effects: ending?.effects ?? [],
    evidence,
  };
}

/** A trace record as a line of a TLP's path; null for records that are not decisions (issue, setup). */
export function describeRecord(r: TraceRecord<MachineEvent>): PathEntry | null {
  switch (r.type) {
    case 'tlp.hop':
      return { at: r.time, device: r.node, decision: r.decision, rule: r.rule, ...(r.next || r.note ? { detail: r.note ?? `→ ${r.next}` } : {}) };
    case 'tlp.ended':
      return { at: r.time, device: r.node, decision: r.outcome, rule: r.rule, detail: [r.reason, faultCodeText(r.faultCode), r.target].filter(Boolean).join(', ') };
    case 'iommu.translate':
      return {
        at: r.time,
        device: `iommu (${r.model})`,
        decision: r.stale ? 'translate (stale IOTLB)' : 'translate',
        rule: `source: ${r.source}`,
        detail: `${formatAddress(r.iova)} → ${formatAddress(r.hpa)} in domain ${r.domain ?? '-'}${r.perm ? ` (${r.perm})` : ''}`,
      };
    case 'iommu.fault':
      return { at: r.time, device: `iommu (${r.model})`, decision: 'fault', rule: r.name, detail: `${r.reason}${r.code === null ? '' : ` ${faultCodeText(r.code)}`}${r.recorded ? '' : ' (not recorded: FPD)'}` };
    case 'ir.remapped':
      return { at: r.time, device: `interrupt remapping (${r.model})`, decision: 'remap', rule: `IRTE ${r.index ?? '-'} of ${r.owner ?? 'nobody'}`, detail: `vector 0x${r.vector.toString(16)} → ${r.posted ?? `CPU ${r.destination}`}${r.stale ? ' (stale IEC entry)' : ''}` };
    case 'ir.fault':
      return { at: r.time, device: `interrupt remapping (${r.model})`, decision: 'fault', rule: r.reason, detail: `${faultCodeText(r.code) ?? 'target abort'}${r.index === null ? '' : `, index ${r.index}`}` };
    case 'msi.delivered':
      return { at: r.time, device: r.controller, decision: 'deliver', rule: `${r.path}`, detail: `vector 0x${r.vector.toString(16)} to ${r.cpus.length === 0 ? 'the posted descriptor' : `CPU ${r.cpus.join(',')}`}, vector owned by ${[...new Set(r.vectorOwners.map((o) => o ?? 'nobody'))].join('/')}${r.irte === null ? '' : `, entry ${r.irte} of ${r.entryOwner ?? 'nobody'}`}` };
    default:
      return null;
  }
}
