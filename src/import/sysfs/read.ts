/**
 * A live machine from sysfs (Documentation/ABI/testing/sysfs-bus-pci):
 * for every /sys/bus/pci/devices/DDDD:BB:DD.F — `config` (binary config
 * space: 4096 bytes as root for PCIe, 256 for conventional PCI, 64 for
 * anyone else), `resource` (one "start end flags" line per BAR, readable by
 * all), the `driver` and `iommu_group` links, and the device's place in
 * /sys/devices (its parent bridge) — plus /sys/kernel/iommu_groups, the
 * kernel command line and release (/proc/cmdline, /proc/sys/kernel/osrelease
 * beside the sysfs root). The result is
 * the importer's neutral record, so everything that reads an lspci dump
 * reads a live host the same way.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tryParseBdf, type Bdf } from '../../pcie/bdf.ts';
import type { LspciBar, LspciDump } from '../lspci/parse.ts';
import { ConfigSpaceReadError, deviceFromConfig } from './config.ts';

export interface SysfsMachine {
  readonly dump: LspciDump;
  /** The kernel command line, when readable. */
  readonly cmdline: string | null;
  /** The running kernel's groups: BDF key → group number (from /sys/kernel/iommu_groups). */
  readonly groups: ReadonlyMap<string, number>;
  /** The running release (/proc/sys/kernel/osrelease, e.g. "6.8.0-45-generic"), when readable. */
  readonly release: string | null;
}

/** linux/ioport.h resource flags. */
const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** The six standard BARs from `resource` (PCI_STD_RESOURCES): a 64-bit BAR's upper half is an empty line. */
export function barsFromResource(text: string): LspciBar[] {
  const bars: LspciBar[] = [];
  text
    .split('\n')
    .slice(0, 6)
    .forEach((line, index) => {
      const m = /^\s*0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)/.exec(line);
      if (!m) return;
      const [start, end, flags] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
      if ((flags & (IORESOURCE_MEM | IORESOURCE_IO)) === 0 || end === 0) return;
      bars.push({
        index,
        kind: (flags & IORESOURCE_MEM) !== 0 ? 'memory' : 'io',
        ...(start !== 0 ? { address: start } : {}),
        size: end - start + 1,
        bits: (flags & IORESOURCE_MEM_64) !== 0 ? 64 : 32,
        prefetch: (flags & IORESOURCE_PREFETCH) !== 0,
        disabled: false,
      });
    });
  return bars;
}

const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);
const linkName = (path: string) => (existsSync(path) ? basename(readlinkSync(path)) : undefined);

/** The bridges above a device from its /sys/devices path: BDF components up to the host bridge (pciDDDD:BB). */
function bridgesAbove(devicePath: string): Bdf[] {
  const above: Bdf[] = [];
  for (let dir = dirname(devicePath); ; dir = dirname(dir)) {
    const bdf = tryParseBdf(basename(dir));
    if (bdf === undefined || dir === dirname(dir)) break;
    above.unshift(bdf);
  }
  return above;
}

export function readSysfs(root: string): SysfsMachine {
  const devicesDir = join(root, 'bus', 'pci', 'devices');
  if (!existsSync(devicesDir)) throw new ConfigSpaceReadError('NO_SYSFS', `no ${devicesDir}: not a sysfs tree (give the directory sysfs is mounted at, usually /sys)`);
  const names = readdirSync(devicesDir).filter((n) => tryParseBdf(n) !== undefined);
  if (names.length === 0) throw new ConfigSpaceReadError('NO_DEVICES', `${devicesDir} lists no PCI devices`);
  const devices = names.sort().map((name) => {
    const dir = join(devicesDir, name);
    const config = existsSync(join(dir, 'config')) ? new Uint8Array(readFileSync(join(dir, 'config'))) : null;
    if (config === null) throw new ConfigSpaceReadError('NO_CONFIG', `${dir}/config is missing`);
    const group = linkName(join(dir, 'iommu_group'));
    const driver = linkName(join(dir, 'driver'));
    return deviceFromConfig(tryParseBdf(name)!, config, {
      bars: barsFromResource(readText(join(dir, 'resource')) ?? ''),
      path: bridgesAbove(realpathSync(dir)),
      ...(driver !== undefined ? { driver } : {}),
      ...(group !== undefined && /^\d+$/.test(group) ? { iommuGroup: Number(group) } : {}),
    });
  });
  const groups = new Map<string, number>();
  const groupsDir = join(root, 'kernel', 'iommu_groups');
  if (existsSync(groupsDir)) {
    for (const g of readdirSync(groupsDir).filter((n) => /^\d+$/.test(n))) {
      const members = join(groupsDir, g, 'devices');
      if (existsSync(members)) for (const d of readdirSync(members)) groups.set(d, Number(g));
    }
  }
  const proc = root === '/sys' ? '/proc' : join(root, '..', 'proc');
  const release = /^(\d+\.\d+)/.exec(readText(join(proc, 'sys', 'kernel', 'osrelease')) ?? '')?.[1] ?? null;
  return { dump: { devices }, cmdline: readText(join(proc, 'cmdline'))?.trim() ?? null, groups, release };
}
