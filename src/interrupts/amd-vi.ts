/**
 * AMD-Vi interrupt remapping (AMD I/O Virtualization Technology spec, pub.
 * 48882, §2.2.5 "Interrupt Remapping"; DTE fields §2.2.2.1 Table 7). Every
 * DeviceID has its own device table entry and so its own interrupt table:
 * the MSI data bits 10:0 index *that* table, so a device cannot name
 * another's entry. Behaviour follows VirtualBox DevIommuAmd.cpp
 * (iommuAmdLookupIntrTable / iommuAmdReadIrte / iommuAmdRemapIntr):
 *   IV=0 → forwarded unmapped;
 *   fixed/arbitrated: IntCtl 00 target abort, 01 forwarded unmapped, 10 remapped,
 *     11 or IntTabLen > 1011b → ILLEGAL_DEV_TABLE_ENTRY;
 *   remapped: offset ≥ 2^IntTabLen, RemapEn=0, GuestMode or IntType > 1 → IO_PAGE_FAULT;
 *   NMI / INIT / ExtINT pass only with NMIPass / INITPass / EIntPass;
 *   SMI passes only with SysMgt allowing it; reserved types are target aborted.
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { InterruptEvent } from './events.ts';
import type { InterruptRemapper, RemapDecision } from './remap.ts';
import { DeliveryModeCode, decodeCompat, type DestinationMode } from './x86-msi.ts';

/** Event log codes (§2.5.1; Linux amd_iommu_types.h EVENT_TYPE_ILL_DEV / EVENT_TYPE_IO_FAULT). */
export const AmdViEvent = { illegalDeviceTableEntry: 0x1, ioPageFault: 0x2 } as const;
export type AmdViEventCode = (typeof AmdViEvent)[keyof typeof AmdViEvent];

/** DTE IntCtl (bits 189:188). */
export const IntCtl = { abort: 0, pass: 1, remap: 2, reserved: 3 } as const;

/** Largest valid IntTabLen: 1011b, 2048 entries (values above are reserved). */
const MAX_INT_TAB_LEN = 11;

export interface AmdDteInterrupt {
  /** IV: the interrupt fields below are valid; clear = interrupts forwarded unmapped. */
  readonly iv: boolean;
  /** IntTabLen: the table has 2^IntTabLen entries. Linux DTE_INTTABLEN_VALUE = 9 (512). */
  readonly intTabLen: number;
  /** IG: IO_PAGE_FAULT events are not logged for unmapped interrupts. */
  readonly ig?: boolean;
  readonly intCtl: number;
  readonly nmiPass?: boolean;
  readonly initPass?: boolean;
  readonly extIntPass?: boolean;
  /** SysMgt allows device SMIs through (modelled as a single switch). */
  readonly smiPass?: boolean;
}

/** Linux init_device_table: every DeviceID gets IV=1 and IntCtl=00 until its own table is set up. */
export const LINUX_DEFAULT_DTE: AmdDteInterrupt = { iv: true, intTabLen: 0, intCtl: IntCtl.abort };
/** What Linux's set_dte_irq_entry programs once a device has a table. */
export const LINUX_REMAP_DTE: AmdDteInterrupt = { iv: true, intTabLen: 9, intCtl: IntCtl.remap };

/** The 32-bit IRTE with guest virtual APIC disabled (§2.2.5.1). */
export interface AmdIrteFields {
  readonly remapEnable: boolean;
  readonly suppressIoPageFault?: boolean;
  /** IntType: 000b fixed, 001b arbitrated; others reserved. */
  readonly intType?: number;
  readonly destinationMode?: DestinationMode;
  readonly guestMode?: boolean;
  readonly destination: number;
  readonly vector: number;
}

export function encodeAmdIrte(f: AmdIrteFields): number {
  return (
    ((f.remapEnable ? 1 : 0) |
      (f.suppressIoPageFault ? 1 << 1 : 0) |
      (((f.intType ?? 0) & 7) << 2) |
      (f.destinationMode === 'logical' ? 1 << 6 : 0) |
      (f.guestMode ? 1 << 7 : 0) |
      ((f.destination & 0xff) << 8) |
      ((f.vector & 0xff) << 16)) >>>
    0
  );
}

export interface AmdViEventRecord {
  readonly code: AmdViEventCode;
  readonly deviceId: number;
  readonly address: number;
  /** IRTE offset named by the request, when one. */
  readonly index: number | null;
  readonly reason: string;
  readonly time: number;
  readonly tlp: number;
}

interface DeviceInterrupts {
  readonly dte: AmdDteInterrupt;
  readonly table: Uint32Array;
  readonly owners: (string | null)[];
}

export class AmdViError extends Error {
  readonly code = 'AMDVI_USAGE';
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

export class AmdViInterruptRemapper implements InterruptRemapper {
  readonly model = 'amd-vi';
  /** Control.IOMMUEn: when clear, interrupts pass unmodified. */
  enabled = true;
  readonly events: AmdViEventRecord[] = [];
  tableReadable: (address: number) => boolean = () => true;
  private readonly devices = new Map<number, DeviceInterrupts>();
  private readonly defaultDevice: DeviceInterrupts;

  constructor(
    defaultDte: AmdDteInterrupt = LINUX_DEFAULT_DTE,
    private readonly clock: { readonly now: number } = { now: 0 },
    private readonly trace: TraceWriter<InterruptEvent> = NO_TRACE,
  ) {
    this.defaultDevice = makeDevice(defaultDte);
  }

  /** Programs a DeviceID's DTE interrupt fields; a new interrupt table (all RemapEn=0) comes with it. */
  setDevice(deviceId: number, dte: AmdDteInterrupt): void {
    this.devices.set(deviceId, makeDevice(dte));
  }

  /**
   * Points an alias DeviceID at a device's table, as Linux alloc_irq_table
   * does for each pci_for_each_dma_alias of the device (a PCIe-to-PCI bridge's
   * alias carries the interrupts of every device behind it).
   */
  shareTable(aliasId: number, deviceId: number): void {
    const device = this.devices.get(deviceId);
    if (device === undefined) throw new AmdViError(`DeviceID ${formatRid(deviceId)} has no interrupt table to share`);
    this.devices.set(aliasId, device);
  }

  writeIrte(deviceId: number, index: number, fields: AmdIrteFields, owner: string | null): void {
    const device = this.devices.get(deviceId);
    if (device === undefined) throw new AmdViError(`DeviceID ${formatRid(deviceId)} has no interrupt table: call setDevice first`);
    if (!Number.isInteger(index) || index < 0 || index >= device.table.length) {
      throw new AmdViError(`IRTE ${index} outside ${formatRid(deviceId)}'s table of ${device.table.length}`);
    }
    device.table[index] = encodeAmdIrte(fields);
    device.owners[index] = owner;
  }

  /** True when the DeviceID's DTE points at an interrupt table (its own or a shared one). */
  hasTable(deviceId: number): boolean {
    return this.devices.has(deviceId);
  }

  dte(deviceId: number): AmdDteInterrupt {
    return (this.devices.get(deviceId) ?? this.defaultDevice).dte;
  }

  owner(deviceId: number, index: number): string | null {
    return this.devices.get(deviceId)?.owners[index] ?? null;
  }

  remap(tlp: Tlp, address: number, data: number, out: RemapDecision): void {
    decodeCompat(address, data, out.attrs);
    if (!this.enabled) return this.pass(out, RULE.disabled);
    const deviceId = tlp.requesterId;
    const device = this.devices.get(deviceId) ?? this.defaultDevice;
    const dte = device.dte;
    if (!dte.iv) return this.pass(out, RULE.ivClear);
    const mode = (data >>> 8) & 7;
    switch (mode) {
      case DeliveryModeCode.fixed:
      case DeliveryModeCode.lowestPriority:
        break;
      case DeliveryModeCode.nmi:
        return dte.nmiPass ? this.pass(out, RULE.passBit) : this.abort(tlp, out, 'amdvi.nmi-not-passed', RULE.passBit);
      case DeliveryModeCode.init:
        return dte.initPass ? this.pass(out, RULE.passBit) : this.abort(tlp, out, 'amdvi.init-not-passed', RULE.passBit);
      case DeliveryModeCode.extint:
        return dte.extIntPass ? this.pass(out, RULE.passBit) : this.abort(tlp, out, 'amdvi.extint-not-passed', RULE.passBit);
      case DeliveryModeCode.smi:
        return dte.smiPass ? this.pass(out, RULE.sysMgt) : this.abort(tlp, out, 'amdvi.smi-not-passed', RULE.sysMgt);
      default:
        return this.abort(tlp, out, 'amdvi.reserved-type', RULE.reservedType);
    }
    if (dte.intCtl === IntCtl.abort) return this.abort(tlp, out, 'amdvi.intctl-abort', RULE.intCtlAbort);
    if (dte.intCtl === IntCtl.pass) return this.pass(out, RULE.intCtlPass);
    if (dte.intCtl !== IntCtl.remap || dte.intTabLen > MAX_INT_TAB_LEN) {
      return this.event(tlp, out, AmdViEvent.illegalDeviceTableEntry, null, true, 'amdvi.illegal-dte', RULE.illegalDte);
    }
    const index = data & 0x7ff;
    if (index >= device.table.length) {
      return this.event(tlp, out, AmdViEvent.ioPageFault, index, !dte.ig, 'amdvi.index-out-of-range', RULE.outOfRange);
    }
    const irte = device.table[index]!;
    if ((irte & 1) === 0) {
      const logged = !dte.ig && (irte & 2) === 0;
      return this.event(tlp, out, AmdViEvent.ioPageFault, index, logged, 'amdvi.remap-disabled', RULE.remapDisabled);
    }
    const intType = (irte >>> 2) & 7;
    if ((irte & (1 << 7)) !== 0 || intType > 1) {
      return this.event(tlp, out, AmdViEvent.ioPageFault, index, true, 'amdvi.reserved-irte', RULE.reservedIrte);
    }
    const a = out.attrs;
    a.destinationMode = (irte & (1 << 6)) !== 0 ? 'logical' : 'physical';
    a.destination = (irte >>> 8) & 0xff;
    a.vector = (irte >>> 16) & 0xff;
    a.deliveryMode = intType;
    out.path = 'amdvi-remapped';
    out.index = index;
    out.entryOwner = device.owners[index]!;
    out.rule = RULE.remapped;
    if (this.trace.enabled) {
      this.trace.emit({ type: 'ir.remapped', tlp: tlp.id, model: 'amd-vi', index, owner: out.entryOwner, requester: formatRid(deviceId), vector: a.vector, destination: a.destination, stale: false });
    }
  }

  private pass(out: RemapDecision, rule: string): void {
    out.path = 'amdvi-passthrough';
    out.rule = rule;
  }

  /** A target abort with no event logged (VirtualBox iommuAmdSetPciTargetAbort alone). */
  private abort(tlp: Tlp, out: RemapDecision, reason: string, rule: string): void {
    out.kind = 'block';
    out.reason = reason;
    out.rule = rule;
    if (this.trace.enabled) {
      this.trace.emit({ type: 'ir.fault', tlp: tlp.id, model: 'amd-vi', code: null, reason, requester: formatRid(tlp.requesterId), index: null, recorded: false });
    }
  }

  private event(tlp: Tlp, out: RemapDecision, code: AmdViEventCode, index: number | null, logged: boolean, reason: string, rule: string): void {
    if (logged) this.events.push({ code, deviceId: tlp.requesterId, address: tlp.address, index, reason, time: this.clock.now, tlp: tlp.id });
    out.kind = 'fault';
    out.faultCode = code;
    out.index = index;
    out.reason = reason;
    out.rule = rule;
    if (this.trace.enabled) {
      out.detail = `event 0x${code.toString(16)}${logged ? '' : ' (not logged: IG or SupIOPF set)'}`;
      this.trace.emit({ type: 'ir.fault', tlp: tlp.id, model: 'amd-vi', code, reason, requester: formatRid(tlp.requesterId), index, recorded: logged });
    }
  }
}

function makeDevice(dte: AmdDteInterrupt): DeviceInterrupts {
  if (!Number.isInteger(dte.intTabLen) || dte.intTabLen < 0 || dte.intTabLen > 15) {
    throw new AmdViError(`IntTabLen is a 4-bit field, got ${dte.intTabLen}`);
  }
  const entries = dte.iv && dte.intCtl === IntCtl.remap && dte.intTabLen <= MAX_INT_TAB_LEN ? 2 ** dte.intTabLen : 0;
  return { dte, table: new Uint32Array(entries), owners: new Array<string | null>(entries).fill(null) };
}

const RULE = {
  disabled: 'AMD-Vi §3.4 Control.IOMMUEn=0: interrupts pass unmodified',
  ivClear: 'AMD-Vi §2.2.2.1 DTE.IV=0: interrupts from this DeviceID are forwarded unmapped',
  passBit: 'AMD-Vi §2.2.5: NMI, INIT and ExtINT pass only when the DTE pass bit is set, else they are target aborted',
  sysMgt: 'AMD-Vi §2.2.2.1 DTE.SysMgt: device SMIs are target aborted unless SysMgt forwards them',
  reservedType: 'AMD-Vi §2.2.5: a reserved MSI delivery mode is target aborted',
  intCtlAbort: 'AMD-Vi §2.2.2.1 DTE.IntCtl=00b: fixed and arbitrated interrupts are target aborted',
  intCtlPass: 'AMD-Vi §2.2.2.1 DTE.IntCtl=01b: fixed and arbitrated interrupts are forwarded unmapped',
  illegalDte: 'AMD-Vi §2.2.2.1: IntCtl=11b or IntTabLen above 1011b is reserved: ILLEGAL_DEV_TABLE_ENTRY (event 1h)',
  outOfRange: 'AMD-Vi §2.2.5.1: MSI data[10:0] beyond the 2^IntTabLen entries of this device\'s table: IO_PAGE_FAULT (event 2h)',
  remapDisabled: 'AMD-Vi §2.2.5.1: IRTE RemapEn=0: target abort and IO_PAGE_FAULT (event 2h)',
  reservedIrte: 'AMD-Vi §2.2.5.1: IRTE GuestMode set without guest virtual APIC, or a reserved IntType: IO_PAGE_FAULT (event 2h)',
  remapped: 'AMD-Vi §2.2.5.1: remapped through the IRTE at MSI data[10:0] of the requester\'s own interrupt table',
} as const;
