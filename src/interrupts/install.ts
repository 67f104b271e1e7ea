/**
 * Puts a machine's interrupt hardware on a compiled fabric and sets the
 * devices up the way the host kernel would: the x86 window (with VT-d or
 * AMD-Vi remapping, or none) or an ARM MSI controller (GICv2m frame or GICv3
 * ITS), MSI/MSI-X capabilities on each function, vectors, IRTEs, SPIs or ITS
 * events. Plain option objects, so the scenario layer can pass its spec.
 */
import { MsiCapability, MsixCapability } from '../pcie/msi.ts';
import { arrivingRequesterId } from '../fabric/aliases.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { Fabric } from '../fabric/fabric.ts';
import { AmdViInterruptRemapper } from './amd-vi.ts';
import type { InterruptEvent } from './events.ts';
import { GICV2M_FRAME_SIZE, Gicv2mFrame } from './gicv2m.ts';
import { FIRST_LPI, GITS_TRANSLATER, Gicv3Its, ITS_SIZE } from './gicv3-its.ts';
import { Cpus } from './lapic.ts';
import { InterruptSetupError, LinuxInterruptSetup, type InterruptPlan, type ProgrammedVector } from './linux-ir.ts';
import { MsiSources } from './msi-source.ts';
import { VectorTable } from './vectors.ts';
import type { PostedDescriptorSpec } from './vtd-posted.ts';
import type { IrteFields } from './vtd-irte.ts';
import { VtdInterruptRemapper } from './vtd-remap.ts';
import { X86InterruptController } from './x86-controller.ts';

export interface InterruptDeviceSpec {
  readonly id: string;
  readonly owner: string;
  readonly msi: { readonly vectors: number; readonly perVectorMask: boolean } | null;
  /** Table in BAR `bar` at `offset`; `programmedBy` owner = the table page is mapped to the device's owner. */
  readonly msix: { readonly vectors: number; readonly bar: number; readonly offset: number; readonly programmedBy: 'host' | 'owner' } | null;
}

export interface X86HardwareSpec {
  readonly cpus: number;
  readonly iommu: 'vtd' | 'amd-vi' | 'smmuv3' | 'none';
  readonly interruptRemapping: boolean;
  /** Off = Linux intremap=nosid (VT-d SVT=00). */
  readonly sourceIdValidation: boolean;
  /** 'allowed' = GSTS.CFIS set. */
  readonly compatFormat: 'blocked' | 'allowed';
  /** x2APIC mode: IRTA.EIME and 32-bit APIC destinations. */
  readonly x2apic: boolean;
  /** VT-d table entries, a power of two 2..65536 (IRTA.S); default 65536 as Linux. */
  readonly irTableSize?: number;
  /** VT-d CAP_REG.PI: posted-format IRTEs are valid. Default off. */
  readonly postedInterrupts?: boolean;
  /** Posted Interrupt Descriptors the host set up for virtual CPUs (VT-d §9.12). */
  readonly postedDescriptors?: readonly PostedDescriptorSpec[];
  /** xAPIC Destination Format model (SDM §11.6.2.2); default flat. */
  readonly logicalModel?: 'flat' | 'cluster';
  /** AMD-Vi: one interrupt table shared by every DeviceID (Xen amd-iommu-perdev-intremap=0; XSA-36). */
  readonly sharedAmdTable?: boolean;
}

/** An IRTE a scenario names; null SVT/SQ/SID read as 0. */
export interface ExplicitIrte {
  readonly index: number;
  readonly present: boolean;
  readonly vector: number;
  readonly destination: number;
  readonly svt: number | null;
  readonly sq: number | null;
  readonly sid: number | null;
  readonly fpd: boolean;
  readonly owner: string | null;
  /** Posted format (IM=1, VT-d §9.11): the descriptor's address and the URG bit; `vector` is the virtual vector. */
  readonly posted: { readonly descriptor: number; readonly urgent: boolean } | null;
}

/** The entry's fields as the VT-d encoder takes them. */
export function explicitIrteFields(e: ExplicitIrte): IrteFields {
  const common = { present: e.present, vector: e.vector, svt: e.svt ?? 0, sq: e.sq ?? 0, sid: e.sid ?? 0, fpd: e.fpd };
  return e.posted === null ? { ...common, destination: e.destination } : { ...common, posted: true, descriptor: e.posted.descriptor, urgent: e.posted.urgent };
}

/**
 * Writes a hand-written entry (in memory only: an IEC copy stays in use until
 * invalidated, VT-d §6.5.2.7). The vector a remapped entry delivers belongs to
 * the entry's owner, unless it already belongs to someone; a posted entry's
 * vector is the descriptor owner's.
 */
export function writeExplicitIrte(vtd: VtdInterruptRemapper, vectors: VectorTable, e: ExplicitIrte): void {
  vtd.writeIrte(e.index, explicitIrteFields(e), e.owner);
  if (e.owner !== null && e.present && e.posted === null && vectors.owner(e.destination, e.vector) === null) vectors.assign(e.destination, e.vector, e.owner);
}

export interface InstallOptions {
  readonly trace?: TraceWriter<InterruptEvent>;
}

export interface X86Interrupts {
  readonly cpus: Cpus;
  readonly vectors: VectorTable;
  readonly controller: X86InterruptController;
  readonly vtd: VtdInterruptRemapper | null;
  readonly amd: AmdViInterruptRemapper | null;
  readonly sources: MsiSources;
  readonly programmed: readonly ProgrammedVector[];
  /** The host's interrupt setup, for tearing a device's interrupts down and setting them up for a new owner. */
  readonly setup: LinuxInterruptSetup;
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

/** The x86 interrupt window and the host's interrupt setup for every listed device, in order. */
export function installX86Interrupts(fabric: Fabric, hw: X86HardwareSpec, devices: readonly InterruptDeviceSpec[], irtes: readonly ExplicitIrte[] = [], options: InstallOptions = {}): X86Interrupts {
  const trace = options.trace ?? NO_TRACE;
  const clock = fabric.kernel;
  const cpus = new Cpus(hw.cpus, hw.x2apic, hw.logicalModel ?? 'flat');
  const vectors = new VectorTable(hw.cpus);
  let vtd: VtdInterruptRemapper | null = null;
  let amd: AmdViInterruptRemapper | null = null;
  if (hw.iommu === 'vtd') {
    const entries = hw.irTableSize ?? 65536;
    const sizeField = Math.log2(entries) - 1;
    if (!Number.isInteger(sizeField) || sizeField < 0 || sizeField > 15) throw new InterruptSetupError('IR_CONFIG', `irTableSize must be a power of two from 2 to 65536 (IRTA.S), got ${entries}`);
    vtd = new VtdInterruptRemapper({ enabled: hw.interruptRemapping, cfi: hw.compatFormat === 'allowed', eime: hw.x2apic, sizeField, postedInterrupts: hw.postedInterrupts ?? false }, clock, trace);
  } else if (hw.iommu === 'amd-vi') {
    // Interrupt remapping off (amd_iommu_irq_remap = false): DTEs keep IV=0, interrupts pass unmapped.
    amd = new AmdViInterruptRemapper(hw.interruptRemapping ? undefined : { iv: false, intTabLen: 0, intCtl: 0 }, clock, trace);
  }
  const controller = new X86InterruptController({ cpus, vectors, remapper: vtd ?? amd, clock, trace }).install(fabric.root);
  const sources = sourcesFor(fabric, devices, trace);
  const setup = new LinuxInterruptSetup({
    fabric,
    vectors,
    remapper: vtd ?? amd,
    nosid: !hw.sourceIdValidation,
    interruptRemapping: hw.interruptRemapping,
    reserved: irtes.map((e) => e.index),
    sharedAmdTable: hw.sharedAmdTable ?? false,
  });
  const programmed = setup.program(plansFor(fabric, devices, sources));
  for (const d of hw.postedDescriptors ?? []) {
    if (vtd === null) throw new InterruptSetupError('IR_CONFIG', 'posted-interrupt descriptors need a VT-d machine');
    vtd.descriptors.add(d);
  }
  for (const e of irtes) {
    if (vtd === null) throw new InterruptSetupError('IR_CONFIG', 'IRTEs can only be given for a VT-d machine');
    // Set up before any interrupt: written, then flushed from the IEC as Linux modify_irte does.
    writeExplicitIrte(vtd, vectors, e);
    vtd.invalidateIec(e.index, 0);
  }
  return { cpus, vectors, controller, vtd, amd, sources, programmed, setup };
}

export interface ArmHardwareSpec {
  readonly cpus: number;
  readonly controller: 'gicv2m' | 'gicv3-its';
  /** Physical base of the frame (GICv2m) or of the ITS; default above 4 GiB, clear of the usual memory and MMIO pools. */
  readonly doorbell?: number | null;
  /** The IOVA of the page the kernel maps onto the doorbell page when MSIs go through the SMMU (Linux iommu_dma_prepare_msi); null = devices write the physical doorbell. */
  readonly msiIova?: number | null;
  /**
   * Which devices get `msiIova`: Linux iommu_dma_prepare_msi() maps the doorbell
   * only for a domain with an IOVA cookie (DMA-API or VFIO paging domains); a
   * device in an identity or blocked domain keeps the physical doorbell address.
   * Default: every device.
   */
  readonly msiIovaFor?: (deviceId: string) => boolean;
}

export interface ArmInterrupts {
  readonly v2m: Gicv2mFrame | null;
  readonly its: Gicv3Its | null;
  readonly sources: MsiSources;
  /** The doorbell's physical range (what an IOMMU maps, or consumes before translation). */
  readonly doorbell: { readonly base: number; readonly size: number };
  readonly programmed: readonly { readonly device: string; readonly vector: number; readonly intid: number; readonly address: number; readonly data: number }[];
}

export const DEFAULT_V2M = 0x1_0802_0000;
export const DEFAULT_ITS = 0x1_0808_0000;

/**
 * An ARM MSI controller and the host's setup: GICv2m SPIs first-fit per
 * vector (gicv2m_irq_domain_alloc, message = frame + 0x40, INTID); ITS
 * MAPD per DeviceID (the alias the root complex passes, its_pci_msi_prepare)
 * with an ITT for all its vectors, MAPTI EventID n → the next LPI, MAPC
 * collection 0 → CPU 0.
 */
export function installArmMsi(fabric: Fabric, hw: ArmHardwareSpec, devices: readonly InterruptDeviceSpec[], options: InstallOptions = {}): ArmInterrupts {
  const trace = options.trace ?? NO_TRACE;
  const clock = fabric.kernel;
  const sources = sourcesFor(fabric, devices, trace);
  const programmed: ArmInterrupts['programmed'][number][] = [];
  const base = hw.doorbell ?? (hw.controller === 'gicv2m' ? DEFAULT_V2M : DEFAULT_ITS);
  const size = hw.controller === 'gicv2m' ? GICV2M_FRAME_SIZE : ITS_SIZE;
  if (fabric.memory.some((m) => base < m.base + m.size && m.base < base + size)) {
    throw new InterruptSetupError('DOORBELL_OVERLAP', `the MSI doorbell at 0x${base.toString(16)} overlaps host memory: give msi-doorbell.at an address outside it`);
  }
  const page = (address: number, device: string) =>
    hw.msiIova === null || hw.msiIova === undefined || hw.msiIovaFor?.(device) === false ? address : hw.msiIova + (address % 0x1000);
  let v2m: Gicv2mFrame | null = null;
  let its: Gicv3Its | null = null;
  const plans = plansFor(fabric, devices, sources);
  if (hw.controller === 'gicv2m') {
    const frame = new Gicv2mFrame({ name: 'gicv2m', base, spiBase: 64, spiCount: 256 }, clock, trace).install(fabric.root);
    v2m = frame;
    for (const plan of plans) {
      programArm(plan, (count) => {
        const block = frame.allocateSpis(count, plan.owner, plan.fn.id);
        return { address: page(block.address, plan.fn.id), first: block.data, intid: (n) => block.spi + n };
      }, programmed);
    }
  } else {
    const translator = new Gicv3Its({ name: 'gicv3-its', base }, clock, trace).install(fabric.root);
    its = translator;
    translator.mapCollection(0, 0);
    const perDevice = new Map<number, { events: number; owners: Set<string> }>();
    for (const plan of plans) {
      const id = arrivingRequesterId(fabric, plan.fn.id);
      const entry = perDevice.get(id) ?? { events: 0, owners: new Set<string>() };
      entry.events = alignUp(entry.events, blockOf(vectorsOf(plan))) + vectorsOf(plan);
      entry.owners.add(plan.owner);
      perDevice.set(id, entry);
    }
    for (const [id, { events, owners }] of perDevice) {
      translator.mapDevice(id, Math.max(1, Math.ceil(Math.log2(events))) - 1, owners.size === 1 ? [...owners][0]! : 'host');
    }
    const nextEvent = new Map<number, number>();
    let nextLpi = FIRST_LPI;
    for (const plan of plans) {
      const deviceId = arrivingRequesterId(fabric, plan.fn.id);
      programArm(plan, (count) => {
        const first = alignUp(nextEvent.get(deviceId) ?? 0, blockOf(count));
        nextEvent.set(deviceId, first + count);
        const lpi = nextLpi;
        nextLpi += count;
        for (let n = 0; n < count; n++) translator.mapEvent(deviceId, first + n, lpi + n, 0, plan.owner);
        return { address: page(base + GITS_TRANSLATER, plan.fn.id), first, intid: (n) => lpi + n };
      }, programmed);
    }
  }
  return { v2m, its, sources, doorbell: { base, size }, programmed };
}

function vectorsOf(plan: InterruptPlan): number {
  return plan.msix?.size ?? plan.msi?.capable ?? 0;
}

function blockOf(count: number): number {
  return count <= 1 ? 1 : 2 ** Math.ceil(Math.log2(count));
}

type ArmRoute = (count: number) => { address: number; first: number; intid: (n: number) => number };

/**
 * Programs a plan's vectors on an ARM controller: MSI-X gets one
 * single-vector block per entry; multi-message MSI one aligned block whose
 * first data value the device ORs its vector number into (PCIe 6.0 §7.7.1.2).
 */
function programArm(plan: InterruptPlan, route: ArmRoute, out: ArmInterrupts['programmed'][number][]): void {
  const device = plan.fn.id;
  if (plan.msix !== undefined) {
    for (let v = 0; v < plan.msix.size; v++) {
      const r = route(1);
      plan.msix.program(v, { address: r.address, data: r.first }, 'host');
      out.push({ device, vector: v, intid: r.intid(0), address: r.address, data: r.first });
    }
    plan.msix.setControl(plan.fn.config, true);
  } else if (plan.msi !== undefined) {
    const n = plan.msi.capable;
    const r = route(n);
    for (let v = 0; v < n; v++) out.push({ device, vector: v, intid: r.intid(v), address: r.address, data: r.first + v });
    plan.msi.program({ address: r.address, data: r.first }, n);
  }
}

function sourcesFor(fabric: Fabric, devices: readonly InterruptDeviceSpec[], trace: TraceWriter<InterruptEvent>): MsiSources {
  // The owner when the write lands (devices change hands); the listed owner when nobody attributes the fabric.
  const owners = new Map(devices.map((d) => [d.id, d.owner]));
  return new MsiSources(fabric, trace, (id) => fabric.attribution.ownerOfFunction(id) ?? owners.get(id) ?? null);
}

function plansFor(fabric: Fabric, devices: readonly InterruptDeviceSpec[], sources: MsiSources): InterruptPlan[] {
  const plans: InterruptPlan[] = [];
  for (const d of devices) {
    if (d.msi === null && d.msix === null) continue;
    const fn = fabric.fn(d.id);
    if (d.msix !== null) {
      const n = d.msix.vectors;
      const msix = MsixCapability.attach(fn.config, { vectors: n, tableBar: d.msix.bar, tableOffset: d.msix.offset, pbaOffset: alignUp(d.msix.offset + n * 16, 8) });
      sources.add(fn, { msix }, d.msix.programmedBy === 'owner' ? d.owner : 'host');
      plans.push({ fn, owner: d.owner, msix });
    } else {
      const msi = MsiCapability.attach(fn.config, { vectors: d.msi!.vectors, perVectorMasking: d.msi!.perVectorMask });
      sources.add(fn, { msi });
      plans.push({ fn, owner: d.owner, msi });
    }
  }
  return plans;
}

function alignUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
