/**
 * The 128-bit Interrupt Remapping Table Entry (VT-d spec §9.10 "IRTE for
 * Remapped Interrupts", §9.11 "IRTE for Posted Interrupts"), kept as four
 * 32-bit words so a table is one Uint32Array. Bit positions as VirtualBox's
 * include/VBox/iommu-intel.h VTD_BF_0_IRTE_* / VTD_BF_1_IRTE_* give them.
 */
import type { DestinationMode, TriggerMode } from './x86-msi.ts';

export const IRTE_WORDS = 4;

// Word 0 (bits 31:0).
const P = 1 << 0;
const FPD = 1 << 1;
const DM = 1 << 2;
const RH = 1 << 3;
const TM = 1 << 4;
const DLM_SHIFT = 5;
const AVAIL_SHIFT = 8;
const URG = 1 << 14;
const IM = 1 << 15;
const VECTOR_SHIFT = 16;
/** Remapped format: bits 14:12 and 31:24 reserved (§9.10). */
const W0_RSVD_REMAPPED = 0xff00_7000;
/** Posted format: bits 7:2, 13:12 and 31:24 reserved (§9.11). */
const W0_RSVD_POSTED = 0xff00_30fc;
/** Word 1 in xAPIC mode (EIME=0): DST[7:0] sits in bits 47:40; 39:32 and 63:48 reserved (§9.10). */
const W1_RSVD_XAPIC = 0xffff_00ff;
/** Word 1 in posted format: bits 37:32 reserved, 63:38 are PDA-L (§9.11). */
const W1_RSVD_POSTED = 0x0000_003f;
// Word 2 (bits 95:64).
const SQ_SHIFT = 16;
const SVT_SHIFT = 18;
/** Bits 95:84 reserved in both formats. */
const W2_RSVD = 0xfff0_0000;

/** Source Validation Type (§9.10 SVT). */
export const Svt = { none: 0, requesterId: 1, busRange: 2, reserved: 3 } as const;

/**
 * SQ masks for SVT=01 (§9.10 SQ): 00 compare all 16 bits, 01 ignore bit 2,
 * 10 ignore bits 2:1, 11 ignore bits 2:0 (phantom functions, §3.9.4).
 */
export const SQ_MASKS: readonly number[] = [0xffff, 0xfffb, 0xfff9, 0xfff8];

export interface IrteFields {
  readonly present?: boolean;
  /** Fault Processing Disable: qualified faults through this entry are not recorded. */
  readonly fpd?: boolean;
  readonly destinationMode?: DestinationMode;
  readonly redirectionHint?: boolean;
  readonly trigger?: TriggerMode;
  /** DLM: 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT. */
  readonly deliveryMode?: number;
  /** IM: 1 = posted format (§9.11); needs CAP_REG.PI. */
  readonly posted?: boolean;
  readonly urgent?: boolean;
  readonly vector: number;
  /** APIC ID (xAPIC: 8 bits, x2APIC: 32 bits). Ignored in posted format. */
  readonly destination?: number;
  /** Posted format: the 64-byte aligned Posted Interrupt Descriptor address. */
  readonly descriptor?: number;
  readonly sid?: number;
  readonly sq?: number;
  readonly svt?: number;
  /** Raw bits OR-ed into words 0..3 (tests use this to set reserved bits). */
  readonly raw?: readonly [number, number, number, number];
}

/** Writes an entry at word `at` of `words` in the encoding EIME selects. */
export function encodeIrte(f: IrteFields, eime: boolean, words: Uint32Array, at: number): void {
  let w0 = ((f.present ?? true) ? P : 0) | (f.fpd ? FPD : 0) | ((f.vector & 0xff) << VECTOR_SHIFT);
  let w1: number;
  if (f.posted) {
    w0 |= IM | (f.urgent ? URG : 0);
    const pda = f.descriptor ?? 0;
    w1 = (pda % 0x1_0000_0000) & ~0x3f;
    words[at + 3] = Math.floor(pda / 0x1_0000_0000) >>> 0;
  } else {
    w0 |= (f.destinationMode === 'logical' ? DM : 0) | (f.redirectionHint ? RH : 0) | (f.trigger === 'level' ? TM : 0);
    w0 |= ((f.deliveryMode ?? 0) & 7) << DLM_SHIFT;
    const dest = f.destination ?? 0;
    w1 = eime ? dest : (dest & 0xff) << 8;
    words[at + 3] = 0;
  }
  const w2 = ((f.sid ?? 0) & 0xffff) | (((f.sq ?? 0) & 3) << SQ_SHIFT) | (((f.svt ?? 0) & 3) << SVT_SHIFT);
  const raw = f.raw ?? [0, 0, 0, 0];
  words[at] = (w0 | raw[0]) >>> 0;
  words[at + 1] = (w1 | raw[1]) >>> 0;
  words[at + 2] = (w2 | raw[2]) >>> 0;
  words[at + 3] = (words[at + 3]! | raw[3]) >>> 0;
}

// Hot-path field readers over a word array.
export const irtePresent = (w: Uint32Array, at: number): boolean => (w[at]! & P) !== 0;
export const irteFpd = (w: Uint32Array, at: number): boolean => (w[at]! & FPD) !== 0;
export const irtePosted = (w: Uint32Array, at: number): boolean => (w[at]! & IM) !== 0;
export const irteVector = (w: Uint32Array, at: number): number => (w[at]! >>> VECTOR_SHIFT) & 0xff;
export const irteDeliveryMode = (w: Uint32Array, at: number): number => (w[at]! >>> DLM_SHIFT) & 7;
export const irteDestinationMode = (w: Uint32Array, at: number): DestinationMode => ((w[at]! & DM) !== 0 ? 'logical' : 'physical');
export const irteRedirectionHint = (w: Uint32Array, at: number): boolean => (w[at]! & RH) !== 0;
export const irteTrigger = (w: Uint32Array, at: number): TriggerMode => ((w[at]! & TM) !== 0 ? 'level' : 'edge');
export const irteSid = (w: Uint32Array, at: number): number => w[at + 2]! & 0xffff;
export const irteSq = (w: Uint32Array, at: number): number => (w[at + 2]! >>> SQ_SHIFT) & 3;
export const irteSvt = (w: Uint32Array, at: number): number => (w[at + 2]! >>> SVT_SHIFT) & 3;
export const irteUrgent = (w: Uint32Array, at: number): boolean => (w[at]! & URG) !== 0;
export const irteAvailable = (w: Uint32Array, at: number): number => (w[at]! >>> AVAIL_SHIFT) & 0xf;

/** §9.10 DST: all 32 bits in x2APIC mode (EIME=1), bits 47:40 in xAPIC mode. */
export function irteDestination(w: Uint32Array, at: number, eime: boolean): number {
  return eime ? w[at + 1]! : (w[at + 1]! >>> 8) & 0xff;
}

/** §9.11 PDA-H:PDA-L, the Posted Interrupt Descriptor address. */
export function irteDescriptor(w: Uint32Array, at: number): number {
  return w[at + 3]! * 0x1_0000_0000 + ((w[at + 1]! & ~0x3f) >>> 0);
}

/**
 * Why a present entry is invalid (fault 24h), or null. §9.10/§9.11 reserved
 * bits; IM=1 without posted-interrupt support (IM is reserved when CAP_REG.PI
 * is 0); the reserved SVT encoding 11b; the reserved DLM encodings 011b and
 * 110b ("conditionally reserved fields programmed wrongly", §5.1.4.1 24h).
 */
export function irteInvalid(w: Uint32Array, at: number, eime: boolean, postedSupported: boolean): string | null {
  if ((w[at + 2]! & W2_RSVD) !== 0) return 'reserved bits 95:84 set';
  if (irteSvt(w, at) === Svt.reserved) return 'SVT 11b is reserved';
  if (irtePosted(w, at)) {
    if (!postedSupported) return 'IM set but posted interrupts are not supported (CAP_REG.PI=0)';
    if ((w[at]! & W0_RSVD_POSTED) !== 0 || (w[at + 1]! & W1_RSVD_POSTED) !== 0) return 'reserved bits of a posted-format IRTE set';
    return null;
  }
  if ((w[at]! & W0_RSVD_REMAPPED) !== 0) return 'reserved bits 14:12 or 31:24 set';
  if (!eime && (w[at + 1]! & W1_RSVD_XAPIC) !== 0) return 'reserved destination bits set in xAPIC mode (EIME=0)';
  if (w[at + 3]! !== 0) return 'reserved bits 127:96 set';
  const dlm = irteDeliveryMode(w, at);
  if (dlm === 3 || dlm === 6) return `delivery mode ${dlm.toString(2).padStart(3, '0')}b is reserved`;
  return null;
}

/**
 * The source-ID check of §9.10 (SVT/SQ/SID): 00 no check; 01 requester ID
 * equals SID under the SQ mask; 10 requester bus within [SID[15:8], SID[7:0]],
 * both inclusive (Linux set_irte_verify_bus(start_bus, end_bus) writes
 * start << 8 | end; VirtualBox reads it the same way; QEMU reads it inverted).
 */
export function sourceIdMatches(svt: number, sq: number, sid: number, requesterId: number): boolean {
  switch (svt) {
    case Svt.none:
      return true;
    case Svt.requesterId: {
      const mask = SQ_MASKS[sq]!;
      return (requesterId & mask) === (sid & mask);
    }
    case Svt.busRange: {
      const bus = (requesterId >>> 8) & 0xff;
      return bus >= sid >>> 8 && bus <= (sid & 0xff);
    }
    default:
      return false;
  }
}

/** A readable view of an entry, for traces, reports and tests (not the hot path). */
export function decodeIrte(w: Uint32Array, at: number, eime: boolean): Required<Omit<IrteFields, 'raw'>> & { available: number } {
  return {
    present: irtePresent(w, at),
    fpd: irteFpd(w, at),
    destinationMode: irteDestinationMode(w, at),
    redirectionHint: irteRedirectionHint(w, at),
    trigger: irteTrigger(w, at),
    deliveryMode: irteDeliveryMode(w, at),
    posted: irtePosted(w, at),
    urgent: (w[at]! & URG) !== 0,
    vector: irteVector(w, at),
    destination: irteDestination(w, at, eime),
    descriptor: irteDescriptor(w, at),
    sid: irteSid(w, at),
    sq: irteSq(w, at),
    svt: irteSvt(w, at),
    available: irteAvailable(w, at),
  };
}
