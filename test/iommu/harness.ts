/** Test helpers: a fabric with an IOMMU installed and one trace for both layers. */
import '../../src/interrupts/reasons.ts';
import type { Kernel } from '../../src/sim/kernel.ts';
import type { Trace} from '../../src/sim/trace.ts';
import { type TraceRecord } from '../../src/sim/trace.ts';
import type { Fabric, IssueInit } from '../../src/fabric/fabric.ts';
import type { FabricConfig, FunctionConfig } from '../../src/fabric/topology.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { AddressTarget } from '../../src/fabric/root-complex.ts';
import type { Tlp } from '../../src/pcie/tlp.ts';
import { Iommu } from '../../src/iommu/iommu.ts';
import { INTERRUPT_WINDOW, type IommuConfigInput } from '../../src/iommu/config.ts';
import type { IommuEvent } from '../../src/iommu/events.ts';
import { acs, build } from '../fabric/build.ts';

export type AnyEvent = FabricEvent | IommuEvent;

export interface IommuHarness {
  kernel: Kernel;
  fabric: Fabric;
  trace: Trace<AnyEvent>;
  iommu: Iommu;
  /** Issues now, runs the kernel to quiescence (timers included), returns the TLP. */
  send(from: string, init: IssueInit): Tlp;
  /** Issues at an absolute time (ns) when the kernel runs; returns a getter for the TLP. */
  sendAt(time: number, from: string, init: IssueInit): () => Tlp;
  /** Runs `action` at an absolute time (ns), at control priority. */
  at(time: number, action: () => void): void;
  events<T extends AnyEvent['type']>(type: T): TraceRecord<Extract<AnyEvent, { type: T }>>[];
}

/** Stands in for the interrupts layer: takes every request decoded to FEEx_xxxxh. */
export const interruptSink: AddressTarget = {
  name: 'interrupt-window',
  accept(tlp, _address, root) {
    root.finish(tlp, 'delivered', 'interrupt.delivered', 'test: interrupt target', this);
  },
};

export function setup(functions: FunctionConfig[], config: IommuConfigInput, extra: Partial<FabricConfig> = {}): IommuHarness {
  const { kernel, fabric, trace, send } = build<AnyEvent>(functions, extra);
  const iommu = new Iommu(config, kernel, trace).install(fabric);
  fabric.root.platform.add(INTERRUPT_WINDOW, interruptSink);
  return {
    kernel,
    fabric,
    trace,
    iommu,
    send,
    sendAt(time, from, init) {
      let tlp: Tlp | undefined;
      kernel.scheduleAt(time, { name: `issue ${from}`, handle: () => void (tlp = fabric.issue(from, init)) }, null);
      return () => tlp!;
    },
    at(time, action) {
      kernel.scheduleAt(time, { name: 'control', handle: action }, null, 0);
    },
    events(type) {
      return trace.records.filter((r) => r.type === type) as never;
    },
  };
}

const ROOT_ACS = acs(['SV', 'RR', 'CR', 'UF']);

/** Two root ports, one endpoint each: `nic` (64 KiB BAR) and `nvme` (16 KiB BAR). */
export const twoPorts: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', acs: ROOT_ACS },
  { id: 'rp1', kind: 'root-port', acs: ROOT_ACS },
  { id: 'nic', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x10000 }] },
  { id: 'nvme', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x4000 }] },
];

/** A root port with a PCIe-to-PCI bridge and two conventional devices, plus `nic` on its own port. */
export const behindBridge: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', acs: ROOT_ACS },
  { id: 'br', kind: 'pcie-pci-bridge', parent: 'rp0' },
  { id: 'p0', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
  { id: 'p1', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
  { id: 'rp1', kind: 'root-port', acs: ROOT_ACS },
  { id: 'nic', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x10000 }] },
];
