/**
 * Reads a kernel IOMMU group listing in the forms users paste:
 * - `DOMAIN:BB:DD.F<TAB>GROUP` (one device per line);
 * - the popular `/sys/kernel/iommu_groups/*` script: `IOMMU Group N:` then
 *   `lspci -nns` lines, or `IOMMU Group N 00:01.0 ...` on one line;
 * - inline `IOMMU group: N` (lspci -vv, pciutils >= 3.7) or `Flags: ..., IOMMU group N` (lspci -v);
 * - dmesg `pci 0000:00:1c.0: Adding to iommu group N` and older `iommu: Adding device 0000:00:1c.0 to group N`;
 * - sysfs paths `/sys/kernel/iommu_groups/N/devices/0000:00:1c.0`.
 * Group numbers are the kernel's; callers compare partitions, not numbers.
 */
import { formatBdf, parseBdf } from '../../pcie/bdf.ts';
import { parseLspci } from '../lspci/parse.ts';

export class GroupListingError extends Error {
  readonly userFacing = true;
  readonly code = 'GROUP_LISTING';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'GroupListingError';
  }
}

/** Device key ("0000:00:1c.0") → kernel group number. */
export type GroupListing = ReadonlyMap<string, number>;

const BDF = '(?:[0-9a-fA-F]{4,5}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]';
const FORMS: readonly RegExp[] = [
  new RegExp(`^\\s*(${BDF})\\t(\\d+)\\s*$`),
  new RegExp(`(?:^|\\s)(?:pci\\s+)?(${BDF}): Adding to iommu group (\\d+)`),
  new RegExp(`iommu: Adding device (${BDF}) to group (\\d+)`),
];
const SYSFS = new RegExp(`/sys/kernel/iommu_groups/(\\d+)/devices/(${BDF})`);
const GROUP_HEADING = /^\s*\*?\s*IOMMU Group (\d+)\s*:?\s*(.*)$/i;
/** A BDF at the start of a line; with an `lspci -PP` path the function is the last element. */
const LEADING_BDF = new RegExp(`^\\s*(?:${BDF}/(?:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]/)*)?(${BDF})(?:\\s|$)`);

export function parseGroupListing(text: string): GroupListing {
  const groups = new Map<string, number>();
  const add = (bdf: string, group: number) => groups.set(formatBdf(parseBdf(bdf)), group);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let current: number | undefined;
  lines.forEach((raw) => {
    const line = raw.replace(/\u00a0/g, ' ');
    for (const form of FORMS) {
      const m = form.exec(line);
      if (!m) continue;
      // A mail-wrapped dmesg line can glue the timestamp to the BDF ("[   20000:20:00.0"):
      // without the "pci " prefix a 5-digit domain is taken as its last 4 digits.
      const glued = form === FORMS[1] && /^[0-9a-fA-F]{5}:/.test(m[1]!) && !/pci\s+[0-9a-fA-F]{5}:/.test(line);
      const bdf = glued ? m[1]!.slice(1) : m[1]!;
      return add(bdf, Number(m[2]));
    }
    const sysfs = SYSFS.exec(line);
    if (sysfs) return add(sysfs[2]!, Number(sysfs[1]));
    const heading = GROUP_HEADING.exec(line);
    if (heading && !/IOMMU group:/.test(line)) {
      current = Number(heading[1]);
      const inline = LEADING_BDF.exec(heading[2]!);
      if (inline) add(inline[1]!, current);
      return;
    }
    const member = LEADING_BDF.exec(line);
    if (member && current !== undefined && /^\s/.test(line)) add(member[1]!, current);
  });
  if (groups.size === 0 && /IOMMU group/i.test(text)) {
    for (const dev of parseLspci(text).devices) if (dev.iommuGroup !== undefined) groups.set(formatBdf(dev.bdf), dev.iommuGroup);
  }
  if (groups.size === 0) {
    throw new GroupListingError(1, 'no IOMMU group found (expected "0000:00:1c.0<TAB>8", "IOMMU Group 8:" lines, "IOMMU group: 8" in lspci -vv, or dmesg "Adding to iommu group 8")');
  }
  return groups;
}

/** The listing as a partition: device keys per group, groups in number order. */
export function listingPartition(listing: GroupListing): string[][] {
  const byGroup = new Map<number, string[]>();
  for (const [device, group] of listing) byGroup.set(group, [...(byGroup.get(group) ?? []), device]);
  return [...byGroup.entries()].sort((a, b) => a[0] - b[0]).map(([, devices]) => devices.sort());
}
