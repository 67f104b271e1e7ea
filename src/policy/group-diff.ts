/**
 * Comparing groupings as partitions (group numbers differ between runs and
 * between the kernel and us): two groupings agree on a device when it has
 * the same companions in both. Used for classic vs per-bus and for a
 * computed grouping vs a real kernel listing.
 */
export interface PartitionDiff {
  /** Devices present in both, compared. */
  readonly compared: number;
  /** Groups (restricted to compared devices) found identically in both. */
  readonly matching: readonly (readonly string[])[];
  /** Groups of the left side that the right side does not have. */
  readonly onlyLeft: readonly (readonly string[])[];
  /** Groups of the right side that the left side does not have. */
  readonly onlyRight: readonly (readonly string[])[];
  /** Devices only the left side places in a group. */
  readonly missingRight: readonly string[];
  /** Devices only the right side places in a group. */
  readonly missingLeft: readonly string[];
}

export function diffPartitions(left: readonly (readonly string[])[], right: readonly (readonly string[])[]): PartitionDiff {
  const inLeft = new Set(left.flat());
  const inRight = new Set(right.flat());
  const common = (groups: readonly (readonly string[])[], other: Set<string>) =>
    groups.map((g) => g.filter((d) => other.has(d)).sort()).filter((g) => g.length > 0);
  const l = common(left, inRight);
  const r = common(right, inLeft);
  const key = (g: readonly string[]) => g.join(' ');
  const rightKeys = new Set(r.map(key));
  const leftKeys = new Set(l.map(key));
  return {
    compared: l.flat().length,
    matching: l.filter((g) => rightKeys.has(key(g))),
    onlyLeft: l.filter((g) => !rightKeys.has(key(g))),
    onlyRight: r.filter((g) => !leftKeys.has(key(g))),
    missingRight: [...inLeft].filter((d) => !inRight.has(d)).sort(),
    missingLeft: [...inRight].filter((d) => !inLeft.has(d)).sort(),
  };
}

export function isSamePartition(diff: PartitionDiff): boolean {
  return diff.onlyLeft.length === 0 && diff.onlyRight.length === 0;
}
