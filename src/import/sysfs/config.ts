/**
 * A function's configuration space, as the bytes sysfs `config` (or
 * `lspci -xxxx`) gives, decoded into the importer's record
 * (LspciDevice) — the same facts the lspci parser reads from text:
 * IDs and class (PCI Local Bus 3.0 §6.2.1), header type, a bridge's bus
 * numbers and windows (PCI-to-PCI Bridge Arch. 1.2 §3.2.5), the
 * capability list (§6.7): PCI Express type (PCIe 6.0 §7.5.3.2), MSI
 * (§7.7.1), MSI-X (§7.7.2), and the ACS extended capability (§7.7.8).
 *
 * How much is readable depends on who reads: root sees 4096 bytes of a
 * PCIe function (256 of a conventional one), others the first 64. What
 * lies beyond is unknown, as lspci's `<access denied>` says: with 64 bytes
 * the capability list is unreadable; with 256 bytes of a PCIe function the
 * extended capabilities (ACS) are.
 */
import type { Bdf } from '../../pcie/bdf.ts';
import type { PciePortType } from '../../policy/pci-topology.ts';
import type { LspciBar, LspciDevice, LspciWindow } from '../lspci/parse.ts';

const PORT_TYPES: Record<number, PciePortType> = {
  0: 'endpoint',
  1: 'legacy-endpoint',
  4: 'root-port',
  5: 'upstream',
  6: 'downstream',
  7: 'pcie-pci-bridge',
  8: 'pci-pcie-bridge',
  9: 'rciep',
  10: 'rc-event-collector',
};

const CLASS_NAMES: Record<number, string> = {
  0x0600: 'Host bridge',
  0x0601: 'ISA bridge',
  0x0604: 'PCI bridge',
  0x0108: 'Non-Volatile memory controller',
  0x0200: 'Ethernet controller',
  0x0280: 'Network controller',
  0x0300: 'VGA compatible controller',
  0x0403: 'Audio device',
  0x0c03: 'USB controller',
};

export class ConfigSpaceReadError extends Error {
  readonly userFacing = true;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigSpaceReadError';
  }
}

/** `00: 86 80 18 8d …` lines (lspci -x/-xxx/-xxxx) → bytes; offsets must follow each other. */
export function configFromHex(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-fA-F]{2,3}):((?:\s[0-9a-fA-F]{2}){16})\s*$/.exec(line);
    if (!m) continue;
    if (parseInt(m[1]!, 16) !== bytes.length) throw new ConfigSpaceReadError('HEX_GAP', `hex dump jumps to offset ${m[1]} after ${bytes.length} bytes`);
    bytes.push(...m[2]!.trim().split(/\s+/).map((b) => parseInt(b, 16)));
  }
  return Uint8Array.from(bytes);
}

export interface SysfsFacts {
  readonly bars: readonly LspciBar[];
  readonly driver?: string;
  readonly iommuGroup?: number;
  /** Bridges above, outermost first (from the sysfs device path). */
  readonly path: readonly Bdf[];
}

export function deviceFromConfig(bdf: Bdf, config: Uint8Array, facts: SysfsFacts): LspciDevice {
  if (config.length < 64) throw new ConfigSpaceReadError('SHORT_CONFIG', `config space of ${bdfText(bdf)} has ${config.length} bytes; at least the 64-byte header is always readable`);
  const u8 = (o: number) => config[o]!;
  const u16 = (o: number) => u8(o) | (u8(o + 1) << 8);
  const u32 = (o: number) => (u16(o) | (u16(o + 2) << 16)) >>> 0;
  const vendor = u16(0);
  const device = u16(2);
  const classCode = u8(0x0a) | (u8(0x0b) << 8);
  const headerType = u8(0x0e);
  const dev: LspciDevice = {
    line: 0,
    bdf,
    path: facts.path,
    className: CLASS_NAMES[classCode] ?? `Class ${classCode.toString(16).padStart(4, '0')}`,
    classCode,
    description: `Device ${vendor.toString(16).padStart(4, '0')}:${device.toString(16).padStart(4, '0')}`,
    ids: { vendor, device },
    headerType,
    ...(facts.iommuGroup !== undefined ? { iommuGroup: facts.iommuGroup } : {}),
    capabilitiesListed: false,
    capabilitiesDenied: false,
    windows: {},
    bars: [...facts.bars],
    ...(facts.driver !== undefined ? { driver: facts.driver } : {}),
  };
  if ((headerType & 0x7f) === 1) {
    dev.bus = { primary: u8(0x18), secondary: u8(0x19), subordinate: u8(0x1a) };
    dev.windows.memory = window((u16(0x20) & 0xfff0) * 0x10000, (u16(0x22) & 0xfff0) * 0x10000 + 0xfffff);
    const wide = (u16(0x24) & 0xf) === 1;
    const pbase = (u16(0x24) & 0xfff0) * 0x10000 + (wide ? u32(0x28) * 2 ** 32 : 0);
    const plimit = (u16(0x26) & 0xfff0) * 0x10000 + 0xfffff + (wide ? u32(0x2c) * 2 ** 32 : 0);
    dev.windows.prefetchable = window(pbase, plimit);
  }
  const hasCapabilities = (u16(0x06) & 0x10) !== 0;
  if (!hasCapabilities) return dev;
  if (config.length <= 64) {
    dev.capabilitiesDenied = true;
    return dev;
  }
  readCapabilities(dev, config, u8, u16);
  return dev;
}

function window(base: number, limit: number): LspciWindow | null {
  return limit >= base ? { base, limit } : null;
}

function readCapabilities(dev: LspciDevice, config: Uint8Array, u8: (o: number) => number, u16: (o: number) => number): void {
  const seen = new Set<number>();
  for (let at = u8(0x34) & 0xfc; at >= 0x40 && at + 4 <= Math.min(config.length, 256) && !seen.has(at); at = u8(at + 1) & 0xfc) {
    seen.add(at);
    dev.capabilitiesListed = true;
    const id = u8(at);
    if (id === 0x10) dev.express = { type: PORT_TYPES[(u16(at + 2) >> 4) & 0xf] ?? 'unknown', line: 0 };
    else if (id === 0x05) {
      const ctl = u16(at + 2);
      dev.msi = { enabled: (ctl & 1) === 1, count: 1 << ((ctl >> 1) & 7), bits64: (ctl & 0x80) !== 0, maskable: (ctl & 0x100) !== 0 };
    } else if (id === 0x11) {
      const ctl = u16(at + 2);
      dev.msix = { enabled: (ctl & 0x8000) !== 0, count: (ctl & 0x7ff) + 1 };
    }
  }
  if (dev.express === undefined) return; // conventional PCI: no extended configuration space
  if (config.length < 4096) {
    // The extended capabilities (ACS among them) lie beyond what was readable.
    dev.acs = { capabilityLine: 0 };
    return;
  }
  const u32 = (o: number) => (u16(o) | (u16(o + 2) << 16)) >>> 0;
  const visited = new Set<number>();
  for (let at = 0x100; at >= 0x100 && at + 8 <= config.length && !visited.has(at); at = (u32(at) >>> 20) & 0xffc) {
    visited.add(at);
    const header = u32(at);
    if (header === 0 || header === 0xffffffff) break;
    if ((header & 0xffff) === 0x000d) dev.acs = { capabilityLine: 0, cap: u16(at + 4), ctl: u16(at + 6) };
  }
}

const bdfText = (b: Bdf) => `${b.domain.toString(16).padStart(4, '0')}:${b.bus.toString(16).padStart(2, '0')}:${b.device.toString(16).padStart(2, '0')}.${b.fn}`;
