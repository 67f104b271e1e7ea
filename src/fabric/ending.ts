/**
 * The ending record: what became of one TLP, written once at the one place
 * TLPs end (Fabric.end), or of a principal's action the host refused before
 * any TLP existed. Besides outcome, reason code and where it was decided, it
 * lists every effect the TLP had — each byte span it touched with the region
 * or BAR (and sub-region) holding it and that span's owner, each CPU that
 * accepted an interrupt with the vector's owner there, the function that
 * received a completion's data. Verdicts are judged from these records only.
 */
import type { AddressType, Outcome, TlpType } from '../pcie/tlp.ts';

/** A stretch of bytes with one owner. `unclaimed`: no region or BAR holds them (written nowhere). */
export interface ByteSpan {
  readonly base: number;
  readonly length: number;
  readonly kind: 'memory' | 'bar' | 'unclaimed';
  /** Memory region name, or the BAR ("nic.bar0"); null when unclaimed. */
  readonly region: string | null;
  /** BAR sub-region name (`regions:`), or "past-end" for bytes a BAR's completer took beyond its end. */
  readonly sub: string | null;
  readonly owner: string | null;
}

export interface InterruptReceiver {
  /** APIC ID (x86), PE (GIC); -1 for a posted interrupt (its descriptor's owner takes it). */
  readonly cpu: number;
  readonly vector: number;
  /** Owner of that vector on that CPU (of the posted descriptor; of the INTID on ARM); null when unassigned. */
  readonly vectorOwner: string | null;
}

export type Effect =
  | { readonly kind: 'bytes'; readonly op: 'write' | 'read'; readonly spans: readonly ByteSpan[] }
  | {
      readonly kind: 'interrupt';
      /** "lapic", "gicv2m", "gicv3-its" and how it got there ("remapped", "compat-passthrough", …). */
      readonly controller: string;
      readonly path: string;
      /** Table entry used (VT-d IRTE index, AMD-Vi IRTE, ITS EventID), and its owner; null when none. */
      readonly entry: number | null;
      readonly entryOwner: string | null;
      readonly stale: boolean;
      /** Vector and destination ID the message (or its IRTE) named; -1 for a posted interrupt. */
      readonly vector: number;
      readonly destination: number;
      /** Every CPU that accepted it. */
      readonly receivers: readonly InterruptReceiver[];
    }
  | { readonly kind: 'config'; readonly op: 'write' | 'read'; readonly device: string; readonly offset: number; readonly length: number; readonly owner: string | null }
  /** A completion's data reached a function (or the host): who learnt what a read returned. */
  | { readonly kind: 'data'; readonly device: string; readonly owner: string | null };

export interface Ending {
  /** TLP id; null for a host-side refusal (no TLP was ever put on the fabric). */
  readonly tlp: number | null;
  readonly type: TlpType | null;
  /** Issuing function id, or "host". */
  readonly origin: string;
  /** Principal the TLP acts for: the owner of the issuing function, or the principal a host action served. */
  readonly principal: string | null;
  /** Requester ID as issued (possibly forged). */
  readonly requester: number;
  /** Address as issued (IOVA for DMA), and length in bytes. */
  readonly address: number;
  /** The exact address as hex text when it is 2^53 or more (`address` then stands for it, rounded). */
  readonly exactAddress?: string;
  readonly length: number;
  readonly at: AddressType;
  readonly outcome: Outcome;
  /** Code in the reason registry (src/pcie/reasons.ts). */
  readonly reason: string;
  /** The rule as applied here (spec section or kernel function, with specifics). */
  readonly rule: string;
  readonly decidedAt: string;
  readonly faultCode: number | null;
  readonly time: number;
  /** For a completion: the request's TLP id. */
  readonly request: number | null;
  /** Scenario step index that caused it, when known; -1 otherwise. */
  readonly step: number;
  readonly effects: readonly Effect[];
}

/** Who owns what the fabric touches: supplied by the layer that knows principals. */
export interface Attribution {
  /** Host-memory bytes [base, base+length), split at every region boundary. */
  memorySpans(base: number, length: number): ByteSpan[];
  /** Bytes of a BAR [base, base+length) within it, split at its sub-regions. */
  barSpans(bar: { readonly name: string; readonly base: number; readonly size: number }, base: number, length: number): ByteSpan[];
  ownerOfFunction(id: string): string | null;
  /**
   * Whom a function's TLPs act for now, fixed on each TLP when it is issued:
   * its owner, or after a hand-over the principal whose DMA programming it
   * still runs. Absent: its owner.
   */
  actorOf?(id: string): string | null;
}

/** An effect that a consumer of the TLP (an interrupt controller's record) describes itself. */
export interface EffectSource {
  effect(): Effect;
}

export function hasEffect(target: unknown): target is EffectSource {
  return typeof (target as Partial<EffectSource> | null)?.effect === 'function';
}
