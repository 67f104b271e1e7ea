/**
 * Figure 1: the flood workload on tlplab itself — the real compiler
 * (`compileFabric`), the real ACS-enforcing ports and the real VT-d `Iommu`
 * installed as the host bridge; no benchmark-only routing. Tracing is off.
 *
 * Machine: ⌈endpoints / 16⌉ root ports, each with one switch of up to 16
 * downstream ports and one endpoint (16 KiB BAR) per port, so every write
 * crosses endpoint → DSP → USP → root port → root complex. Root and
 * downstream ports enable SV|RR|CR|UF. Endpoint k has its own paging domain
 * mapping IOVA [0, 1 MiB) to its own 1 MiB of host memory.
 */
import { performance } from 'node:perf_hooks';
import { compileFabric, type Fabric, type IssueInit } from '../fabric/fabric.ts';
import type { PciFunction } from '../fabric/function.ts';
import { DEFAULT_FABRIC, type FabricConfig, type FunctionConfig } from '../fabric/topology.ts';
import { Iommu, attachDevice } from '../iommu/iommu.ts';
import { Acs } from '../pcie/acs.ts';
import { Kernel, type EventHandler } from '../sim/kernel.ts';
import {
  checkFlood,
  floodAddress,
  FLOOD_HOP_NS,
  FLOOD_INTERVAL_NS,
  FLOOD_MAPPED_BYTES,
  FLOOD_PORTS_PER_SWITCH,
  FLOOD_RAM_BASE,
  type FloodCounts,
  type FloodShape,
} from './flood-shape.ts';

const ALL_ACS = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
/** The controls Linux wants on the path (REQ_ACS_FLAGS): SV, RR, CR, UF. */
const FLOOD_ACS = { cap: ALL_ACS, ctl: Acs.SV | Acs.RR | Acs.CR | Acs.UF };

export const floodEndpointId = (k: number) => `ep${k}`;

/** The flood machine as a FabricConfig: what `compileFabric` builds. */
export function floodFabricConfig(endpoints: number): FabricConfig {
  const functions: FunctionConfig[] = [];
  const switches = Math.ceil(endpoints / FLOOD_PORTS_PER_SWITCH);
  for (let s = 0; s < switches; s++) {
    functions.push({ id: `rp${s}`, kind: 'root-port', acs: FLOOD_ACS });
    functions.push({ id: `sw${s}`, kind: 'switch-upstream', parent: `rp${s}` });
    for (let p = 0; p < FLOOD_PORTS_PER_SWITCH; p++) {
      const k = s * FLOOD_PORTS_PER_SWITCH + p;
      if (k >= endpoints) break;
      functions.push({ id: `dp${k}`, kind: 'switch-downstream', parent: `sw${s}`, acs: FLOOD_ACS });
      functions.push({ id: floodEndpointId(k), kind: 'endpoint', parent: `dp${k}`, bars: [{ size: 0x4000 }] });
    }
  }
  const memory = Array.from({ length: endpoints }, (_, k) => ({ name: `ep${k}-ram`, base: FLOOD_RAM_BASE + k * FLOOD_MAPPED_BYTES, size: FLOOD_MAPPED_BYTES }));
  return { ...DEFAULT_FABRIC, hopLatency: FLOOD_HOP_NS, functions, memory };
}

export interface FloodMachine {
  readonly kernel: Kernel;
  readonly fabric: Fabric;
  readonly iommu: Iommu;
  readonly endpoints: readonly PciFunction[];
}

/** Compiles the machine and programs the IOMMU as Linux would for 64 assigned devices. */
export function buildFloodMachine(endpoints: number): FloodMachine {
  const kernel = new Kernel();
  const fabric = compileFabric(floodFabricConfig(endpoints), kernel);
  const iommu = new Iommu({ model: 'vtd' }, kernel).install(fabric);
  const fns: PciFunction[] = [];
  for (let k = 0; k < endpoints; k++) {
    const id = floodEndpointId(k);
    const domain = iommu.createDomain(id, 'paging');
    attachDevice(fabric, id, domain);
    iommu.map(domain, 0, FLOOD_RAM_BASE + k * FLOOD_MAPPED_BYTES, FLOOD_MAPPED_BYTES, 'rw');
    fns.push(fabric.fn(id));
  }
  return { kernel, fabric, iommu, endpoints: fns };
}

interface Injector {
  readonly fabric: Fabric;
  readonly endpoints: readonly PciFunction[];
  readonly tlps: number;
  readonly init: IssueInit;
  next: number;
}

/** One event per 10 ns tick: every endpoint posts its next write (one reused init; the TLP copies it). */
const INJECT: EventHandler<Injector> = {
  name: 'flood.inject',
  handle(state, kernel) {
    const i = state.next++;
    const init = state.init;
    init.address = floodAddress(i);
    const fabric = state.fabric;
    const endpoints = state.endpoints;
    for (let k = 0; k < endpoints.length; k++) fabric.issue(endpoints[k]!, init);
    if (state.next < state.tlps) kernel.schedule(FLOOD_INTERVAL_NS, INJECT, state);
  },
};

export interface FloodRun extends FloodCounts {
  readonly hops: number;
  /** Wall time of the simulation itself (machine built beforehand), ms. */
  readonly runMs: number;
  /** Wall time to compile the fabric and program the IOMMU, ms. */
  readonly buildMs: number;
  /** Faults the IOMMU recorded in its log. */
  readonly faultsLogged: number;
}

/** Builds the machine, runs the flood to quiescence, checks the counts (throws FloodMismatchError). */
export function runFloodTlplab(shape: FloodShape): FloodRun {
  const buildStart = performance.now();
  const machine = buildFloodMachine(shape.endpoints);
  const { kernel, fabric } = machine;
  const state: Injector = { fabric, endpoints: machine.endpoints, tlps: shape.tlps, init: { type: 'MemWr', address: 0, length: 4, data: 0 }, next: 0 };
  if (shape.tlps > 0) kernel.schedule(0, INJECT, state);
  const start = performance.now();
  kernel.run();
  const runMs = performance.now() - start;
  // Every hop is one kernel event; the rest are the injector's ticks.
  const run: FloodRun = {
    delivered: fabric.counts.delivered,
    faulted: fabric.counts.faulted,
    hops: kernel.eventsHandled - shape.tlps,
    runMs,
    buildMs: start - buildStart,
    faultsLogged: machine.iommu.faults.length,
  };
  const other = fabric.counts.blocked + fabric.counts.completed + fabric.counts['unsupported-request'];
  checkFlood('tlplab flood', shape, { ...run, other });
  return run;
}
