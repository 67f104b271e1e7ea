/**
 * Transaction Layer Packets (PCIe Base 6.0 §2.2). A TLP carries its
 * attributes the way QEMU's MemTxAttrs does: requester ID, AT field and
 * PASID travel with it, and every hop decides on them. The fields under
 * "ending" are written exactly once, when the TLP reaches its terminal
 * outcome (DESIGN.md §1: nothing vanishes).
 */
import { formatRid, type RequesterId } from './bdf.ts';

export type TlpType = 'MemRd' | 'MemWr' | 'IORd' | 'IOWr' | 'Cpl' | 'CplD' | 'CfgRd' | 'CfgWr' | 'Msg';

/** The AT field (§2.2.4.1): 00 untranslated, 01 translation request, 10 translated. */
export type AddressType = 'untranslated' | 'translation-request' | 'translated';

/** Completion status (§2.2.9): successful, unsupported request, completer abort. */
export type CompletionStatus = 'SC' | 'UR' | 'CA';

/** Message routing (§2.2.8): to the root complex, by ID, local (terminate at receiver), broadcast. */
export type MessageRouting = 'to-root' | 'by-id' | 'local' | 'broadcast';

/** Terminal outcomes (DESIGN.md §1). */
export type Outcome = 'delivered' | 'completed' | 'blocked' | 'faulted' | 'unsupported-request';
export const OUTCOMES: readonly Outcome[] = ['delivered', 'completed', 'blocked', 'faulted', 'unsupported-request'];

/** Whatever consumed a TLP (a memory region, a BAR, an interrupt record); owners refine it. */
export interface TlpTarget {
  readonly name: string;
}

export function isMemoryRequest(type: TlpType): boolean {
  return type === 'MemRd' || type === 'MemWr';
}

/** I/O Read and Write Requests (§2.2.7): tlplab decodes no I/O space; ACS Enhanced can block them (§6.12.1.1). */
export function isIoRequest(type: TlpType): boolean {
  return type === 'IORd' || type === 'IOWr';
}

export function isCompletion(type: TlpType): boolean {
  return type === 'Cpl' || type === 'CplD';
}

export interface TlpInit {
  type: TlpType;
  requesterId: RequesterId;
  address?: number;
  length?: number;
  data?: number;
  at?: AddressType;
  pasid?: number | null;
  targetId?: RequesterId;
  routing?: MessageRouting;
  /** Set for completions: the request they answer. */
  request?: Tlp | null;
  status?: CompletionStatus;
  /** Index of the scenario step that put it on the fabric; -1 when none (completions inherit their request's). */
  step?: number;
  /** The principal a host-issued TLP acts for (a VFIO user's config or MMIO access); null for the host itself. */
  actingFor?: string | null;
  /**
   * A 64-bit address at or above 2^53, as exact hex text; `address` then
   * holds Number(exact), which orders the same against every range (all
   * below 2^53) and so decides the same way.
   */
  exactAddress?: string | null;
}

/** A TlpInit whose requester ID may be given beside it (see the Tlp constructor). */
export type TlpFields = Omit<TlpInit, 'requesterId'> & { requesterId?: RequesterId };

export class Tlp {
  readonly type: TlpType;
  /** Requester ID on the wire; a PCIe-to-PCI bridge rewrites it to its alias. */
  requesterId: RequesterId;
  /** Requester ID as first put on the wire (possibly forged); never rewritten. */
  readonly issuedRequesterId: RequesterId;
  /** Memory address on the wire; the root complex rewrites it with the translated address. */
  address: number;
  /** Address as issued (the IOVA for DMA through an IOMMU); never rewritten. */
  readonly issuedAddress: number;
  /** Payload or requested length in bytes. */
  length: number;
  /** Write payload, when modelled (a DWORD for MSI writes). */
  data: number;
  at: AddressType;
  /** PASID TLP prefix; null when absent. */
  pasid: number | null;
  /** Completion, configuration and ID-routed message target. */
  targetId: RequesterId;
  routing: MessageRouting;
  readonly request: Tlp | null;
  status: CompletionStatus;
  readonly step: number;
  readonly actingFor: string | null;
  readonly exactAddress: string | null;

  /** Modelled content that is not a number (an ATS translation completion entry). */
  attachment: object | null = null;
  /**
   * The principal a device-issued TLP acts for, fixed when it is issued
   * (the fabric sets it from its attribution): a TLP already on the wire
   * when its device changes hands still carries the intent of whoever
   * programmed it. Null: decided from the issuing function's owner.
   */
  principal: string | null = null;

  // Routing bookkeeping, owned by the fabric.
  /** Id of the function that put this TLP on the fabric, or "host"; completions: the completer. */
  origin = '';
  /** The node that put this TLP on the fabric; the fabric types it. */
  issuer: object | null = null;
  /** The node that handed this TLP over on the last hop; the fabric types it. */
  from: object | null = null;
  /** Set once an ACS redirect sent this TLP upstream (ACS UF acts on it). */
  redirected = false;
  hops = 0;

  // Ending: set once, when the TLP reaches its terminal outcome.
  outcome: Outcome | null = null;
  /** Stable reason code, e.g. "acs.source-validation", "iommu.fault". */
  reason = '';
  /** Name of the node or agent that decided the outcome. */
  decidedAt = '';
  /** The rule's source (spec section or kernel function), for `explain`. */
  rule = '';
  /** IOMMU or interrupt-remapping fault reason code; null when none. */
  faultCode: number | null = null;
  /** What consumed the TLP (memory region, BAR, interrupt record); typed by its owner. */
  target: TlpTarget | null = null;
  /** Simulated time of the ending. */
  endedAt = -1;

  constructor(id: number, init: TlpInit);
  /**
   * `requesterId` given beside `init` wins over init's own: the fabric issues
   * a caller's init as is, without copying it into a new object (hot path).
   */
  constructor(id: number, init: TlpFields, requesterId: RequesterId);
  constructor(
    readonly id: number,
    init: TlpFields,
    requesterId: RequesterId = init.requesterId!,
  ) {
    this.type = init.type;
    this.requesterId = requesterId;
    this.issuedRequesterId = requesterId;
    this.address = init.address ?? 0;
    this.issuedAddress = this.address;
    this.length = init.length ?? 4;
    this.data = init.data ?? 0;
    this.at = init.at ?? 'untranslated';
    this.pasid = init.pasid ?? null;
    this.targetId = init.targetId ?? 0;
    this.routing = init.routing ?? 'by-id';
    this.request = init.request ?? null;
    this.status = init.status ?? 'SC';
    this.step = init.step ?? init.request?.step ?? -1;
    this.actingFor = init.actingFor ?? null;
    this.exactAddress = init.exactAddress ?? null;
  }

  get ended(): boolean {
    return this.outcome !== null;
  }

  /** Short description used in errors and traces: "tlp#7 MemWr 0xfee00000 from 03:00.0". */
  get label(): string {
    const where = isCompletion(this.type) || this.type.startsWith('Cfg') ? `to ${formatRid(this.targetId)}` : (this.exactAddress ?? `0x${this.address.toString(16)}`);
    return `tlp#${this.id} ${this.type} ${where} from ${formatRid(this.requesterId)}`;
  }
}
