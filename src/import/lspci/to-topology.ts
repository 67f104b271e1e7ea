/**
 * lspci records → the neutral group-input model (src/policy/pci-topology.ts).
 * Facts are taken only from what the dump shows: without root
 * (`Capabilities: <access denied>`) the PCIe port type and ACS are unknown;
 * a device that lists no capabilities at all has none (lspci prints
 * `<access denied>` whenever the status register says Cap+).
 */
import { formatBdf, type Bdf } from '../../pcie/bdf.ts';
import { makeTopology, type AcsState, type PciFunction, type PciIds, type PciePortType, type PciTopology } from '../../policy/pci-topology.ts';
import { DEVICE_NAMES, VENDOR_NAMES } from './device-names.ts';
import type { LspciDevice, LspciDump } from './parse.ts';

/** Class names lspci prints without -nn, for the classes the model cares about (PCI Code and ID Assignment §1). */
const CLASS_NAMES: Record<string, number> = {
  'Host bridge': 0x0600,
  'ISA bridge': 0x0601,
  'PCI bridge': 0x0604,
  'CardBus bridge': 0x0607,
  'RAID bus controller': 0x0104,
  'Non-Volatile memory controller': 0x0108,
  'Ethernet controller': 0x0200,
  'Network controller': 0x0280,
  'VGA compatible controller': 0x0300,
  'USB controller': 0x0c03,
};

export interface ImportedTopology {
  readonly topology: PciTopology;
  /** The records, by BDF key, for callers that need more (the fabric exporter). */
  readonly records: ReadonlyMap<string, LspciDevice>;
  /** Functions whose vendor:device is not known, so no device-specific quirk could be checked. */
  readonly idsUnknown: readonly string[];
}

export function keyOf(bdf: Bdf): string {
  return formatBdf(bdf);
}

/** vendor:device from -nn, a -x dump, a pci.ids name, or "Vendor Device 1234". */
export function idsOf(dev: LspciDevice): PciIds | undefined {
  if (dev.ids) return { ...dev.ids, source: 'numeric' };
  for (const [vendorName, vendor] of VENDOR_NAMES) {
    if (!dev.description.startsWith(`${vendorName} `)) continue;
    const name = dev.description.slice(vendorName.length + 1);
    const known = DEVICE_NAMES.find(([v, n]) => v === vendor && n === name);
    if (known) return { vendor, device: known[2][0]!, source: 'name' };
    const raw = /^Device ([0-9a-fA-F]{4})$/.exec(name);
    if (raw) return { vendor, device: parseInt(raw[1]!, 16), source: 'name' };
    return { vendor, source: 'name' };
  }
  return undefined;
}

function portTypeOf(dev: LspciDevice): PciePortType {
  if (dev.express) return dev.express.type;
  if (dev.capabilitiesDenied) return 'unknown';
  return 'conventional';
}

function acsOf(dev: LspciDevice): AcsState {
  if (dev.capabilitiesDenied) return { kind: 'unknown' };
  if (!dev.acs) return { kind: 'none' };
  if (dev.acs.cap === undefined || dev.acs.ctl === undefined) return { kind: 'unknown' };
  return { kind: 'present', cap: dev.acs.cap, ctl: dev.acs.ctl };
}

export function topologyFromLspci(dump: LspciDump): ImportedTopology {
  const records = new Map(dump.devices.map((d) => [keyOf(d.bdf), d]));
  const bridges = dump.devices.filter((d) => d.bus !== undefined);
  const slotCount = new Map<string, number>();
  const slot = (b: Bdf) => `${b.domain}:${b.bus}:${b.device}`;
  for (const d of dump.devices) slotCount.set(slot(d.bdf), (slotCount.get(slot(d.bdf)) ?? 0) + 1);
  const vmd = dump.devices.filter((d) => d.driver === 'vmd');

  const parentOf = (d: LspciDevice): string | null => {
    if (d.path.length > 0) return keyOf(d.path[d.path.length - 1]!);
    const bridge = bridges.find((b) => b.bdf.domain === d.bdf.domain && b.bus!.secondary === d.bdf.bus && b !== d);
    if (bridge) return keyOf(bridge.bdf);
    // A bus no bridge leads to is a root bus (a host bridge's); in a partial dump this may be wrong.
    return null;
  };

  const idsUnknown: string[] = [];
  const functions = dump.devices.map((d): PciFunction => {
    const key = keyOf(d.bdf);
    const ids = idsOf(d);
    if (!ids) idsUnknown.push(key);
    const classCode = d.classCode ?? CLASS_NAMES[d.className];
    const multifunction = (d.headerType !== undefined && (d.headerType & 0x80) !== 0) || (slotCount.get(slot(d.bdf)) ?? 1) > 1;
    const isBridge = d.bus !== undefined || (d.headerType !== undefined && (d.headerType & 0x7f) === 1);
    // pci_real_dma_dev(): VMD domains (0x10000 and up) issue DMA as the VMD endpoint; unresolved = unknown.
    const realDmaDev = d.bdf.domain < 0x10000 ? undefined : vmd.length === 1 ? keyOf(vmd[0]!.bdf) : 'the VMD endpoint (no single "Kernel driver in use: vmd" function in the dump)';
    return {
      key,
      bdf: d.bdf,
      label: `${d.className}: ${d.description}`,
      portType: portTypeOf(d),
      isBridge,
      ...(d.bus ? { buses: { secondary: d.bus.secondary, subordinate: d.bus.subordinate } } : {}),
      parent: parentOf(d),
      multifunction,
      ...(ids ? { ids } : {}),
      ...(classCode !== undefined ? { classCode } : {}),
      acs: acsOf(d),
      dmaAliasDevfns: [],
      hasMmio: d.bars.some((bar) => bar.kind === 'memory' && bar.size !== undefined && bar.size > 0),
      ...(realDmaDev ? { realDmaDev } : {}),
      ...(d.driver ? { driver: d.driver } : {}),
    };
  });
  return { topology: makeTopology(functions), records, idsUnknown };
}
