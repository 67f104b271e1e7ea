/**
 * Intel VT-d interrupt remapping (VT-d spec §5.1): the interrupt remapping
 * table, the interrupt entry cache (IEC) and the checks of §5.1.4 in the
 * order DESIGN.md §2 lists them:
 *   remapping off → compatibility decode, untranslated;
 *   compatibility format → 25h when EIME is set or CFIS clear, else passed through;
 *   reserved request bits → 20h; index ≥ 2^(IRTA.S+1) → 21h;
 *   table read fails → 23h; P clear → 22h; reserved IRTE bits → 24h;
 *   source-id check (SVT/SQ/SID) → 26h; then the IRTE's interrupt.
 * FPD stops qualified faults (22h, 24h, 26h) from being recorded, never
 * from being blocked.
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { InterruptEvent } from './events.ts';
import type { InterruptRemapper, RemapDecision } from './remap.ts';
import { IrFaultLog, VTD_IR_FAULTS, VtdIrFault, formatFaultCode, type VtdIrFaultCode } from './vtd-faults.ts';
import {
  IRTE_WORDS,
  decodeIrte,
  encodeIrte,
  irteDeliveryMode,
  irteDescriptor,
  irteDestination,
  irteDestinationMode,
  irteFpd,
  irteInvalid,
  irtePosted,
  irtePresent,
  irteUrgent,
  irteRedirectionHint,
  irteSid,
  irteSq,
  irteSvt,
  irteTrigger,
  irteVector,
  sourceIdMatches,
  type IrteFields,
} from './vtd-irte.ts';
import { decodeCompat, decodeRemappable, isRemappable, newRemappableRequest } from './x86-msi.ts';
import { PostedDescriptors } from './vtd-posted.ts';

export interface VtdIrConfig {
  /** GSTS.IRES: interrupt remapping enabled. */
  enabled: boolean;
  /** GSTS.CFIS: compatibility-format interrupts pass through (Linux clears it: "Block compatibility-format MSIs"). */
  cfi: boolean;
  /** IRTA.EIME: x2APIC (extended interrupt) mode. */
  eime: boolean;
  /** IRTA.S: the table holds 2^(S+1) entries (Linux INTR_REMAP_TABLE_REG_SIZE = 0xf: 65536). */
  sizeField: number;
  /** IRTA.IRTA: host-physical base of the table; null = always readable. */
  tableAddress: number | null;
  /** CAP_REG.PI: posted interrupts supported (IRTE IM=1 valid). */
  postedInterrupts: boolean;
  /** Whether the hardware caches IRTEs in an interrupt entry cache (VT-d §6.5.2.7 invalidates it). */
  iec: boolean;
}

/** What Linux programs on a host with interrupt remapping and xAPIC (drivers/iommu/intel/irq_remapping.c). */
export const LINUX_VTD_IR: Readonly<VtdIrConfig> = {
  enabled: true,
  cfi: false,
  eime: false,
  sizeField: 0xf,
  tableAddress: null,
  postedInterrupts: false,
  iec: true,
};

export class VtdIrError extends Error {
  readonly code = 'VTD_IR_USAGE';
}

const IRTE_BYTES = 16;

/** An IEC copy of an entry: the bits the hardware keeps using until software invalidates it (§6.5.2.7). */
interface CachedEntry {
  readonly words: Uint32Array;
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

/** An entry software never wrote: all zero, so not present (P=0). Never written to. */
const EMPTY_IRTE = new Uint32Array(IRTE_WORDS);

export class VtdInterruptRemapper implements InterruptRemapper {
  readonly model = 'vtd';
  readonly config: VtdIrConfig;
  readonly faults = new IrFaultLog();
  /** Posted Interrupt Descriptors the host set up (VT-d §9.12), by address. */
  readonly descriptors = new PostedDescriptors();
  tableReadable: (address: number) => boolean = () => true;
  // Sparse: only entries software wrote are held (Linux sizes the table at 65536 entries; a machine uses a few).
  private readonly table = new Map<number, Uint32Array>();
  private readonly owners = new Map<number, string>();
  private readonly iec = new Map<number, CachedEntry>();
  private readonly request = newRemappableRequest();
  // Scratch for the IRTE in use (hot path: no per-interrupt allocation).
  private words: Uint32Array;
  private at = 0;
  private owner_: string | null = null;
  private stale = false;

  constructor(
    config: Partial<VtdIrConfig> = {},
    private readonly clock: { readonly now: number } = { now: 0 },
    private readonly trace: TraceWriter<InterruptEvent> = NO_TRACE,
  ) {
    this.config = { ...LINUX_VTD_IR, ...config };
    if (!Number.isInteger(this.config.sizeField) || this.config.sizeField < 0 || this.config.sizeField > 0xf) {
      throw new VtdIrError(`IRTA.S must be 0..15 (2..65536 entries), got ${this.config.sizeField}`);
    }
    this.words = EMPTY_IRTE;
  }

  /** IRTA.S: 2^(S+1) entries (VT-d §11.4 IRTA_REG). */
  get entries(): number {
    return 2 ** (this.config.sizeField + 1);
  }

  // Host actions.

  /** Writes an IRTE in memory only: an IEC copy of it, if any, stays in use until invalidated. */
  writeIrte(index: number, fields: IrteFields, owner: string | null): void {
    this.checkIndex(index);
    let words = this.table.get(index);
    if (words === undefined) this.table.set(index, (words = new Uint32Array(IRTE_WORDS)));
    words.fill(0);
    encodeIrte(fields, this.config.eime, words, 0);
    if (owner === null) this.owners.delete(index);
    else this.owners.set(index, owner);
  }

  /**
   * Interrupt Entry Cache invalidation (VT-d §6.5.2.7): global, or
   * index-selective over the 2^indexMask entries aligned at `index`.
   */
  invalidateIec(index?: number, indexMask = 0): void {
    if (index === undefined) {
      this.iec.clear();
      if (this.trace.enabled) this.trace.emit({ type: 'ir.iec-invalidate', scope: 'global', count: this.entries });
      return;
    }
    const count = 2 ** indexMask;
    const first = index - (index % count);
    for (let i = first; i < first + count; i++) this.iec.delete(i);
    if (this.trace.enabled) this.trace.emit({ type: 'ir.iec-invalidate', scope: first, count });
  }

  /** What Linux's modify_irte does: write the entry, then qi_flush_iec(index, 0). */
  modifyIrte(index: number, fields: IrteFields, owner: string | null): void {
    this.writeIrte(index, fields, owner);
    this.invalidateIec(index, 0);
  }

  /** What Linux's clear_entries does: zero the entry (P=0), then flush it from the IEC. */
  clearIrte(index: number): void {
    this.checkIndex(index);
    this.table.delete(index);
    this.owners.delete(index);
    this.invalidateIec(index, 0);
  }

  /** The entry as the table holds it now (not the IEC). */
  irte(index: number): ReturnType<typeof decodeIrte> & { owner: string | null } {
    this.checkIndex(index);
    return { ...decodeIrte(this.table.get(index) ?? EMPTY_IRTE, 0, this.config.eime), owner: this.owners.get(index) ?? null };
  }

  owner(index: number): string | null {
    return this.owners.get(index) ?? null;
  }

  /** True while an IEC copy of the entry is cached. */
  cached(index: number): boolean {
    return this.iec.has(index);
  }

  // The hardware.

  remap(tlp: Tlp, address: number, data: number, out: RemapDecision): void {
    const cfg = this.config;
    if (!cfg.enabled) {
      decodeCompat(address, data, out.attrs);
      out.path = 'untranslated';
      out.rule = RULE.disabled;
      return;
    }
    if (!isRemappable(address)) {
      if (cfg.eime || !cfg.cfi) {
        return this.fault(tlp, out, VtdIrFault.compatBlocked, null, false, RULE.compatBlocked, this.trace.enabled ? (cfg.eime ? 'EIME is set (x2APIC mode)' : 'CFIS is clear') : '');
      }
      decodeCompat(address, data, out.attrs);
      out.path = 'compat-passthrough';
      out.rule = RULE.compatPassthrough;
      return;
    }
    const req = decodeRemappable(address, data, this.request);
    if (req.reservedSet) return this.fault(tlp, out, VtdIrFault.reservedRequest, null, false, RULE.reservedRequest, '');
    const index = req.index;
    if (index >= this.entries) {
      return this.fault(tlp, out, VtdIrFault.indexOutOfRange, index, false, RULE.indexOutOfRange, this.trace.enabled ? `index ${index} ≥ ${this.entries} entries (IRTA.S=${cfg.sizeField})` : '');
    }
    if (cfg.tableAddress !== null && !this.tableReadable(cfg.tableAddress + index * IRTE_BYTES)) {
      return this.fault(tlp, out, VtdIrFault.tableAccess, index, false, RULE.tableAccess, '');
    }
    this.fetch(index);
    const words = this.words;
    const at = this.at;
    const fpd = irteFpd(words, at);
    if (!irtePresent(words, at)) return this.fault(tlp, out, VtdIrFault.notPresent, index, fpd, RULE.notPresent, '');
    const invalid = irteInvalid(words, at, cfg.eime, cfg.postedInterrupts);
    if (invalid !== null) return this.fault(tlp, out, VtdIrFault.reservedIrte, index, fpd, RULE.reservedIrte, invalid);
    const svt = irteSvt(words, at);
    const sid = irteSid(words, at);
    const sq = irteSq(words, at);
    if (!sourceIdMatches(svt, sq, sid, tlp.requesterId)) {
      const detail = !this.trace.enabled
        ? ''
        : svt === 2
          ? `SVT=10b: bus ${hex2(tlp.requesterId >>> 8)} outside ${hex2(sid >>> 8)}..${hex2(sid & 0xff)}`
          : `SVT=01b: requester ${formatRid(tlp.requesterId)} ≠ SID ${formatRid(sid)} under SQ=${sq.toString(2).padStart(2, '0')}b`;
      return this.fault(tlp, out, VtdIrFault.sourceId, index, fpd, RULE.sourceId, detail);
    }
    out.index = index;
    out.entryOwner = this.owner_;
    out.stale = this.stale;
    const a = out.attrs;
    a.vector = irteVector(words, at);
    if (irtePosted(words, at)) {
      out.path = 'posted';
      out.postedDescriptor = irteDescriptor(words, at);
      const posting = this.descriptors.post(out.postedDescriptor, a.vector, irteUrgent(words, at));
      out.postedOwner = posting.descriptor?.owner ?? null;
      if (this.trace.enabled) {
        out.detail = posting.descriptor === null
          ? `PDA 0x${out.postedDescriptor.toString(16)} is no descriptor the host set up`
          : `PIR bit 0x${a.vector.toString(16)} of ${posting.descriptor.name} (${posting.descriptor.owner})${posting.notified ? `, notification vector 0x${posting.notified.vector.toString(16)} to CPU ${posting.notified.destination}` : ', no notification (ON already set or SN)'}`;
      }
      a.destination = -1;
      a.deliveryMode = 0;
      a.trigger = 'edge';
      out.rule = RULE.posted;
    } else {
      out.path = 'remapped';
      a.destination = irteDestination(words, at, cfg.eime);
      a.destinationMode = irteDestinationMode(words, at);
      a.redirectionHint = irteRedirectionHint(words, at);
      a.deliveryMode = irteDeliveryMode(words, at);
      a.trigger = irteTrigger(words, at);
      a.assert = true;
      out.rule = this.stale ? RULE.remappedStale : RULE.remapped;
    }
    if (this.trace.enabled) {
      this.trace.emit({ type: 'ir.remapped', tlp: tlp.id, model: 'vtd', index, owner: this.owner_, requester: formatRid(tlp.requesterId), vector: a.vector, destination: a.destination, stale: this.stale, ...(out.path === 'posted' ? { posted: out.detail } : {}) });
    }
  }

  /**
   * Loads the IRTE the hardware uses into (words, at, owner_, stale): its IEC
   * copy when cached, else the table's, which is then cached if present
   * (VT-d §6.5.2.7: software must invalidate the IEC after changing an entry;
   * Linux modify_irte always does).
   */
  private fetch(index: number): void {
    const t = this.table.get(index) ?? EMPTY_IRTE;
    const cached = this.config.iec ? this.iec.get(index) : undefined;
    if (cached !== undefined) {
      const c = cached.words;
      this.words = c;
      this.at = 0;
      // The cached copy decides what is delivered; whose entry it is, is what the configuration says now.
      this.owner_ = this.owners.get(index) ?? null;
      this.stale = c[0] !== t[0] || c[1] !== t[1] || c[2] !== t[2] || c[3] !== t[3];
      return;
    }
    this.words = t;
    this.at = 0;
    this.owner_ = this.owners.get(index) ?? null;
    this.stale = false;
    if (this.config.iec && irtePresent(t, 0)) {
      this.iec.set(index, { words: t.slice(0, IRTE_WORDS) });
    }
  }

  private fault(tlp: Tlp, out: RemapDecision, code: VtdIrFaultCode, index: number | null, fpd: boolean, rule: string, detail: string): void {
    const recorded = this.faults.report(code, tlp.requesterId, index, this.clock.now, tlp.id, fpd);
    out.kind = 'fault';
    out.faultCode = code;
    out.index = index;
    out.entryOwner = index === null ? null : (this.owners.get(index) ?? null);
    out.reason = VTD_IR_FAULTS[code].reason;
    out.rule = rule;
    if (this.trace.enabled) {
      out.detail = `fault ${formatFaultCode(code)}${detail === '' ? '' : `: ${detail}`}${recorded ? '' : ' (not recorded: FPD set)'}`;
      this.trace.emit({ type: 'ir.fault', tlp: tlp.id, model: 'vtd', code, reason: out.reason, requester: formatRid(tlp.requesterId), index, recorded });
    }
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.entries) {
      throw new VtdIrError(`IRTE index ${index} outside the table of ${this.entries} entries`);
    }
  }
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}

/** The sources of each decision, as traces and `explain` cite them. */
const RULE = {
  disabled: 'VT-d §5.1.4: interrupt remapping disabled (GSTS.IRES=0): requests are processed in compatibility format (SDM §11.11)',
  compatBlocked: 'VT-d §5.1.4: a compatibility-format request is blocked when EIME is set or CFIS is clear (fault 25h)',
  compatPassthrough: 'VT-d §5.1.4: with EIME clear and CFIS set a compatibility-format request bypasses interrupt remapping',
  reservedRequest: 'VT-d §5.1.2.2/§5.1.4: reserved fields (data bits 31:16) set in a remappable request (fault 20h)',
  indexOutOfRange: 'VT-d §5.1.3: interrupt_index at or beyond the 2^(IRTA.S+1) table entries (fault 21h)',
  tableAccess: 'VT-d §5.1.4.1: reading the IRTE through IRTA failed (fault 23h)',
  notPresent: 'VT-d §5.1.4: the IRTE has P=0 (fault 22h)',
  reservedIrte: 'VT-d §9.10/§5.1.4.1: reserved or wrongly programmed IRTE fields with P=1 (fault 24h)',
  sourceId: 'VT-d §9.10 SVT/SQ/SID: the requester fails the IRTE source-id check (fault 26h)',
  remapped: 'VT-d §5.1.4: remapped with the vector and destination of the IRTE',
  remappedStale: 'VT-d §6.5.2.7: remapped with a stale IEC copy of the IRTE (the entry changed without an IEC invalidation)',
  posted: 'VT-d §5.2.3: the IRTE is in posted format (IM=1): the vector is posted to its descriptor',
} as const;
