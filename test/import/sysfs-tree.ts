/**
 * Test helper: builds a sysfs tree (and its /proc beside it) in a temporary
 * directory from known topologies — config-space bytes encoded here from a
 * terse description (PCI Local Bus 3.0 §6.1 header, PCI-to-PCI Bridge 1.2
 * §3.2 bridge registers, PCIe 6.0 §7.5.3 PCI Express capability, §7.7.8
 * ACS), or real bytes from an `lspci -xxxx` dump — laid out as the kernel
 * does: /sys/devices/pci0000:00/<bridge>/<device>, /sys/bus/pci/devices
 * links, driver and iommu_group links, /sys/kernel/iommu_groups.
 * Never the CI machine's own /sys.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export type PortType = 'endpoint' | 'root-port' | 'upstream' | 'downstream' | 'pcie-pci-bridge' | 'rciep';
const TYPE_CODE: Record<PortType, number> = { endpoint: 0, 'root-port': 4, upstream: 5, downstream: 6, 'pcie-pci-bridge': 7, rciep: 9 };

export interface SysfsDevice {
  readonly bdf: string;
  /** BDF of the bridge above; absent on a root bus. */
  readonly parent?: string;
  readonly ids: readonly [number, number];
  readonly classCode: number;
  /** PCIe port type; absent: conventional PCI (no PCI Express capability, 256-byte config space). */
  readonly pcie?: PortType;
  readonly multifunction?: boolean;
  readonly bridge?: { readonly secondary: number; readonly subordinate: number; readonly memory?: readonly [number, number] };
  readonly acs?: { readonly cap: number; readonly ctl: number };
  readonly msi?: boolean;
  /** Memory BARs: [address, size, 64-bit]. */
  readonly bars?: readonly (readonly [number, number, boolean])[];
  readonly driver?: string;
  readonly group?: number;
  /** Real config bytes (e.g. from lspci -xxxx) instead of encoding them. */
  readonly config?: Uint8Array;
}

/** The device's config space as root reads it: 4096 bytes for PCIe, 256 for conventional PCI. */
export function encodeConfig(d: SysfsDevice): Uint8Array {
  if (d.config) return d.config;
  const c = new Uint8Array(d.pcie ? 4096 : 256);
  const w16 = (o: number, v: number) => {
    c[o] = v & 0xff;
    c[o + 1] = (v >> 8) & 0xff;
  };
  const w32 = (o: number, v: number) => {
    w16(o, v & 0xffff);
    w16(o + 2, v >>> 16);
  };
  w16(0, d.ids[0]);
  w16(2, d.ids[1]);
  c[0x0a] = d.classCode & 0xff;
  c[0x0b] = d.classCode >> 8;
  c[0x0e] = (d.multifunction ? 0x80 : 0) | (d.bridge ? 1 : 0);
  if (d.bridge) {
    c[0x19] = d.bridge.secondary;
    c[0x1a] = d.bridge.subordinate;
    const [base, limit] = d.bridge.memory ?? [0xfff0_0000, 0];
    w16(0x20, (base >>> 16) & 0xfff0);
    w16(0x22, (limit >>> 16) & 0xfff0);
    w16(0x24, 0xfff1); // prefetchable window closed (base > limit), 64-bit capable
    w16(0x26, 0x0001);
  }
  let next = 0x40;
  const caps: [number, (at: number) => void][] = [];
  if (d.pcie) caps.push([0x10, (at) => w16(at + 2, 0x0002 | (TYPE_CODE[d.pcie!] << 4))]);
  if (d.msi) caps.push([0x05, (at) => w16(at + 2, 0x0080)]);
  if (caps.length > 0) {
    w16(0x06, 0x0010); // Status: Capabilities List
    c[0x34] = next;
    caps.forEach(([id, fill], i) => {
      c[next] = id;
      c[next + 1] = i + 1 < caps.length ? next + 0x10 : 0;
      fill(next);
      next += 0x10;
    });
  }
  if (d.pcie && d.acs) {
    w32(0x100, 0x000d | (1 << 16)); // ACS, version 1, last in the list
    w16(0x104, d.acs.cap);
    w16(0x106, d.acs.ctl);
  }
  return c;
}

/** `resource`: six BAR lines, then ROM and bridge windows (zeros), as the kernel prints them. */
function resourceFile(d: SysfsDevice): string {
  const lines = Array.from({ length: 13 }, () => '0x0000000000000000 0x0000000000000000 0x0000000000000000');
  let i = 0;
  for (const [at, size, wide] of d.bars ?? []) {
    const hex = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;
    lines[i] = `${hex(at)} ${hex(at + size - 1)} ${hex(0x40200 | (wide ? 0x100000 : 0))}`;
    i += wide ? 2 : 1;
  }
  return `${lines.join('\n')}\n`;
}

export interface TreeOptions {
  /** Bytes of config space a reader gets: 4096 (root) or 64 (anyone else). */
  readonly readable?: 64 | 4096;
  readonly cmdline?: string;
  readonly release?: string;
}

/** Writes the tree; returns the sysfs root (…/sys). */
export function writeSysfsTree(devices: readonly SysfsDevice[], options: TreeOptions = {}): string {
  const base = mkdtempSync(join(tmpdir(), 'tlplab-sysfs-'));
  const sys = join(base, 'sys');
  const byBdf = new Map(devices.map((d) => [d.bdf, d]));
  const pathOf = (d: SysfsDevice): string => (d.parent ? join(pathOf(byBdf.get(d.parent)!), d.bdf) : join(sys, 'devices', `pci${d.bdf.slice(0, 4)}:${d.bdf.slice(5, 7)}`, d.bdf));
  const link = (target: string, at: string) => {
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(relative(dirname(at), target), at);
  };
  for (const d of devices) {
    const dir = pathOf(d);
    mkdirSync(dir, { recursive: true });
    const config = encodeConfig(d);
    writeFileSync(join(dir, 'config'), config.subarray(0, Math.min(config.length, options.readable ?? 4096)));
    writeFileSync(join(dir, 'resource'), resourceFile(d));
    link(dir, join(sys, 'bus', 'pci', 'devices', d.bdf));
    if (d.driver) {
      mkdirSync(join(sys, 'bus', 'pci', 'drivers', d.driver), { recursive: true });
      link(join(sys, 'bus', 'pci', 'drivers', d.driver), join(dir, 'driver'));
    }
    if (d.group !== undefined) {
      const group = join(sys, 'kernel', 'iommu_groups', String(d.group));
      link(dir, join(group, 'devices', d.bdf));
      link(group, join(dir, 'iommu_group'));
    }
  }
  mkdirSync(join(base, 'proc', 'sys', 'kernel'), { recursive: true });
  if (options.cmdline !== undefined) writeFileSync(join(base, 'proc', 'cmdline'), `${options.cmdline}\n`);
  if (options.release !== undefined) writeFileSync(join(base, 'proc', 'sys', 'kernel', 'osrelease'), `${options.release}\n`);
  return sys;
}
