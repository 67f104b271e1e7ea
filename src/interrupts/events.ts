/**
 * The interrupt layer's trace vocabulary, written to the same trace as the
 * fabric's events (a discriminated union on `type`). Verdicts cite these ids
 * as evidence: which IRTE a write used and whose it was, which fault
 * stopped it, which device caused a delivery.
 */
import type { InterruptController, InterruptPath } from './delivery.ts';

export type RemapModel = 'vtd' | 'amd-vi';

export interface IrRemappedEvent {
  readonly type: 'ir.remapped';
  readonly tlp: number;
  readonly model: RemapModel;
  /** VT-d interrupt_index or AMD-Vi IRTE offset; null for pass-through. */
  readonly index: number | null;
  readonly owner: string | null;
  readonly requester: string;
  readonly vector: number;
  readonly destination: number;
  /** An IEC entry that no longer matches the table was used (VT-d §6.5.2.7). */
  readonly stale: boolean;
  /** Posted format: what posting did (descriptor, PIR bit, notification). */
  readonly posted?: string;
}

export interface IrFaultEvent {
  readonly type: 'ir.fault';
  readonly tlp: number;
  readonly model: RemapModel;
  /** VT-d fault reason (0x20–0x26) or AMD-Vi event code; null for a target abort with no event. */
  readonly code: number | null;
  readonly reason: string;
  readonly requester: string;
  readonly index: number | null;
  /** False when FPD (VT-d) or IG/SupIOPF (AMD-Vi) suppressed the record. */
  readonly recorded: boolean;
}

export interface IecInvalidatedEvent {
  readonly type: 'ir.iec-invalidate';
  /** 'global' or the first index of an index-selective invalidation. */
  readonly scope: 'global' | number;
  readonly count: number;
}

export interface MsiDeliveredEvent {
  readonly type: 'msi.delivered';
  readonly tlp: number;
  readonly controller: InterruptController;
  readonly path: InterruptPath;
  readonly vector: number;
  readonly destination: number;
  readonly cpus: readonly number[];
  readonly irte: number | null;
  readonly entryOwner: string | null;
  /** Owner of the vector on each receiving CPU (of the posted descriptor when `cpus` is empty). */
  readonly vectorOwners: readonly (string | null)[];
  readonly causedBy: string;
  readonly requester: string;
}

export interface MsiSignalEvent {
  readonly type: 'msi.signal';
  /** Function id of the device raising its own interrupt. */
  readonly device: string;
  readonly kind: 'msi' | 'msix';
  readonly vector: number;
  /** Masked: the pending bit was set instead of sending (PCIe 6.0 §6.1.4). */
  readonly masked: boolean;
  /** Id of the TLP sent, or 0 when none was. */
  readonly tlp: number;
}

export interface MsixTableWriteEvent {
  readonly type: 'msix.table-write';
  readonly tlp: number;
  readonly device: string;
  readonly vector: number;
  /** Principal the write is attributed to (the configured table programmer, or the DMA's issuer). */
  readonly by: string;
}

export interface Gicv2mEvent {
  readonly type: 'gicv2m.spi' | 'gicv2m.dropped';
  readonly tlp: number;
  readonly frame: string;
  readonly spi: number;
  readonly owner: string | null;
  readonly requester: string;
}

export interface ItsEvent {
  readonly type: 'its.translated' | 'its.error';
  readonly tlp: number;
  readonly its: string;
  readonly deviceId: number;
  readonly eventId: number;
  readonly lpi: number | null;
  readonly owner: string | null;
  /** GICv3 command-error encoding of the INT-equivalent failure, when one. */
  readonly code: number | null;
  readonly reason: string;
}

export type InterruptEvent =
  | IrRemappedEvent
  | IrFaultEvent
  | IecInvalidatedEvent
  | MsiDeliveredEvent
  | MsiSignalEvent
  | MsixTableWriteEvent
  | Gicv2mEvent
  | ItsEvent;
