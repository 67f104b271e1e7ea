/**
 * The scenario an audit runs for one attacker on one imported segment: the
 * library's machine-independent attacks as steps — a write into each other
 * device's first decoding BAR (p2p-behind-switch, multifunction-no-acs), a
 * write carrying each other device's requester ID into that device's DMA
 * buffer (requester-id-spoofing), and a compatibility-format MSI of vector
 * 0x80 (white-rabbit-msi-injection). Each device gets a paging domain with
 * one buffer, as a host with the IOMMU on gives its devices; in a VMD
 * segment the devices share the VMD endpoint's domain (pci_real_dma_dev).
 */
import { requesterId } from '../../pcie/bdf.ts';
import { rangesOverlap, type AddressRange } from '../../pcie/range.ts';
import type { FabricConfig, FunctionConfig } from '../../fabric/topology.ts';
import { HOST, type DomainSpec, type FunctionSpec, type MemorySpec, type ScenarioSpec, type StepSpec } from '../model.ts';
import { DEFAULT_FUNCTION_HOST, DEFAULT_HOST, DEFAULT_KERNEL_HOST } from '../model-ownership.ts';

export const BUFFER_IOVA = 0x10000;
export const BUFFER_SIZE = 0x2000;

export interface AuditMachine {
  readonly fabric: FabricConfig;
  /** Endpoint ids (the possible attackers and victims), in fabric order. */
  readonly devices: readonly string[];
  readonly memory: readonly MemorySpec[];
  readonly buffers: ReadonlyMap<string, number>;
  /** One IOMMU domain for every device (a VMD segment), else one each. */
  readonly sharedDomain: boolean;
}

export interface AuditSettings {
  readonly iommu: 'vtd' | 'amd-vi' | 'none';
  readonly interruptRemapping: boolean;
  readonly sourceIdValidation: boolean;
}

export function principalOf(device: string): string {
  return `dev ${device}`;
}

export function auditMachine(fabric: FabricConfig, devices: readonly string[], sharedDomain: boolean): AuditMachine {
  const ram = freeRam(fabric.functions.flatMap((f) => [...(f.bars ?? []).flatMap((b) => (b.at === undefined ? [] : [{ base: b.at, size: b.size }])), ...windowsOf(f)]));
  const buffers = new Map(devices.map((id, i) => [id, ram.base + i * BUFFER_SIZE]));
  const memory: MemorySpec[] = devices.length === 0 ? [] : [{ name: 'host-ram', base: ram.base, size: devices.length * BUFFER_SIZE, owner: HOST }];
  return { fabric: { ...fabric, memory: memory.map(({ name, base, size }) => ({ name, base, size })) }, devices, memory, buffers, sharedDomain };
}

/** The first BAR of a function that decodes (has an address), or null. */
export function decodingBar(fn: FunctionConfig): number | null {
  const index = (fn.bars ?? []).findIndex((b) => b.at !== undefined);
  return index < 0 ? null : index;
}

export function auditSpec(machine: AuditMachine, attacker: string, victims: readonly { id: string; bar: number | null; forge: boolean }[], settings: AuditSettings): ScenarioSpec {
  const byId = new Map(machine.fabric.functions.map((f) => [f.id, f]));
  const functions: FunctionSpec[] = machine.fabric.functions.map((f) => ({
    id: f.id,
    device: f.id,
    owner: machine.devices.includes(f.id) ? principalOf(f.id) : HOST,
    driver: null,
    msi: null,
    msix: null,
    ats: false,
    barRegions: [],
    ...DEFAULT_FUNCTION_HOST,
  }));
  const domains: DomainSpec[] = machine.sharedDomain
    ? [{ name: 'dom vmd', devices: machine.devices, mode: 'paging', map: [{ iova: BUFFER_IOVA, to: { address: machine.buffers.get(machine.devices[0]!)! }, size: BUFFER_SIZE, perm: 'rw' }], deviceTlb: false }]
    : machine.devices.map((id) => ({ name: `dom ${id}`, devices: [id], mode: 'paging', map: [{ iova: BUFFER_IOVA, to: { address: machine.buffers.get(id)! }, size: BUFFER_SIZE, perm: 'rw' }], deviceTlb: false }));
  const steps: StepSpec[] = [];
  const base = { from: attacker, translated: false, pasid: null, data: 0x5a5a, size: 4 } as const;
  const at = () => ({ index: steps.length, at: steps.length * 1000 });
  for (const victim of victims) {
    if (victim.bar !== null) steps.push({ ...base, kind: 'write', ...at(), note: `p2p-bar-write ${victim.id}`, as: null, target: { bar: { device: victim.id, index: victim.bar }, offset: 0 } });
    if (victim.forge) {
      const bdf = byId.get(victim.id)!.bdf!;
      steps.push({ ...base, kind: 'write', ...at(), note: `forged-requester-id ${victim.id}`, as: requesterId(bdf.bus, bdf.device, bdf.fn), target: { address: BUFFER_IOVA } });
    }
  }
  steps.push({ ...base, kind: 'write', ...at(), note: 'msi-injection', as: null, data: 0x80, target: { address: 0xfee0_0000 } });
  const remapping = settings.iommu !== 'none';
  return {
    file: 'audit',
    name: 'audit',
    title: `audit of ${attacker}`,
    summary: '',
    sources: [],
    machine: {
      cpus: 4,
      iommu: {
        model: settings.iommu,
        dmaRemapping: remapping,
        interruptRemapping: remapping && settings.interruptRemapping,
        sourceIdValidation: settings.sourceIdValidation,
        compatFormat: 'blocked',
        x2apic: false,
        invalidation: 'strict',
        flushTimeoutNs: 10_000_000,
        flushQueueSize: 256,
        iotlbEntries: 512,
        iotlbReplacement: 'lru',
        irTableSize: 65536,
        postedInterrupts: false,
      },
      msiController: 'x86',
      msiDoorbell: null,
      kernel: { acsOverride: [], unsafeInterrupts: false, vfioViability: 'enforced', groups: 'classic', ...DEFAULT_KERNEL_HOST },
      fabric: machine.fabric,
      timing: { arbitration: 'fifo', jitterNs: 0 },
      functions,
      memory: machine.memory,
      irtes: [],
      postedDescriptors: [],
      apicLogicalModel: 'flat',
      ...DEFAULT_HOST,
    },
    domains,
    attacker: principalOf(attacker),
    via: 'device',
    steps,
  };
}

export function windowsOf(f: FunctionConfig): AddressRange[] {
  const w = f.windows;
  return [w?.memory, w?.prefetchable].filter((r): r is AddressRange => r !== undefined && r !== null);
}

/** A stretch of low memory clear of every pinned BAR and window, for the devices' buffers. */
export function freeRam(taken: readonly AddressRange[]): AddressRange {
  const candidate = { base: 0x100_0000, size: 0x100_0000 };
  for (let base = candidate.base; base < 0x1_0000_0000; base += 0x100_0000) {
    const range = { base, size: candidate.size };
    if (!taken.some((t) => rangesOverlap(t, range))) return range;
  }
  return candidate;
}
