/**
 * What a grouping algorithm returns, and the bookkeeping both algorithms
 * share: groups allocated in probe order (iommu_group_alloc() ids), the
 * group of each device (iommu_group_get()), and devices whose group could
 * not be decided from the input.
 */
import { UnknownFact } from './unknown-fact.ts';
import type { PciFunction } from './pci-topology.ts';

export type GroupAlgorithm = 'classic' | 'per-bus';

export interface IommuGroup {
  readonly id: number;
  /** BDF keys ("0000:00:1c.0") in probe order. */
  readonly devices: readonly string[];
}

export interface UnknownDevice {
  readonly device: string;
  readonly reason: string;
}

export interface GroupResult {
  readonly algorithm: GroupAlgorithm;
  readonly groups: readonly IommuGroup[];
  readonly unknown: readonly UnknownDevice[];
}

/** Group bookkeeping during one run. */
export class GroupState {
  private readonly groupOf = new Map<string, number>();
  private readonly unknownReason = new Map<string, string>();
  private readonly order: string[] = [];
  /** Per-bus algorithm: groups that carry BUS_DATA_PCI_NON_ISOLATED. */
  readonly nonIsolated = new Set<number>();
  private nextId = 0;

  /** iommu_group_get(): the device's group, undefined if it has none yet. */
  get(fn: PciFunction): number | undefined {
    const reason = this.unknownReason.get(fn.key);
    if (reason !== undefined) throw new UnknownFact(fn.key, `its own group (${reason})`);
    return this.groupOf.get(fn.key);
  }

  /** iommu_group_alloc() */
  alloc(): number {
    return this.nextId++;
  }

  /** Runs `decide` for each function in order, recording its group or why it is unknown. */
  run(functions: readonly PciFunction[], decide: (fn: PciFunction) => number): void {
    for (const fn of functions) {
      this.order.push(fn.key);
      try {
        this.groupOf.set(fn.key, decide(fn));
      } catch (error) {
        if (!(error instanceof UnknownFact)) throw error;
        this.unknownReason.set(fn.key, error.subject === fn.key ? `${error.what} is unknown` : error.message);
      }
    }
  }

  result(algorithm: GroupAlgorithm): GroupResult {
    const members = new Map<number, string[]>();
    for (const key of this.order) {
      const id = this.groupOf.get(key);
      if (id === undefined) continue;
      const list = members.get(id) ?? [];
      list.push(key);
      members.set(id, list);
    }
    const groups = [...members.entries()].sort((a, b) => a[0] - b[0]).map(([id, devices]) => ({ id, devices }));
    const unknown = [...this.unknownReason.entries()].map(([device, reason]) => ({ device, reason }));
    return { algorithm, groups, unknown };
  }
}
