/** Test helpers: small fabrics built from terse function lists. */
import { Kernel } from '../../src/sim/kernel.ts';
import { Trace, type TraceEvent, type TraceRecord } from '../../src/sim/trace.ts';
import { acsMask, type AcsFlag } from '../../src/pcie/acs.ts';
import { compileFabric, type Fabric, type IssueInit } from '../../src/fabric/fabric.ts';
import { DEFAULT_FABRIC, type FabricConfig, type FunctionConfig } from '../../src/fabric/topology.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { Tlp } from '../../src/pcie/tlp.ts';

export function acs(ctl: AcsFlag[], cap: AcsFlag[] = ['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT'], egressVector = 0n, egressVectorSize?: number) {
  return { cap: acsMask(cap), ctl: acsMask(ctl), egressVector, ...(egressVectorSize === undefined ? {} : { egressVectorSize }) };
}

export function fabricConfig(functions: FunctionConfig[], extra: Partial<FabricConfig> = {}): FabricConfig {
  return { ...DEFAULT_FABRIC, functions, memory: [{ name: 'ram', base: 0, size: 0x8000_0000 }], ...extra };
}

/** A test fabric whose trace also carries the events of the layers a test installs (E). */
export interface TestFabric<E extends TraceEvent = FabricEvent> {
  kernel: Kernel;
  fabric: Fabric;
  trace: Trace<E>;
  /** Issues from a device at the current time, runs to quiescence, returns the TLP. */
  send(from: string, init: IssueInit): Tlp;
  /** The nodes a TLP was decided at, with decisions, in order. */
  path(tlp: Tlp): string[];
}

export function build<E extends TraceEvent = FabricEvent>(functions: FunctionConfig[], extra: Partial<FabricConfig> = {}): TestFabric<E> {
  const kernel = new Kernel();
  const trace = new Trace<E>(kernel, { enabled: true });
  const fabric = compileFabric(fabricConfig(functions, extra), kernel, trace as unknown as Trace<FabricEvent>);
  return {
    kernel,
    fabric,
    trace,
    send(from, init) {
      const tlp = fabric.issue(from, init);
      kernel.run();
      return tlp;
    },
    path(tlp) {
      return (trace.records as unknown as readonly TraceRecord<FabricEvent>[]).flatMap((r) => {
        if (r.type !== 'tlp.hop' && r.type !== 'tlp.ended') return [];
        if (r.tlp !== tlp.id) return [];
        return [r.type === 'tlp.hop' ? `${r.node}:${r.decision}` : `${r.node}:${r.outcome}`];
      });
    },
  };
}

/** Root port → switch (upstream port, two downstream ports) → one endpoint on each. */
export function switchPair(dp0: FunctionConfig['acs'], dp1: FunctionConfig['acs'] = dp0, rp: FunctionConfig['acs'] = acs(['SV', 'RR', 'CR', 'UF'])): FunctionConfig[] {
  return [
    { id: 'rp0', kind: 'root-port', ...(rp ? { acs: rp } : {}) },
    { id: 'up', kind: 'switch-upstream', parent: 'rp0' },
    { id: 'dp0', kind: 'switch-downstream', parent: 'up', ...(dp0 ? { acs: dp0 } : {}) },
    { id: 'dp1', kind: 'switch-downstream', parent: 'up', ...(dp1 ? { acs: dp1 } : {}) },
    { id: 'a', kind: 'endpoint', parent: 'dp0', bars: [{ size: 0x10000 }] },
    { id: 'b', kind: 'endpoint', parent: 'dp1', bars: [{ size: 0x4000 }] },
  ];
}
