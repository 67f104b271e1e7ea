/**
 * A function's 4 KiB configuration space (PCIe Base 6.0 §7.5): a byte array
 * plus registers whose reads and writes are modelled by their owners (the
 * ACS control register changes routing; MSI address/data change interrupts).
 * Capabilities are laid out the way devices usually do: the standard list
 * from 0x40 (§7.5.1.1 Capabilities Pointer at 0x34), extended ones from 0x100.
 */

export const ConfigOffset = {
  vendorId: 0x00,
  deviceId: 0x02,
  command: 0x04,
  revisionId: 0x08,
  classCode: 0x09,
  headerType: 0x0e,
  capabilitiesPointer: 0x34,
} as const;

/** Capability IDs (PCI Code and ID Assignment Spec). */
export const CapabilityId = {
  msi: 0x05,
  pcie: 0x10,
  msix: 0x11,
} as const;

export const ExtCapabilityId = {
  acs: 0x000d,
  ats: 0x000f,
  sriov: 0x0010,
} as const;

export interface RegisterModel {
  /** Value read from the register (default: the stored bytes). */
  read?(): number;
  /** Called after the write's bytes are stored, with the register's new value. */
  write?(value: number): void;
}

interface Register {
  readonly offset: number;
  readonly size: 1 | 2 | 4;
  readonly model: RegisterModel;
}

export class ConfigSpaceError extends Error {
  readonly code = 'CONFIG_ACCESS';
}

export class ConfigSpace {
  private readonly bytes = new Uint8Array(4096);
  private readonly registers: Register[] = [];
  private nextCapability = 0x40;
  private lastCapability = -1;
  private nextExtended = 0x100;
  private lastExtended = -1;

  constructor(ids: { vendorId?: number; deviceId?: number; classCode?: number; revision?: number; multifunction?: boolean; bridge?: boolean } = {}) {
    this.store(ConfigOffset.vendorId, 2, ids.vendorId ?? 0x1234);
    this.store(ConfigOffset.deviceId, 2, ids.deviceId ?? 0x0001);
    this.store(ConfigOffset.revisionId, 1, ids.revision ?? 0);
    this.store(ConfigOffset.classCode, 3, ids.classCode ?? (ids.bridge ? 0x060400 : 0));
    this.store(ConfigOffset.headerType, 1, (ids.multifunction ? 0x80 : 0) | (ids.bridge ? 1 : 0));
  }

  read(offset: number, size: 1 | 2 | 4 = 4): number {
    checkAccess(offset, size);
    for (const reg of this.registers) {
      if (reg.offset === offset && reg.size === size && reg.model.read) return reg.model.read() >>> 0;
    }
    return this.load(offset, size);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    checkAccess(offset, size);
    this.store(offset, size, value);
    for (const reg of this.registers) {
      if (reg.offset < offset + size && offset < reg.offset + reg.size) reg.model.write?.(this.load(reg.offset, reg.size));
    }
  }

  /**
   * Stores a value without calling any register model: for a model that keeps
   * read-only or hard-wired bits in place after a write (e.g. MSI Message Control).
   */
  poke(offset: number, size: 1 | 2 | 4, value: number): void {
    checkAccess(offset, size);
    this.store(offset, size, value);
  }

  /** Models a register: its writes reach `model.write`, its reads `model.read`. */
  define(offset: number, size: 1 | 2 | 4, model: RegisterModel, initial = 0): void {
    checkAccess(offset, size);
    this.store(offset, size, initial);
    this.registers.push({ offset, size, model });
  }

  /** Appends a standard capability of `length` bytes to the list; returns its offset. */
  addCapability(id: number, length: number): number {
    const offset = this.nextCapability;
    if (offset + length > 0x100) throw new ConfigSpaceError(`no room for capability ${id} in the first 256 bytes`);
    this.store(offset, 1, id);
    this.store(offset + 1, 1, 0);
    if (this.lastCapability < 0) this.store(ConfigOffset.capabilitiesPointer, 1, offset);
    else this.store(this.lastCapability + 1, 1, offset);
    this.lastCapability = offset;
    this.nextCapability = (offset + length + 3) & ~3;
    return offset;
  }

  /** Appends a PCIe extended capability (header: id[15:0], version 1, next[31:20]); returns its offset. */
  addExtendedCapability(id: number, length: number): number {
    const offset = this.nextExtended;
    if (offset + length > 0x1000) throw new ConfigSpaceError(`no room for extended capability ${id}`);
    this.store(offset, 4, id | (1 << 16));
    if (this.lastExtended >= 0) {
      const header = this.load(this.lastExtended, 4);
      this.store(this.lastExtended, 4, (header & 0xfffff) | (offset << 20));
    }
    this.lastExtended = offset;
    this.nextExtended = (offset + length + 3) & ~3;
    return offset;
  }

  /** Offset of the first capability with `id` (standard list), or -1. */
  findCapability(id: number): number {
    let offset = this.load(ConfigOffset.capabilitiesPointer, 1);
    for (let guard = 0; offset !== 0 && guard < 48; guard++) {
      if (this.load(offset, 1) === id) return offset;
      offset = this.load(offset + 1, 1);
    }
    return -1;
  }

  /** Offset of the first extended capability with `id`, or -1. */
  findExtendedCapability(id: number): number {
    if (this.lastExtended < 0) return -1;
    let offset = 0x100;
    for (let guard = 0; offset !== 0 && guard < 960; guard++) {
      const header = this.load(offset, 4);
      if ((header & 0xffff) === id) return offset;
      offset = header >>> 20;
    }
    return -1;
  }

  private load(offset: number, size: number): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.bytes[offset + i]!;
    return value;
  }

  private store(offset: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }
}

function checkAccess(offset: number, size: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > 4096 || offset % size !== 0) {
    throw new ConfigSpaceError(`config access of ${size} bytes at 0x${offset.toString(16)} is not naturally aligned within 4 KiB`);
  }
}
