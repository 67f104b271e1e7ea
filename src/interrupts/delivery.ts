/**
 * What a delivered interrupt ends at: the record a TLP carries as its target
 * (`tlp.target`) when an interrupt controller consumed it. It says whose
 * interrupt it was (the owner of the IRTE / table entry / SPI / LPI and of
 * the CPU vector) and who caused it (the issuing device), which is what the
 * verdict engine compares (DESIGN.md §3).
 */
import type { Tlp } from '../pcie/tlp.ts';
import { DeviceNode } from '../fabric/device.ts';
import type { EndTarget } from '../fabric/node.ts';
import type { Effect, EffectSource, InterruptReceiver } from '../fabric/ending.ts';
import type { DestinationMode, TriggerMode } from './x86-msi.ts';
import { DELIVERY_MODES } from './x86-msi.ts';

export type InterruptController = 'lapic' | 'gicv2m' | 'gicv3-its';

/**
 * How the write reached its target: `untranslated` (no remapping hardware or
 * remapping off), `compat-passthrough` (VT-d CFI set), `remapped` (VT-d
 * IRTE), `posted` (VT-d IM=1), `amdvi-remapped` / `amdvi-passthrough`
 * (AMD-Vi IntCtl, IV=0 or a pass bit), `spi` (GICv2m), `lpi` (ITS).
 */
export type InterruptPath = 'untranslated' | 'compat-passthrough' | 'remapped' | 'posted' | 'amdvi-remapped' | 'amdvi-passthrough' | 'spi' | 'lpi';

export interface InterruptDelivery extends EndTarget, EffectSource {
  readonly kind: 'interrupt';
  readonly controller: InterruptController;
  readonly path: InterruptPath;
  /** x86 vector, or GIC INTID (SPI or LPI). */
  readonly vector: number;
  /** APIC ID (x86), target CPU (GIC), or -1 for a posted interrupt. */
  readonly destination: number;
  readonly destinationMode: DestinationMode;
  readonly deliveryMode: string;
  readonly trigger: TriggerMode;
  /** VT-d interrupt_index, AMD-Vi IRTE offset or ITS EventID; null when no table entry was used. */
  readonly irte: number | null;
  /** ITS DeviceID; null elsewhere. */
  readonly deviceId: number | null;
  /** Posted Interrupt Descriptor address (VT-d IM=1); null elsewhere. */
  readonly postedDescriptor: number | null;
  /** Owner of the table entry used (IRTE, SPI, ITS event); null when none was used. */
  readonly entryOwner: string | null;
  /**
   * Every CPU that accepted it, with the owner of the vector there (x86: per
   * CPU, from Linux's vector matrix; ARM: the INTID's owner; posted: the
   * descriptor's owner, cpu -1). Empty when none accepted it.
   */
  readonly receivers: readonly InterruptReceiver[];
  /** Requester ID on the wire (after any bridge alias). */
  readonly requesterId: number;
  /** Requester ID as issued (possibly forged). */
  readonly issuedRequesterId: number;
  /** Function id of the device that issued the write ("host" for the CPU). */
  readonly causedBy: string;
  readonly time: number;
  /** CPUs (APIC IDs / PEs) that accepted it; empty when none did. */
  readonly cpus: readonly number[];
  /** A stale interrupt-entry-cache entry was used (VT-d). */
  readonly stale: boolean;
}

export type DeliveryFields = Omit<InterruptDelivery, 'kind' | 'name' | 'requesterId' | 'issuedRequesterId' | 'causedBy' | 'time' | 'effect'>;

export function deliveryModeName(code: number): string {
  return DELIVERY_MODES[code & 7]!;
}

/** The record for a TLP an interrupt controller consumed at `time`. */
export function interruptDelivery(tlp: Tlp, time: number, fields: DeliveryFields): InterruptDelivery {
  const hex = fields.vector.toString(16);
  const where = fields.destination < 0 ? 'posted' : `cpu ${fields.cpus.length > 0 ? fields.cpus.join(',') : 'none'}`;
  return {
    kind: 'interrupt',
    name: `${fields.controller} ${fields.path === 'lpi' || fields.path === 'spi' ? 'intid' : 'vector'} 0x${hex} -> ${where}`,
    requesterId: tlp.requesterId,
    issuedRequesterId: tlp.issuedRequesterId,
    causedBy: issuerOf(tlp),
    time,
    ...fields,
    effect(): Effect {
      return {
        kind: 'interrupt',
        controller: fields.controller,
        path: fields.path,
        entry: fields.irte,
        entryOwner: fields.entryOwner,
        stale: fields.stale,
        vector: fields.vector,
        destination: fields.destination,
        receivers: fields.receivers,
      };
    },
  };
}

/** The issuing function's id (the device that caused the write), "host" for the CPU (the fabric's `tlp.origin`). */
export function issuerOf(tlp: Tlp): string {
  if (tlp.origin !== '') return tlp.origin;
  const issuer = tlp.issuer;
  if (issuer instanceof DeviceNode) return (issuer.functionByRid(tlp.issuedRequesterId) ?? issuer.functions[0]!).id;
  return 'unknown';
}
