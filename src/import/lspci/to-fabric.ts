/**
 * lspci records → FabricConfigs (src/fabric/topology.ts) for simulation,
 * one per PCI segment, taken as firmware assigned them (assignment
 * 'firmware'): BDFs, bus ranges, windows and BAR addresses as the dump
 * shows them, nothing re-enumerated. Every function is placed except host
 * bridges (the root complex model stands for them). What the dump does not
 * show is listed per function in `unknown` — the PCIe port type and ACS
 * behind `<access denied>`, BAR addresses it hides, windows it omits — and
 * where the fabric still needs a kind to route by, the kind is inferred
 * from the function's place in the tree and listed in `assumed`.
 */
import type { AddressRange } from '../../pcie/range.ts';
import { DEFAULT_FABRIC, type BarConfig, type FabricConfig, type FunctionConfig, type FunctionKind } from '../../fabric/topology.ts';
import type { PciFunction, PciTopology } from '../../policy/pci-topology.ts';
import { usesPcieBridgeAlias } from '../../policy/quirks.ts';
import type { LspciDevice, LspciDump, LspciWindow } from './parse.ts';
import { topologyFromLspci } from './to-topology.ts';

export interface FabricImport {
  /** PCI segment (domain) of this fabric. */
  readonly domain: number;
  readonly config: FabricConfig;
  readonly skipped: readonly { readonly device: string; readonly reason: string }[];
  /** Facts the dump does not show, by function id. */
  readonly unknown: ReadonlyMap<string, readonly string[]>;
  /** Kinds inferred from the tree because the dump hides the PCIe port type, by function id. */
  readonly assumed: ReadonlyMap<string, string>;
  /** The neutral topology of the whole dump (all segments), for grouping. */
  readonly topology: PciTopology;
}

const PORT_KINDS: Partial<Record<PciFunction['portType'], FunctionKind>> = {
  'root-port': 'root-port',
  upstream: 'switch-upstream',
  downstream: 'switch-downstream',
  'pcie-pci-bridge': 'pcie-pci-bridge',
  // PCI/PCI-X-to-PCIe bridges take ownership with their own requester ID (pci_for_each_dma_alias, PCI_EXP_TYPE_PCIE_BRIDGE).
  'pci-pcie-bridge': 'pci-bridge',
  'rc-event-collector': 'rciep',
  rciep: 'rciep',
};

interface Placement {
  readonly kind: FunctionKind;
  /** Set when the kind is inferred, not read. */
  readonly assumption?: string;
}

function placementOf(fn: PciFunction, parentKind: FunctionKind | undefined, parent: PciFunction | undefined): Placement {
  const known = PORT_KINDS[fn.portType];
  if (known) return { kind: known };
  const onPciBus = parentKind === 'pcie-pci-bridge' || parentKind === 'pci-bridge';
  switch (fn.portType) {
    case 'endpoint':
    case 'legacy-endpoint':
      return { kind: fn.parent === null ? 'rciep' : onPciBus ? 'pci-device' : 'endpoint' };
    case 'conventional':
      if (fn.isBridge) return { kind: usesPcieBridgeAlias(fn, parent) ? 'pcie-pci-bridge' : 'pci-bridge' };
      // Integrated functions without a PCIe capability behave as RCiEPs on the root bus.
      return { kind: fn.parent === null ? 'rciep' : onPciBus ? 'pci-device' : 'endpoint' };
    default: {
      // `<access denied>`: the type is not shown; route by the function's place in the tree.
      let kind: FunctionKind;
      if (fn.isBridge) kind = fn.parent === null ? 'root-port' : parentKind === 'switch-upstream' ? 'switch-downstream' : onPciBus ? 'pci-bridge' : 'switch-upstream';
      else kind = fn.parent === null ? 'rciep' : onPciBus ? 'pci-device' : 'endpoint';
      return { kind, assumption: `PCIe port type not shown (lspci without root); routed as a ${kind} by its place in the tree` };
    }
  }
}

const range = (w: LspciWindow | null | undefined): AddressRange | null => (w === undefined || w === null ? null : { base: w.base, size: w.limit - w.base + 1 });

function barsOf(dev: LspciDevice, unknown: string[]): BarConfig[] {
  const bars: BarConfig[] = [];
  for (const b of dev.bars) {
    if (b.kind !== 'memory') continue;
    if (b.size === undefined || b.size < 16 || (b.size & (b.size - 1)) !== 0) {
      unknown.push(`BAR ${b.index}: size not shown`);
      continue;
    }
    if (b.address === undefined && !b.disabled) unknown.push(`BAR ${b.index}: address not shown`);
    bars.push({ size: b.size, ...(b.address !== undefined && !b.disabled ? { at: b.address } : {}), prefetch: b.prefetch, bits: b.bits ?? 32 });
  }
  return bars;
}

/** Every segment of the dump, lowest domain first. */
export function fabricsFromLspci(dump: LspciDump): FabricImport[] {
  const imported = topologyFromLspci(dump);
  const domains = [...new Set(imported.topology.functions.map((f) => f.bdf.domain))].sort((a, b) => a - b);
  return domains.map((domain) => segmentFabric(imported.topology, imported.records, domain));
}

/** One domain of the dump (FabricConfig is one PCI segment); default: domain 0. */
export function fabricFromLspci(dump: LspciDump, domain = 0): FabricImport {
  const imported = topologyFromLspci(dump);
  return segmentFabric(imported.topology, imported.records, domain);
}

function segmentFabric(topology: PciTopology, records: ReadonlyMap<string, LspciDevice>, domain: number): FabricImport {
  const skipped: { device: string; reason: string }[] = [];
  const unknown = new Map<string, string[]>();
  const assumed = new Map<string, string>();
  const kinds = new Map<string, FunctionKind>();
  const functions: FunctionConfig[] = [];
  for (const fn of topology.functions) {
    if (fn.bdf.domain !== domain) continue;
    const dev = records.get(fn.key)!;
    if (dev.className === 'Host bridge' && fn.parent === null) {
      skipped.push({ device: fn.key, reason: 'host bridge: part of the root complex model' });
      continue;
    }
    if (fn.parent !== null && !kinds.has(fn.parent)) {
      skipped.push({ device: fn.key, reason: `its upstream bridge ${fn.parent} is not in the fabric` });
      continue;
    }
    if (fn.isBridge && fn.buses === undefined && !topology.functions.some((c) => c.parent === fn.key)) {
      skipped.push({ device: fn.key, reason: 'a bridge whose bus numbers the dump does not show, with nothing below it' });
      continue;
    }
    const parentKind = fn.parent === null ? undefined : kinds.get(fn.parent);
    const placement = placementOf(fn, parentKind, fn.parent === null ? undefined : topology.byKey.get(fn.parent));
    kinds.set(fn.key, placement.kind);
    const facts: string[] = [];
    if (placement.assumption) assumed.set(fn.key, placement.assumption);
    if (fn.portType === 'unknown') facts.push('PCIe port type');
    if (fn.acs.kind === 'unknown') facts.push('ACS capability');
    const bars = barsOf(dev, facts);
    if (fn.isBridge && (dev.windows.memory === undefined || dev.windows.prefetchable === undefined)) facts.push('bridge windows');
    if (facts.length > 0) unknown.set(fn.key, facts);
    const windows = { memory: range(dev.windows.memory), prefetchable: range(dev.windows.prefetchable) };
    functions.push({
      id: fn.key,
      kind: placement.kind,
      ...(fn.parent !== null ? { parent: fn.parent } : {}),
      bdf: { bus: fn.bdf.bus, device: fn.bdf.device, fn: fn.bdf.fn },
      ...(fn.multifunction ? { package: `${fn.bdf.bus}:${fn.bdf.device}` } : {}),
      ...(bars.length > 0 ? { bars } : {}),
      ...(fn.acs.kind === 'present' ? { acs: { cap: fn.acs.cap, ctl: fn.acs.ctl } } : {}),
      ...(fn.buses ? { buses: fn.buses } : {}),
      ...(fn.isBridge ? { windows } : {}),
      ...(fn.ids?.device !== undefined ? { ids: { vendor: fn.ids.vendor, device: fn.ids.device } } : {}),
    });
  }
  const roots = functions.filter((f) => f.parent === undefined).map((f) => f.bdf!.bus);
  const rootBus = roots.length > 0 ? Math.min(...roots) : 0;
  return { domain, config: { ...DEFAULT_FABRIC, domain, rootBus, assignment: 'firmware', functions, memory: [] }, skipped, unknown, assumed, topology };
}
