/**
 * MSI and MSI-X capabilities (PCIe Base 6.0 §7.7.1, §7.7.2; behaviour §6.1.4).
 * Registers live in the function's ConfigSpace; the MSI-X table and PBA live
 * in a BAR and are reached by MMIO (the fabric hands table writes to
 * `MsixCapability.mmioWrite`). A vector's message is the (address, data) the
 * function writes to signal it; a masked vector sets its pending bit instead.
 */
import { CapabilityId, type ConfigSpace } from './config-space.ts';

export interface MsiMessage {
  readonly address: number;
  readonly data: number;
}

export class MsiError extends Error {
  constructor(
    readonly code: 'MSI_VECTORS' | 'MSI_VECTOR_RANGE' | 'MSIX_LAYOUT',
    message: string,
  ) {
    super(message);
    this.name = 'MsiError';
  }
}

const TWO_32 = 0x1_0000_0000;

/** §7.7.1.2 Message Control for MSI. */
const MSI_ENABLE = 1 << 0;
const MSI_MME_SHIFT = 4;
const MSI_ADDR64 = 1 << 7;
const MSI_PVM = 1 << 8;

export interface MsiOptions {
  /** Vectors requested (Multiple Message Capable): 1, 2, 4, 8, 16 or 32. Default 1. */
  readonly vectors?: number;
  /** 64-bit Address Capable (§7.7.1.2 bit 7). Default true. */
  readonly addr64?: boolean;
  /** Per-Vector Masking Capable (§7.7.1.2 bit 8). Default true. */
  readonly perVectorMasking?: boolean;
}

export class MsiCapability {
  /** Called when software unmasks a vector whose pending bit is set (§6.1.4: the function then sends it). */
  onUnmask: ((vector: number) => void) | null = null;
  private control = 0;
  private maskBits = 0;
  private pendingBits = 0;
  private readonly mmc: number;
  private readonly addressLo: number;
  private readonly dataAt: number;
  private readonly maskAt: number;

  private constructor(
    private readonly config: ConfigSpace,
    readonly offset: number,
    readonly capable: number,
    readonly addr64: boolean,
    readonly perVectorMasking: boolean,
  ) {
    this.mmc = Math.log2(capable);
    this.addressLo = offset + 4;
    this.dataAt = offset + (addr64 ? 0x0c : 0x08);
    this.maskAt = this.dataAt + 4;
  }

  /** Appends an MSI capability (§7.7.1: 32- or 64-bit address, with or without per-vector masking). */
  static attach(config: ConfigSpace, options: MsiOptions = {}): MsiCapability {
    const vectors = options.vectors ?? 1;
    if (![1, 2, 4, 8, 16, 32].includes(vectors)) {
      throw new MsiError('MSI_VECTORS', `MSI supports 1, 2, 4, 8, 16 or 32 vectors (§7.7.1.2 Multiple Message Capable), not ${vectors}`);
    }
    const addr64 = options.addr64 ?? true;
    const pvm = options.perVectorMasking ?? true;
    const length = (addr64 ? 0x0e : 0x0a) + (pvm ? 0x0a : 0);
    const offset = config.addCapability(CapabilityId.msi, length);
    const cap = new MsiCapability(config, offset, vectors, addr64, pvm);
    cap.defineRegisters();
    return cap;
  }

  get enabled(): boolean {
    return (this.control & MSI_ENABLE) !== 0;
  }

  /** Vectors software allocated (Multiple Message Enable, §7.7.1.2). */
  get allocated(): number {
    return 1 << ((this.control >> MSI_MME_SHIFT) & 7);
  }

  get address(): number {
    const lo = this.config.read(this.addressLo, 4);
    return this.addr64 ? lo + this.config.read(this.addressLo + 4, 4) * TWO_32 : lo;
  }

  /** Message Data (16 bits; the function drives the upper 16 bits of the DWORD as 0). */
  get data(): number {
    return this.config.read(this.dataAt, 2);
  }

  isMasked(vector: number): boolean {
    return this.perVectorMasking && ((this.maskBits >>> vector) & 1) === 1;
  }

  isPending(vector: number): boolean {
    return ((this.pendingBits >>> vector) & 1) === 1;
  }

  setPending(vector: number, on: boolean): void {
    this.pendingBits = on ? (this.pendingBits | (1 << vector)) >>> 0 : (this.pendingBits & ~(1 << vector)) >>> 0;
  }

  /**
   * The write that signals `vector`, or null when MSI is disabled or the
   * vector was not allocated. With several vectors the function replaces the
   * low log2(allocated) bits of Message Data with the vector number (§7.7.1.2 MME).
   */
  message(vector: number): MsiMessage | null {
    if (!this.enabled || vector < 0 || vector >= this.allocated) return null;
    const low = this.allocated - 1;
    return { address: this.address, data: (this.data & ~low) | vector };
  }

  /** Clears MSI Enable through Message Control (pci_disable_msi: __pci_msi_set_enable(dev, 0)). */
  disable(): void {
    this.config.write(this.offset + 2, 2, 0);
  }

  /** Host software programming through configuration writes (what a driver's pci_write_msi_msg does). */
  program(message: MsiMessage, vectors = 1): void {
    const mme = Math.log2(vectors);
    if (!Number.isInteger(mme) || mme > this.mmc) {
      throw new MsiError('MSI_VECTORS', `cannot enable ${vectors} MSI vectors: the function is capable of ${this.capable}`);
    }
    this.config.write(this.addressLo, 4, message.address % TWO_32);
    if (this.addr64) this.config.write(this.addressLo + 4, 4, Math.floor(message.address / TWO_32));
    this.config.write(this.dataAt, 2, message.data & 0xffff);
    this.config.write(this.offset + 2, 2, (mme << MSI_MME_SHIFT) | MSI_ENABLE);
  }

  private defineRegisters(): void {
    const { config, offset } = this;
    const readOnly = (this.mmc << 1) | (this.addr64 ? MSI_ADDR64 : 0) | (this.perVectorMasking ? MSI_PVM : 0);
    config.define(offset + 2, 2, {
      write: (value) => {
        const mme = Math.min((value >> MSI_MME_SHIFT) & 7, this.mmc);
        this.control = (value & MSI_ENABLE) | (mme << MSI_MME_SHIFT);
        config.poke(offset + 2, 2, readOnly | this.control);
      },
    }, readOnly);
    // §7.7.1.3: bits 1:0 of Message Address are hard-wired to 0 (DWORD-aligned).
    config.define(this.addressLo, 4, { write: (value) => config.poke(this.addressLo, 4, value & ~3) });
    if (!this.perVectorMasking) return;
    const implemented = this.capable === 32 ? 0xffff_ffff : (1 << this.capable) - 1;
    config.define(this.maskAt, 4, {
      write: (value) => {
        const before = this.maskBits;
        const after = (value & implemented) >>> 0;
        this.maskBits = after;
        config.poke(this.maskAt, 4, after);
        this.firePendingUnmasked(before, after);
      },
    });
    // §7.7.1.8: Pending Bits are read-only to software; the function sets them.
    config.define(this.maskAt + 4, 4, { read: () => this.pendingBits, write: () => config.poke(this.maskAt + 4, 4, this.pendingBits) });
  }

  private firePendingUnmasked(before: number, after: number): void {
    const unmasked = (before & ~after) >>> 0;
    for (let v = 0; v < this.capable; v++) {
      if ((unmasked >>> v) & 1 && this.isPending(v)) {
        this.setPending(v, false);
        this.onUnmask?.(v);
      }
    }
  }
}

/** §7.7.2.2 Message Control for MSI-X. */
const MSIX_FUNCTION_MASK = 1 << 14;
const MSIX_ENABLE = 1 << 15;
/** §7.7.2.8 Vector Control: bit 0 Mask Bit, set at reset. */
const VECTOR_MASKED = 1;
export const MSIX_ENTRY_BYTES = 16;

export interface MsixOptions {
  /** Table Size (1..2048). */
  readonly vectors: number;
  /** BAR index (BIR) and QWORD-aligned offset of the table and of the PBA. */
  readonly tableBar: number;
  readonly tableOffset?: number;
  readonly pbaBar?: number;
  readonly pbaOffset?: number;
}

/** Where one MSI-X structure lies inside a BAR. */
export interface BarRegion {
  readonly bar: number;
  readonly offset: number;
  readonly size: number;
}

export class MsixCapability {
  /** Called when a pending vector becomes unmasked (entry mask or function mask cleared). */
  onUnmask: ((vector: number) => void) | null = null;
  /** [addressLo, addressHi, data, vectorControl] per entry (§7.7.2.5–§7.7.2.8). */
  readonly entries: Uint32Array;
  /** Principal that last wrote each entry (verdicts: who programmed it); null until written. */
  readonly programmedBy: (string | null)[];
  readonly table: BarRegion;
  readonly pba: BarRegion;
  private control = 0;
  private readonly pendingBits: Uint8Array;

  private constructor(
    readonly offset: number,
    readonly size: number,
    table: BarRegion,
    pba: BarRegion,
  ) {
    this.table = table;
    this.pba = pba;
    this.entries = new Uint32Array(size * 4);
    for (let v = 0; v < size; v++) this.entries[v * 4 + 3] = VECTOR_MASKED;
    this.programmedBy = new Array<string | null>(size).fill(null);
    this.pendingBits = new Uint8Array(size);
  }

  /** Appends an MSI-X capability (§7.7.2) whose table and PBA live in the given BAR(s). */
  static attach(config: ConfigSpace, options: MsixOptions): MsixCapability {
    const n = options.vectors;
    if (!Number.isInteger(n) || n < 1 || n > 2048) throw new MsiError('MSI_VECTORS', `MSI-X Table Size must be 1..2048 (§7.7.2.2), not ${n}`);
    const tableOffset = options.tableOffset ?? 0;
    const pbaBar = options.pbaBar ?? options.tableBar;
    const pbaOffset = options.pbaOffset ?? alignUp(tableOffset + n * MSIX_ENTRY_BYTES, 0x1000);
    for (const [what, bir, off] of [['table', options.tableBar, tableOffset], ['PBA', pbaBar, pbaOffset]] as const) {
      if (bir < 0 || bir > 5 || off % 8 !== 0) {
        throw new MsiError('MSIX_LAYOUT', `MSI-X ${what} needs a BIR 0..5 and a QWORD-aligned offset (§7.7.2.3), got BIR ${bir} offset 0x${off.toString(16)}`);
      }
    }
    const table = { bar: options.tableBar, offset: tableOffset, size: n * MSIX_ENTRY_BYTES };
    const pba = { bar: pbaBar, offset: pbaOffset, size: Math.ceil(n / 64) * 8 };
    if (table.bar === pba.bar && table.offset < pba.offset + pba.size && pba.offset < table.offset + table.size) {
      throw new MsiError('MSIX_LAYOUT', 'the MSI-X table and PBA overlap (§7.7.2: they must not share QWORDs)');
    }
    const offset = config.addCapability(CapabilityId.msix, 12);
    const cap = new MsixCapability(offset, n, table, pba);
    config.define(offset + 2, 2, {
      write: (value) => {
        const before = cap.control;
        cap.control = value & (MSIX_FUNCTION_MASK | MSIX_ENABLE);
        config.poke(offset + 2, 2, (n - 1) | cap.control);
        if (before & MSIX_FUNCTION_MASK && !(cap.control & MSIX_FUNCTION_MASK)) cap.fireAllUnmasked();
      },
    }, n - 1);
    config.define(offset + 4, 4, { write: () => config.poke(offset + 4, 4, tableOffset | options.tableBar) }, tableOffset | options.tableBar);
    config.define(offset + 8, 4, { write: () => config.poke(offset + 8, 4, pbaOffset | pbaBar) }, pbaOffset | pbaBar);
    return cap;
  }

  get enabled(): boolean {
    return (this.control & MSIX_ENABLE) !== 0;
  }

  get functionMask(): boolean {
    return (this.control & MSIX_FUNCTION_MASK) !== 0;
  }

  /** §7.7.2.2: Function Mask masks every vector regardless of its own Mask bit. */
  isMasked(vector: number): boolean {
    return this.functionMask || (this.entries[vector * 4 + 3]! & VECTOR_MASKED) !== 0;
  }

  isPending(vector: number): boolean {
    return this.pendingBits[vector] === 1;
  }

  setPending(vector: number, on: boolean): void {
    this.pendingBits[vector] = on ? 1 : 0;
  }

  /** The programmed message of an entry, or null when MSI-X is disabled or the vector is out of range. */
  message(vector: number): MsiMessage | null {
    if (!this.enabled || vector < 0 || vector >= this.size) return null;
    const at = vector * 4;
    return { address: this.entries[at]! + this.entries[at + 1]! * TWO_32, data: this.entries[at + 2]! };
  }

  /**
   * A memory write that landed in BAR `bar` at `offset` (bytes from the BAR
   * base), `length` 4 or 8 bytes. Updates a table entry (the PBA is read-only,
   * §7.7.2.9); returns false when the write is outside both structures.
   */
  mmioWrite(bar: number, offset: number, length: number, data: number, by: string): boolean {
    if (bar === this.pba.bar && offset >= this.pba.offset && offset < this.pba.offset + this.pba.size) return true;
    if (bar !== this.table.bar || offset < this.table.offset || offset >= this.table.offset + this.table.size) return false;
    const dword = (offset - this.table.offset) >> 2;
    this.writeDword(dword, data % TWO_32, by);
    if (length === 8 && dword + 1 < this.entries.length) this.writeDword(dword + 1, Math.floor(data / TWO_32), by);
    return true;
  }

  /** A read of the table or PBA; undefined outside both. */
  mmioRead(bar: number, offset: number): number | undefined {
    if (bar === this.table.bar && offset >= this.table.offset && offset < this.table.offset + this.table.size) {
      return this.entries[(offset - this.table.offset) >> 2];
    }
    if (bar === this.pba.bar && offset >= this.pba.offset && offset < this.pba.offset + this.pba.size) {
      const first = ((offset - this.pba.offset) >> 2) * 32;
      let bits = 0;
      for (let i = 0; i < 32 && first + i < this.size; i++) bits |= this.pendingBits[first + i]! << i;
      return bits >>> 0;
    }
    return undefined;
  }

  /** Host software programming an entry directly (setup; what pci_msix_write_msg does through MMIO). */
  program(vector: number, message: MsiMessage, by: string, masked = false): void {
    if (vector < 0 || vector >= this.size) throw new MsiError('MSI_VECTOR_RANGE', `MSI-X vector ${vector} outside the table of ${this.size}`);
    const at = vector * 4;
    this.writeDword(at, message.address % TWO_32, by);
    this.writeDword(at + 1, Math.floor(message.address / TWO_32), by);
    this.writeDword(at + 2, message.data >>> 0, by);
    this.writeDword(at + 3, masked ? VECTOR_MASKED : 0, by);
  }

  /** Sets MSI-X Enable and Function Mask as software would through Message Control. */
  setControl(config: ConfigSpace, enable: boolean, functionMask = false): void {
    config.write(this.offset + 2, 2, (enable ? MSIX_ENABLE : 0) | (functionMask ? MSIX_FUNCTION_MASK : 0));
  }

  private writeDword(dword: number, value: number, by: string): void {
    const vector = dword >> 2;
    const field = dword & 3;
    this.programmedBy[vector] = by;
    if (field === 0) {
      // §7.7.2.5: bits 1:0 must be written as 0 (DWORD alignment); kept at 0.
      this.entries[dword] = value & ~3;
    } else if (field === 3) {
      const wasMasked = this.isMasked(vector);
      this.entries[dword] = value & VECTOR_MASKED;
      if (wasMasked && !this.isMasked(vector)) this.fireIfPending(vector);
    } else {
      this.entries[dword] = value;
    }
  }

  private fireIfPending(vector: number): void {
    if (!this.isPending(vector)) return;
    this.setPending(vector, false);
    this.onUnmask?.(vector);
  }

  private fireAllUnmasked(): void {
    for (let v = 0; v < this.size; v++) if (!this.isMasked(v)) this.fireIfPending(v);
  }
}

function alignUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
