/**
 * The neutral input of the IOMMU-group algorithms: per PCI function what
 * Linux's pci_device_group() (drivers/iommu/iommu.c) and the PCI core it
 * calls look at — BDF, PCIe port type (pci_pcie_type), bridge and bus
 * range, multifunction (header type bit 7), vendor:device for quirks, the
 * ACS capability and control words, DMA aliases. Two producers: a scenario
 * topology (`topologyFromEnumeration`) and the lspci importer.
 */
import { formatBdf, type Bdf } from '../pcie/bdf.ts';
import type { Enumeration, EnumeratedFunction } from '../fabric/enumerate.ts';
import type { FunctionKind } from '../fabric/topology.ts';

/** PCIe Base 6.0 §7.5.3.2 Device/Port Type, plus "no PCIe capability" and "not known". */
export type PciePortType =
  | 'root-port'
  | 'upstream'
  | 'downstream'
  | 'pcie-pci-bridge'
  | 'pci-pcie-bridge'
  | 'endpoint'
  | 'legacy-endpoint'
  | 'rciep'
  | 'rc-event-collector'
  /** No PCI Express capability: conventional PCI/PCI-X (pci_is_pcie() false). */
  | 'conventional'
  /** The capability list could not be read (non-root lspci: `<access denied>`). */
  | 'unknown';

/** The ACS extended capability: present with its registers, absent, or not readable. */
export type AcsState =
  | { readonly kind: 'present'; readonly cap: number; readonly ctl: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown' };

export interface PciIds {
  readonly vendor: number;
  /**
   * Undefined when only the vendor is known: lspci printed a device name
   * that is not among the quirk-listed names of device-names.ts, so the
   * device is taken to be none of the quirk-listed IDs.
   */
  readonly device?: number;
  /** How the IDs were learnt: printed by lspci -nn, matched from a pci.ids name, or given by a scenario. */
  readonly source: 'numeric' | 'name' | 'scenario';
}

export interface PciFunction {
  /** "0000:00:1c.0" (formatBdf). */
  readonly key: string;
  readonly bdf: Bdf;
  /** Scenario id or the lspci description, for messages. */
  readonly label: string;
  readonly portType: PciePortType;
  /** Type 1 header (PCI-to-PCI bridge / port). */
  readonly isBridge: boolean;
  /** Bridges: secondary and subordinate bus numbers. */
  readonly buses?: { readonly secondary: number; readonly subordinate: number };
  /** Key of the bridge whose secondary bus this function sits on; null on a root bus. */
  readonly parent: string | null;
  /** Header type bit 7 (pdev->multifunction). */
  readonly multifunction: boolean;
  readonly ids?: PciIds;
  /** Class code (base << 8 | sub), e.g. 0x0604 for a PCI bridge, when known. */
  readonly classCode?: number;
  readonly acs: AcsState;
  /** Extra requester IDs the function uses on its own bus (pci_add_dma_alias quirks), as devfns. */
  readonly dmaAliasDevfns: readonly number[];
  /** Has a memory BAR (pci_has_mmio); undefined when not known. */
  readonly hasMmio?: boolean;
  /**
   * pci_real_dma_dev(): the function that really issues this one's DMA
   * (the VMD endpoint for devices in a VMD domain, drivers/pci/controller/vmd.c).
   */
  readonly realDmaDev?: string;
  /** Kernel driver in use, when the input says. */
  readonly driver?: string;
  /** A Virtual Function's Physical Function (key): pdev->is_virtfn, pci_physfn(). */
  readonly physfn?: string;
}

export interface PciTopology {
  /** Functions in the kernel's probe order (depth-first scan; domains in ascending order). */
  readonly functions: readonly PciFunction[];
  readonly byKey: ReadonlyMap<string, PciFunction>;
}

export function devfnOfBdf(bdf: Bdf): number {
  return ((bdf.device & 0x1f) << 3) | (bdf.fn & 7);
}

/** Functions on the same bus as `fn` (same domain and bus number, same parent). */
export function sameBus(topology: PciTopology, fn: PciFunction): PciFunction[] {
  return [...busMembers(topology, fn)];
}

const busKey = (fn: PciFunction) => `${fn.parent ?? ''}|${fn.bdf.domain}|${fn.bdf.bus}`;
const busIndexes = new WeakMap<PciTopology, ReadonlyMap<string, readonly PciFunction[]>>();

/**
 * The functions of `topology` on `fn`'s bus (struct pci_bus: same parent,
 * domain and bus number), in topology order — what the kernel finds walking
 * bus->devices. Indexed once per topology, so the group algorithms' alias
 * and multifunction lookups cost the bus's size, not the machine's.
 */
export function busMembers(topology: PciTopology, fn: PciFunction): readonly PciFunction[] {
  let index = busIndexes.get(topology);
  if (index === undefined) {
    const buses = new Map<string, PciFunction[]>();
    for (const member of topology.functions) {
      const key = busKey(member);
      const list = buses.get(key);
      if (list === undefined) buses.set(key, [member]);
      else list.push(member);
    }
    index = buses;
    busIndexes.set(topology, index);
  }
  return index.get(busKey(fn)) ?? [];
}

/**
 * Orders functions as the kernel adds them (pci_scan_child_bus: every slot
 * of a bus, then each bridge's secondary bus in turn), which is the order
 * bus_iommu_probe() walks them and so the order groups are allocated.
 */
export function makeTopology(functions: readonly PciFunction[]): PciTopology {
  const byKey = new Map(functions.map((f) => [f.key, f]));
  const children = new Map<string | null, PciFunction[]>();
  for (const fn of functions) {
    const parent = fn.parent !== null && byKey.has(fn.parent) ? fn.parent : null;
    const list = children.get(parent) ?? [];
    list.push(fn);
    children.set(parent, list);
  }
  const byAddress = (a: PciFunction, b: PciFunction) =>
    a.bdf.domain - b.bdf.domain || a.bdf.bus - b.bdf.bus || devfnOfBdf(a.bdf) - devfnOfBdf(b.bdf);
  const ordered: PciFunction[] = [];
  const scanBus = (members: PciFunction[]) => {
    members.sort(byAddress);
    ordered.push(...members.filter((m) => m.physfn === undefined));
    for (const member of members) if (member.isBridge) scanBus(children.get(member.key) ?? []);
  };
  scanBus(children.get(null) ?? []);
  // VFs appear when the PF driver enables SR-IOV (sriov_enable → pci_iov_add_virtfn), after the boot-time scan.
  ordered.push(...functions.filter((f) => f.physfn !== undefined));
  return { functions: ordered, byKey };
}

const PORT_TYPE_OF_KIND: Record<FunctionKind, PciePortType> = {
  'root-port': 'root-port',
  'switch-upstream': 'upstream',
  'switch-downstream': 'downstream',
  'pcie-pci-bridge': 'pcie-pci-bridge',
  'pci-bridge': 'conventional',
  'pci-device': 'conventional',
  endpoint: 'endpoint',
  rciep: 'rciep',
};

function keyOf(enumeration: Enumeration, f: EnumeratedFunction): string {
  return formatBdf({ domain: enumeration.domain, bus: f.bus, device: f.device, fn: f.fn });
}

/** Producer (a): a scenario topology after enumeration. `acs` absent = no capability. */
export function topologyFromEnumeration(enumeration: Enumeration): PciTopology {
  const slotCount = new Map<string, number>();
  const slotKey = (f: EnumeratedFunction) => `${f.bus}:${f.device}:${f.parent?.config.id ?? ''}`;
  for (const f of enumeration.scanOrder) if (f.physfn === null) slotCount.set(slotKey(f), (slotCount.get(slotKey(f)) ?? 0) + 1);
  const functions = enumeration.scanOrder.map((f): PciFunction => {
    const bdf: Bdf = { domain: enumeration.domain, bus: f.bus, device: f.device, fn: f.fn };
    const ids = f.config.ids;
    const acs = f.config.acs;
    return {
      key: formatBdf(bdf),
      bdf,
      label: f.config.id,
      portType: PORT_TYPE_OF_KIND[f.config.kind],
      isBridge: f.buses !== null,
      ...(f.buses ? { buses: f.buses } : {}),
      parent: f.parent ? keyOf(enumeration, f.parent) : null,
      // Linux pci_iov_add_virtfn: virtfn->multifunction = 0.
      multifunction: f.physfn === null && (slotCount.get(slotKey(f)) ?? 1) > 1,
      ...(f.physfn !== null ? { physfn: keyOf(enumeration, f.physfn) } : {}),
      ...(ids ? { ids: { vendor: ids.vendor, device: ids.device, source: 'scenario' as const } } : {}),
      ...(ids?.class !== undefined ? { classCode: ids.class >> 8 } : {}),
      acs: acs ? { kind: 'present', cap: acs.cap, ctl: acs.ctl } : { kind: 'none' },
      dmaAliasDevfns: [],
      hasMmio: f.bars.length > 0,
    };
  });
  return makeTopology(functions);
}
