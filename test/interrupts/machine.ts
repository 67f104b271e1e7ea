/** Test helpers: small x86/ARM machines with interrupt hardware on a fabric. */
import type { Kernel } from '../../src/sim/kernel.ts';
import type { Trace } from '../../src/sim/trace.ts';
import type { Fabric, IssueInit } from '../../src/fabric/fabric.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import type { Tlp } from '../../src/pcie/tlp.ts';
import { MsiCapability, MsixCapability } from '../../src/pcie/msi.ts';
import type { InterruptEvent } from '../../src/interrupts/events.ts';
import { Cpus } from '../../src/interrupts/lapic.ts';
import { VectorTable } from '../../src/interrupts/vectors.ts';
import { VtdInterruptRemapper, type VtdIrConfig } from '../../src/interrupts/vtd-remap.ts';
import { AmdViInterruptRemapper } from '../../src/interrupts/amd-vi.ts';
import { X86InterruptController } from '../../src/interrupts/x86-controller.ts';
import { LinuxInterruptSetup, type InterruptPlan } from '../../src/interrupts/linux-ir.ts';
import { MsiSources } from '../../src/interrupts/msi-source.ts';
import type { InterruptDelivery } from '../../src/interrupts/delivery.ts';
import { acs, build } from '../fabric/build.ts';

export type AnyEvent = FabricEvent | InterruptEvent;

export interface Machine {
  kernel: Kernel;
  fabric: Fabric;
  trace: Trace<AnyEvent>;
  /** Issues from a device now, runs to quiescence, returns the TLP. */
  send(from: string, init: IssueInit): Tlp;
  run(): void;
  events<T extends AnyEvent['type']>(type: T): Extract<AnyEvent, { type: T }>[];
}

export interface X86Machine extends Machine {
  cpus: Cpus;
  vectors: VectorTable;
  controller: X86InterruptController;
  vtd: VtdInterruptRemapper | null;
  amd: AmdViInterruptRemapper | null;
  sources: MsiSources;
}

export interface X86Options {
  /** 'vtd' (default), 'amd-vi' or 'none'. */
  remapping?: 'vtd' | 'amd-vi' | 'none';
  vtd?: Partial<VtdIrConfig>;
  cpus?: number;
}

export function machine(functions: FunctionConfig[]): Machine {
  const { kernel, fabric, trace, send } = build<AnyEvent>(functions);
  return { kernel, fabric, trace, send, run: () => void kernel.run(), events: (type) => trace.records.filter((r) => r.type === type) as never };
}

export function x86Machine(functions: FunctionConfig[], options: X86Options = {}): X86Machine {
  const m = machine(functions);
  const n = options.cpus ?? 4;
  const cpus = new Cpus(n);
  const vectors = new VectorTable(n);
  const remapping = options.remapping ?? 'vtd';
  const vtd = remapping === 'vtd' ? new VtdInterruptRemapper(options.vtd, m.kernel, m.trace) : null;
  const amd = remapping === 'amd-vi' ? new AmdViInterruptRemapper(undefined, m.kernel, m.trace) : null;
  const controller = new X86InterruptController({ cpus, vectors, remapper: vtd ?? amd, clock: m.kernel, trace: m.trace }).install(m.fabric.root);
  const owners: Record<string, string> = { nic: 'vm1', nvme: 'host', p0: 'vm1', p1: 'host', a: 'vm1', b: 'host' };
  const sources = new MsiSources(m.fabric, m.trace, (id) => owners[id] ?? null);
  return { ...m, cpus, vectors, controller, vtd, amd, sources };
}

/** DESIGN.md §5 reference machine: a NIC (vm1, MSI-X 4) below an ACS-less switch port, an NVMe drive (host, MSI 1). */
export const referenceDevices: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 0 }, acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'sw-up', kind: 'switch-upstream', parent: 'rp0' },
  { id: 'sw-dp0', kind: 'switch-downstream', parent: 'sw-up', acs: acs([]) },
  { id: 'sw-dp1', kind: 'switch-downstream', parent: 'sw-up', acs: acs(['SV']) },
  { id: 'nic', kind: 'endpoint', parent: 'sw-dp0', bars: [{ size: 0x10000 }] },
  { id: 'nvme', kind: 'endpoint', parent: 'sw-dp1', bars: [{ size: 0x4000 }] },
];

export interface ReferenceMachine extends X86Machine {
  setup: LinuxInterruptSetup;
  nicMsix: MsixCapability;
  nvmeMsi: MsiCapability;
}

/** The reference machine with the host's interrupt setup done (NIC IRTEs 0–3, NVMe IRTE 4). */
export function referenceMachine(options: X86Options & { nosid?: boolean; nicTableProgrammer?: string } = {}): ReferenceMachine {
  const m = x86Machine(referenceDevices, options);
  const nic = m.fabric.fn('nic');
  const nvme = m.fabric.fn('nvme');
  const nicMsix = MsixCapability.attach(nic.config, { vectors: 4, tableBar: 0, tableOffset: 0x2000 });
  const nvmeMsi = MsiCapability.attach(nvme.config, { vectors: 1 });
  m.sources.add(nic, { msix: nicMsix }, options.nicTableProgrammer ?? 'host');
  m.sources.add(nvme, { msi: nvmeMsi });
  const setup = new LinuxInterruptSetup({ fabric: m.fabric, vectors: m.vectors, remapper: m.vtd ?? m.amd, nosid: options.nosid ?? false });
  const plans: InterruptPlan[] = [
    { fn: nic, owner: 'vm1', msix: nicMsix },
    { fn: nvme, owner: 'host', msi: nvmeMsi },
  ];
  setup.program(plans);
  return { ...m, setup, nicMsix, nvmeMsi };
}

export function delivered(tlp: Tlp): InterruptDelivery {
  if (tlp.outcome !== 'delivered') throw new Error(`${tlp.label} ended ${tlp.outcome} (${tlp.reason}), not delivered`);
  return tlp.target as InterruptDelivery;
}
