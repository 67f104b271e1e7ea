/**
 * The fabric's trace vocabulary (a discriminated union on `type`, in the
 * style of XState's inspection events). Upper layers add their own events
 * to the same trace; `explain` reads a TLP's story from these records.
 */
import type { AddressType, Outcome, TlpType } from '../pcie/tlp.ts';

/** What a node did with a TLP on one hop. */
export type HopDecision =
  | 'issue'
  | 'up'
  | 'down'
  | 'p2p-direct'
  | 'redirect-up'
  | 'upstream-forward'
  | 'reflect-down'
  | 'alias'
  | 'translate'
  | 'decode'
  /** Interrupt remapping or MSI translation (VT-d IRTE, AMD-Vi table, GIC ITS) at the root complex. */
  | 'remap';

export interface TlpIssuedEvent {
  readonly type: 'tlp.issued';
  readonly tlp: number;
  readonly kind: TlpType;
  /** Issuing function id, or "host". */
  readonly by: string;
  readonly requester: string;
  readonly address: number;
  /** Exact hex text of an address at or above 2^53. */
  readonly exactAddress?: string;
  readonly length: number;
  readonly data: number;
  readonly at: AddressType;
}

export interface TlpHopEvent {
  readonly type: 'tlp.hop';
  readonly tlp: number;
  /** Node that decided. */
  readonly node: string;
  readonly decision: HopDecision;
  readonly rule: string;
  /** Next node, when the TLP moves on. */
  readonly next: string;
  readonly note?: string;
}

export interface TlpEndedEvent {
  readonly type: 'tlp.ended';
  readonly tlp: number;
  readonly kind: TlpType;
  readonly node: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly rule: string;
  readonly faultCode: number | null;
  /** Name of what consumed it (memory region, "dev.bar0", interrupt), when delivered. */
  readonly target: string | null;
}

/** The host refused a principal's action before any TLP was put on the fabric (VFIO, xen-pciback, a gate). */
export interface HostRefusedEvent {
  readonly type: 'host.refused';
  /** Scenario step index, -1 when the refusal is not a step's (a gate). */
  readonly step: number;
  readonly principal: string | null;
  readonly reason: string;
  readonly rule: string;
  readonly node: string;
}

/** A link went down or came up (hot-plug, surprise removal). */
export interface LinkStateEvent {
  readonly type: 'link.state';
  readonly port: string;
  readonly device: string;
  readonly up: boolean;
}

/**
 * One thing the host did in a host step (a part of Linux's or Xen's
 * sequence: clear bus mastering, reset, switch domain, free interrupts…),
 * with the function or spec section it follows.
 */
export interface HostActionEvent {
  readonly type: 'host.action';
  readonly step: number;
  readonly device: string | null;
  readonly action: string;
  readonly rule: string;
}

export type FabricEvent = TlpIssuedEvent | TlpHopEvent | TlpEndedEvent | HostRefusedEvent | LinkStateEvent | HostActionEvent;

/** The part of a trace a layer writes to: enabled flag plus emit (DESIGN.md §1: one check when off). */
export interface TraceWriter<E> {
  readonly enabled: boolean;
  emit(event: E): number;
}
