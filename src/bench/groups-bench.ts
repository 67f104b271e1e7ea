/**
 * Figure 4: IOMMU group computation on a generated machine of `functions`
 * PCI functions (groups-machine.ts), classic and per-bus algorithms. Each
 * timed run gets a fresh topology object, so the per-topology bus index is
 * rebuilt inside the timing; generating the machine is not timed.
 */
import { performance } from 'node:perf_hooks';
import { classicGroups } from '../policy/groups-classic.ts';
import { perBusGroups } from '../policy/groups-per-bus.ts';
import type { GroupResult } from '../policy/group-result.ts';
import type { PciTopology } from '../policy/pci-topology.ts';
import { generateGroupsMachine } from './groups-machine.ts';
import { measureTimed, type MeasureOptions } from './measure.ts';

/** Target per algorithm (issue 8). */
export const GROUPS_TARGET_MS = 200;

export interface GroupsFigures {
  readonly functions: number;
  readonly segments: number;
  readonly classicMs: number;
  readonly classicGroups: number;
  readonly perBusMs: number;
  readonly perBusGroups: number;
  readonly targetMs: number;
  readonly met: boolean;
}

function timed(topology: PciTopology, algorithm: (t: PciTopology) => GroupResult): () => number {
  return () => {
    const fresh: PciTopology = { functions: topology.functions, byKey: topology.byKey };
    const start = performance.now();
    algorithm(fresh);
    return performance.now() - start;
  };
}

export function benchGroups(functions: number, options: MeasureOptions = {}): GroupsFigures {
  const topology = generateGroupsMachine(functions);
  const classic = measureTimed(timed(topology, classicGroups), options);
  const perBus = measureTimed(timed(topology, perBusGroups), options);
  const worst = Math.max(classic.medianMs, perBus.medianMs);
  return {
    functions: topology.functions.length,
    segments: new Set(topology.functions.map((f) => f.bdf.domain)).size,
    classicMs: classic.medianMs,
    classicGroups: classicGroups(topology).groups.length,
    perBusMs: perBus.medianMs,
    perBusGroups: perBusGroups(topology).groups.length,
    targetMs: GROUPS_TARGET_MS,
    met: worst < GROUPS_TARGET_MS,
  };
}
