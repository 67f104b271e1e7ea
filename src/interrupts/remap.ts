/**
 * The contract between the x86 interrupt window and the remapping hardware
 * behind it (VT-d or AMD-Vi). A remapper fills a caller-owned decision
 * (reused for every interrupt: no allocation on the hot path).
 */
import type { Tlp } from '../pcie/tlp.ts';
import type { InterruptPath } from './delivery.ts';
import type { RemapModel } from './events.ts';
import { newAttributes, type InterruptAttributes } from './x86-msi.ts';

export interface RemapDecision {
  kind: 'deliver' | 'fault' | 'block';
  path: InterruptPath;
  /** The interrupt to deliver (when kind = deliver). */
  readonly attrs: InterruptAttributes;
  /** Table entry used or named; null when none. */
  index: number | null;
  entryOwner: string | null;
  /** VT-d IM=1: the Posted Interrupt Descriptor the interrupt is recorded in. */
  postedDescriptor: number | null;
  /** VT-d IM=1: the descriptor's owner (the principal whose vCPU takes the interrupt); null when no descriptor is known there. */
  postedOwner: string | null;
  stale: boolean;
  faultCode: number | null;
  /** Stable reason code for a fault or block ("ir.source-id", "amdvi.target-abort"). */
  reason: string;
  /** The rule's source, for traces and `explain`. */
  rule: string;
  /** Specifics for the trace (index, SID mismatch); filled only while tracing. */
  detail: string;
}

export function newDecision(): RemapDecision {
  return { kind: 'deliver', path: 'untranslated', attrs: newAttributes(), index: null, entryOwner: null, postedDescriptor: null, postedOwner: null, stale: false, faultCode: null, reason: '', rule: '', detail: '' };
}

export function resetDecision(d: RemapDecision): void {
  d.kind = 'deliver';
  d.path = 'untranslated';
  d.index = null;
  d.entryOwner = null;
  d.postedDescriptor = null;
  d.postedOwner = null;
  d.stale = false;
  d.faultCode = null;
  d.reason = '';
  d.rule = '';
  d.detail = '';
}

export interface InterruptRemapper {
  readonly model: RemapModel;
  /** Decides on an interrupt request (a DWORD write of `data` to `address` in 0xFEEx_xxxx). */
  remap(tlp: Tlp, address: number, data: number, out: RemapDecision): void;
  /** Whether the host-physical address the hardware reads its tables from is backed (VT-d fault 23h). */
  tableReadable: (address: number) => boolean;
}
