/**
 * `groups --diff-kernel A B`: which IOMMU groups change between two Linux
 * releases on one machine, and why — for every function on the way up
 * from a device whose group changes, pci_acs_enabled()'s answer on each
 * release, where the two differ (a quirk that one release has and the
 * other lacks, the 5.9 PCH enable regression, an ID list added later).
 */
import { acsVerdict, REQ_ACS_FLAGS } from './acs-check.ts';
import { verdictText, who } from './acs-text.ts';
import { diffPartitions } from './group-diff.ts';
import { classicGroups } from './groups-classic.ts';
import type { KernelModel } from './kernel-options.ts';
import type { PciFunction, PciTopology } from './pci-topology.ts';
import { UnknownFact } from './unknown-fact.ts';

export interface KernelGroupChange {
  /** The groups (restricted to the devices involved) on release A and on release B. */
  readonly before: readonly (readonly string[])[];
  readonly after: readonly (readonly string[])[];
  readonly reasons: readonly string[];
}

export interface KernelDiff {
  readonly a: string;
  readonly b: string;
  readonly changes: readonly KernelGroupChange[];
  /** Devices whose group one of the releases leaves unknown. */
  readonly unknown: readonly { readonly device: string; readonly reason: string }[];
}

function answer(fn: PciFunction, kernel: KernelModel): string {
  try {
    return verdictText(acsVerdict(fn, REQ_ACS_FLAGS, kernel), kernel);
  } catch (error) {
    if (error instanceof UnknownFact) return `is unknown (${error.what})`;
    throw error;
  }
}

export function diffKernels(topology: PciTopology, a: KernelModel, b: KernelModel): KernelDiff {
  const [ra, rb] = [classicGroups(topology, a), classicGroups(topology, b)];
  const partition = (groups: typeof ra.groups) => groups.map((g) => [...g.devices]);
  const diff = diffPartitions(partition(ra.groups), partition(rb.groups));
  // Connected sets of changed groups: a group of A and the groups of B it overlaps, and so on.
  const pending = [...diff.onlyLeft, ...diff.onlyRight].map((g) => new Set(g));
  const clusters: Set<string>[] = [];
  while (pending.length > 0) {
    const cluster = pending.shift()!;
    for (let grew = true; grew; ) {
      grew = false;
      for (let i = pending.length - 1; i >= 0; i--) {
        if ([...pending[i]!].some((d) => cluster.has(d))) {
          for (const d of pending[i]!) cluster.add(d);
          pending.splice(i, 1);
          grew = true;
        }
      }
    }
    clusters.push(cluster);
  }
  const changes = clusters.map((cluster): KernelGroupChange => {
    const restrict = (groups: (readonly string[])[]) => groups.map((g) => g.filter((d) => cluster.has(d))).filter((g) => g.length > 0);
    const reasons = new Map<string, string>();
    for (const key of cluster) {
      for (let fn = topology.byKey.get(key); fn; fn = fn.parent === null ? undefined : topology.byKey.get(fn.parent)) {
        if (reasons.has(fn.key)) continue;
        const [ta, tb] = [answer(fn, a), answer(fn, b)];
        if (ta !== tb) reasons.set(fn.key, `${who(fn)}: on ${a.version?.text ?? 'the newest table'} it ${ta}; on ${b.version?.text ?? 'the newest table'} it ${tb}`);
      }
    }
    return { before: restrict(partition(ra.groups)), after: restrict(partition(rb.groups)), reasons: [...reasons.values()] };
  });
  const unknown = [...ra.unknown, ...rb.unknown].filter((u, i, all) => all.findIndex((x) => x.device === u.device) === i);
  return { a: a.version?.text ?? 'newest', b: b.version?.text ?? 'newest', changes, unknown };
}
