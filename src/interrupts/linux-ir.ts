/**
 * Host software: how Linux sets up a device's MSI/MSI-X interrupts behind
 * interrupt remapping, so scenarios without explicit IRTEs get the entries
 * a real host would have (DESIGN.md §2 "Automatic allocation").
 *  - VT-d: drivers/iommu/intel/irq_remapping.c — alloc_irte (first-fit
 *    bitmap, an aligned power-of-two block for multi-MSI), prepare_irte
 *    (P=1, RH=1, edge, fixed, vector, IRTE_DEST), set_msi_sid /
 *    set_irte_verify_bus / set_irte_sid (SVT, SQ, SID; intremap=nosid forces
 *    SVT=00 through disable_sourceid_checking), fill_msi_msg (SHV=1).
 *  - AMD-Vi: drivers/iommu/amd/iommu.c — one table per DeviceID shared with
 *    its DMA aliases (alloc_irq_table), indices first-fit (alloc_irq_index),
 *    MSI data = the index.
 *  - No remapping: arch/x86/kernel/apic/msi.c __irq_msi_compose_msg
 *    (compatibility format; multi-MSI needs remapping on x86).
 */
import { busOf } from '../pcie/bdf.ts';
import type { MsiCapability, MsiMessage, MsixCapability } from '../pcie/msi.ts';
import { arrivingRequesterId, bridgeAlias } from '../fabric/aliases.ts';
import type { Fabric } from '../fabric/fabric.ts';
import type { PciFunction } from '../fabric/function.ts';
import { AmdViInterruptRemapper, LINUX_REMAP_DTE } from './amd-vi.ts';
import type { VectorTable } from './vectors.ts';
import { Svt } from './vtd-irte.ts';
import type { VtdInterruptRemapper } from './vtd-remap.ts';
import { MSI_WINDOW, composeCompat, composeRemappable, type DestinationMode } from './x86-msi.ts';

export class InterruptSetupError extends Error {
  constructor(
    readonly code: 'IRTE_EXHAUSTED' | 'MULTI_MSI_NEEDS_IR' | 'NO_INTERRUPT_CAPABILITY' | 'IR_CONFIG' | 'DOORBELL_OVERLAP',
    message: string,
  ) {
    super(message);
    this.name = 'InterruptSetupError';
  }
}

export interface SourceIdFields {
  readonly svt: number;
  readonly sq: number;
  readonly sid: number;
}

/**
 * Linux set_msi_sid over the function's DMA aliases (pci_for_each_dma_alias,
 * the walk src/fabric/aliases.ts also follows): the function reports its own
 * ID, each PCIe-to-PCI bridge above reports its alias (secondary bus, 00.0).
 * set_msi_sid_cb counts aliases and those on the first alias's bus; then
 *  - the last alias on another bus than the device reporting it (a
 *    PCIe-to-PCI bridge) → SVT=10 over [alias bus, device bus]
 *    (set_irte_verify_bus(start, end): SID = start << 8 | end);
 *  - several aliases, all on one bus → SVT=10 over [device bus, device bus];
 *  - an alias reported by a device on another bus → SVT=01, SQ=00, SID = alias;
 *  - otherwise → SVT=01, SQ=00, SID = the function's own requester ID.
 * With intremap=nosid, set_irte_sid writes the same SID and SQ with SVT=00.
 */
export function linuxMsiSourceId(fabric: Fabric, fnId: string, nosid = false): SourceIdFields {
  const fn = fabric.fn(fnId);
  let count = 0;
  let busMatch = 0;
  let alias = fn.rid;
  let reporterBus = fn.bus;
  const visit = (bus: number, rid: number): void => {
    if (count === 0 || busOf(rid) === busOf(alias)) busMatch++;
    reporterBus = bus;
    alias = rid;
    count++;
  };
  visit(fn.bus, fn.rid);
  for (let p = fabric.enumeration.byId.get(fnId)?.parent ?? null; p !== null; p = p.parent) {
    const bridge = bridgeAlias(p);
    if (bridge !== null) visit(p.bus, bridge);
  }
  let fields: SourceIdFields;
  if (busOf(alias) !== reporterBus) fields = { svt: Svt.busRange, sq: 0, sid: (busOf(alias) << 8) | fn.bus };
  else if (count >= 2 && busMatch === count) fields = { svt: Svt.busRange, sq: 0, sid: (fn.bus << 8) | fn.bus };
  else if (reporterBus !== fn.bus) fields = { svt: Svt.requesterId, sq: 0, sid: alias };
  else fields = { svt: Svt.requesterId, sq: 0, sid: fn.rid };
  return nosid ? { ...fields, svt: Svt.none } : fields;
}

/** First-fit index allocation, aligned power-of-two blocks for count > 1 (bitmap_find_free_region). */
export class IndexAllocator {
  private readonly used: Uint8Array;

  constructor(readonly size: number) {
    this.used = new Uint8Array(size);
  }

  allocate(count: number): number {
    const block = count <= 1 ? 1 : 2 ** Math.ceil(Math.log2(count));
    for (let base = 0; base + block <= this.size; base += block) {
      let free = true;
      for (let i = base; i < base + block && free; i++) free = this.used[i] === 0;
      if (!free) continue;
      this.used.fill(1, base, base + block);
      return base;
    }
    throw new InterruptSetupError('IRTE_EXHAUSTED', `no free block of ${block} entries in a table of ${this.size}`);
  }

  reserve(index: number): void {
    if (index >= 0 && index < this.size) this.used[index] = 1;
  }

  /** Gives an index back (free_irte: clear_entries, then bitmap_release_region). */
  free(index: number): void {
    if (index >= 0 && index < this.size) this.used[index] = 0;
  }

  isUsed(index: number): boolean {
    return this.used[index] === 1;
  }
}

export interface InterruptPlan {
  readonly fn: PciFunction;
  /** Principal the device (and so its IRTEs and vectors) belongs to. */
  readonly owner: string;
  readonly msi?: MsiCapability;
  readonly msix?: MsixCapability;
  /** Vectors to enable (MSI: a power of two up to the capability's; MSI-X: up to the table size). Default: all. */
  readonly vectors?: number;
}

export interface ProgrammedVector {
  readonly device: string;
  readonly kind: 'msi' | 'msix';
  /** The device's vector number (MSI-X entry or MSI message number). */
  readonly vector: number;
  /** IRTE index (VT-d) or offset in the device's table (AMD-Vi); null without remapping. */
  readonly irte: number | null;
  readonly apicId: number;
  readonly cpuVector: number;
  readonly message: MsiMessage;
}

export interface HostInterruptSetup {
  readonly fabric: Fabric;
  readonly vectors: VectorTable;
  readonly remapper?: VtdInterruptRemapper | AmdViInterruptRemapper | null;
  /** intremap=nosid (VT-d only). */
  readonly nosid?: boolean;
  /** prepare_irte's dst_mode = apic->dest_mode_logical: physical for x2APIC and physflat. */
  readonly destinationMode?: DestinationMode;
  /** Interrupt remapping in use (AMD-Vi: amd_iommu_irq_remap; VT-d follows the remapper's GSTS.IRES). Default true. */
  readonly interruptRemapping?: boolean;
  /** VT-d indices the allocator must leave alone (IRTEs a scenario programs itself). */
  readonly reserved?: readonly number[];
  /**
   * AMD-Vi: one interrupt table for every DeviceID instead of one per
   * device (Xen amd-iommu-perdev-intremap=0, the SP5100 erratum 28
   * workaround; XSA-36: every device can name every other's entries).
   */
  readonly sharedAmdTable?: boolean;
}

/** Key of the one table every DeviceID shares under `sharedAmdTable`. */
const SHARED_TABLE = -1;

/** Sets up every listed device in order, the way the host kernel would. */
export class LinuxInterruptSetup {
  readonly programmed: ProgrammedVector[] = [];
  private readonly vtdIndices: IndexAllocator | null;
  private readonly amdIndices = new Map<number, IndexAllocator>();

  constructor(private readonly host: HostInterruptSetup) {
    const r = host.remapper;
    this.vtdIndices = r !== undefined && r !== null && r.model === 'vtd' ? new IndexAllocator(r.entries) : null;
    for (const index of host.reserved ?? []) this.vtdIndices?.reserve(index);
  }

  /** Each device's plan as last programmed (for reprogramming it for a new owner). */
  private readonly plans = new Map<string, InterruptPlan>();
  private sharedAlias: number | null = null;

  program(plans: readonly InterruptPlan[]): ProgrammedVector[] {
    const start = this.programmed.length;
    for (const plan of plans) {
      this.plans.set(plan.fn.id, plan);
      if (plan.msix !== undefined) this.programMsix(plan, plan.msix);
      else if (plan.msi !== undefined) this.programMsi(plan, plan.msi);
      else throw new InterruptSetupError('NO_INTERRUPT_CAPABILITY', `device '${plan.fn.id}' has neither MSI nor MSI-X`);
    }
    return this.programmed.slice(start);
  }

  /**
   * The device's interrupts are torn down, as when its driver lets go
   * (pci_free_irq_vectors; VFIO's vfio_msi_disable on vfio_pci_core_disable;
   * Xen's pirq unmapping on deassign): MSI/MSI-X disabled and, with
   * `clearEntries`, each remapping entry cleared and its CPU vector freed
   * (VT-d free_irte / clear_entries; AMD free_irte). Without it (Xen before
   * XSA-36: "old entries are not always cleared") the entries stay in the
   * table, still the old owner's, and keep their indices out of reach of
   * the allocator. Returns the vectors that were programmed.
   */
  release(fnId: string, clearEntries: boolean): ProgrammedVector[] {
    const plan = this.plans.get(fnId);
    if (plan === undefined) return [];
    const mine = this.programmed.filter((p) => p.device === fnId);
    this.programmed.splice(0, this.programmed.length, ...this.programmed.filter((p) => p.device !== fnId));
    if (plan.msix !== undefined) plan.msix.setControl(plan.fn.config, false);
    else plan.msi?.disable();
    if (!clearEntries) return mine;
    const r = this.host.remapper;
    for (const p of mine) {
      this.host.vectors.free(p.apicId, p.cpuVector);
      if (p.irte === null || r === undefined || r === null) continue;
      if (r.model === 'vtd') {
        r.clearIrte(p.irte);
        this.vtdIndices!.free(p.irte);
      } else if (r instanceof AmdViInterruptRemapper) {
        const alias = this.amdKey(arrivingRequesterId(this.host.fabric, fnId));
        r.writeIrte(alias === SHARED_TABLE ? this.sharedAlias! : alias, p.irte, { remapEnable: false, destination: 0, vector: 0 }, null);
        this.amdIndices.get(alias)?.free(p.irte);
      }
    }
    return mine;
  }

  /** Sets the device's interrupts up again, for `owner` (the new holder's driver, or VFIO for a user). */
  reprogram(fnId: string, owner: string): ProgrammedVector[] {
    const plan = this.plans.get(fnId);
    if (plan === undefined) return [];
    return this.program([{ ...plan, owner }]);
  }

  private amdKey(alias: number): number {
    return this.host.sharedAmdTable ? SHARED_TABLE : alias;
  }

  private programMsix(plan: InterruptPlan, msix: MsixCapability): void {
    const n = Math.min(plan.vectors ?? msix.size, msix.size);
    for (let v = 0; v < n; v++) {
      const p = this.route(plan, 'msix', v, 1, null);
      msix.program(v, p.message, 'host');
    }
    msix.setControl(plan.fn.config, true);
  }

  private programMsi(plan: InterruptPlan, msi: MsiCapability): void {
    const n = plan.vectors ?? msi.capable;
    if (n > 1 && !this.remapped) {
      throw new InterruptSetupError('MULTI_MSI_NEEDS_IR', `'${plan.fn.id}': x86 Linux gives multiple MSI vectors only with interrupt remapping`);
    }
    const first = this.route(plan, 'msi', 0, n, null);
    for (let v = 1; v < n; v++) this.route(plan, 'msi', v, n, first.irte);
    msi.program(first.message, n);
  }

  private get remapped(): boolean {
    const r = this.host.remapper;
    if (r === undefined || r === null || this.host.interruptRemapping === false) return false;
    return r.model === 'amd-vi' ? r.enabled : r.config.enabled;
  }

  /**
   * One vector: a CPU vector, a table entry and the message the device sends
   * for it. MSI vectors share one aligned block (allocated for vector 0, at
   * `blockBase` after): the device puts the vector number in the low data
   * bits, which is the VT-d subhandle and the low bits of the AMD-Vi index.
   */
  private route(plan: InterruptPlan, kind: 'msi' | 'msix', vector: number, count: number, blockBase: number | null): ProgrammedVector {
    const { fn, owner } = plan;
    const cpu = this.host.vectors.allocate(owner, fn.id);
    const dm = this.host.destinationMode ?? 'physical';
    const offset = kind === 'msi' ? vector : 0;
    const r = this.host.remapper;
    let irte: number | null = null;
    let message: MsiMessage;
    if (r !== undefined && r !== null && this.remapped && r.model === 'vtd') {
      const base = blockBase ?? this.vtdIndices!.allocate(count);
      irte = base + offset;
      const sid = linuxMsiSourceId(this.host.fabric, fn.id, this.host.nosid ?? false);
      r.modifyIrte(irte, { present: true, redirectionHint: true, trigger: 'edge', deliveryMode: 0, destinationMode: dm, vector: cpu.vector, destination: cpu.apicId, ...sid }, owner);
      message = composeRemappable(base, offset);
    } else if (r !== undefined && r !== null && this.remapped && r instanceof AmdViInterruptRemapper) {
      const base = blockBase ?? this.amdTable(r, fn).allocate(count);
      irte = base + offset;
      const alias = arrivingRequesterId(this.host.fabric, fn.id);
      r.writeIrte(this.amdKey(alias) === SHARED_TABLE ? this.sharedAlias! : alias, irte, { remapEnable: true, intType: 0, destinationMode: dm, destination: cpu.apicId, vector: cpu.vector }, owner);
      message = { address: MSI_WINDOW.base, data: irte };
    } else {
      message = composeCompat({ destination: cpu.apicId, vector: cpu.vector, destinationMode: dm });
    }
    const programmed = { device: fn.id, kind, vector, irte, apicId: cpu.apicId, cpuVector: cpu.vector, message };
    this.programmed.push(programmed);
    return programmed;
  }

  /**
   * The device's AMD-Vi table (alloc_irq_table): created on first use,
   * shared with its DMA alias — or, with `sharedAmdTable`, the one table
   * every DeviceID's DTE points at.
   */
  private amdTable(r: AmdViInterruptRemapper, fn: PciFunction): IndexAllocator {
    const alias = arrivingRequesterId(this.host.fabric, fn.id);
    const key = this.amdKey(alias);
    let table = this.amdIndices.get(key);
    if (table === undefined) {
      r.setDevice(alias, LINUX_REMAP_DTE);
      if (fn.rid !== alias) r.shareTable(fn.rid, alias);
      if (key === SHARED_TABLE) this.sharedAlias = alias;
      table = new IndexAllocator(2 ** LINUX_REMAP_DTE.intTabLen);
      this.amdIndices.set(key, table);
    } else if (key === SHARED_TABLE && !r.hasTable(alias)) {
      r.shareTable(alias, this.sharedAlias!);
      if (fn.rid !== alias) r.shareTable(fn.rid, this.sharedAlias!);
    }
    return table;
  }
}
