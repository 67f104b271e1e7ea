/**
 * lspci records → a FabricConfig (src/fabric/topology.ts) for simulation,
 * with BDFs, bus ranges, windows and BAR addresses pinned as the machine had
 * them. Functions the fabric model cannot place are listed in `skipped` with
 * the reason (e.g. a host bridge, or anything whose type a non-root dump hides).
 */
import type { AddressRange } from '../../pcie/range.ts';
import { DEFAULT_FABRIC, type BarConfig, type FabricConfig, type FunctionConfig, type FunctionKind } from '../../fabric/topology.ts';
import type { PciFunction } from '../../policy/pci-topology.ts';
import type { LspciDevice, LspciDump, LspciWindow } from './parse.ts';
import { topologyFromLspci } from './to-topology.ts';

export interface FabricImport {
  readonly config: FabricConfig;
  readonly skipped: readonly { readonly device: string; readonly reason: string }[];
}

function kindOf(fn: PciFunction): FunctionKind | undefined {
  switch (fn.portType) {
    case 'root-port':
      return 'root-port';
    case 'upstream':
      return 'switch-upstream';
    case 'downstream':
      return 'switch-downstream';
    case 'pcie-pci-bridge':
      return 'pcie-pci-bridge';
    case 'endpoint':
    case 'legacy-endpoint':
      return fn.parent === null ? 'rciep' : 'endpoint';
    case 'rciep':
      return 'rciep';
    case 'conventional':
      // Integrated chipset functions without a PCIe capability behave as RCiEPs on the root bus.
      return fn.parent === null && !fn.isBridge ? 'rciep' : 'pci-device';
    default:
      return undefined;
  }
}

const range = (w: LspciWindow | null | undefined): AddressRange | null | undefined =>
  w === undefined ? undefined : w === null ? null : { base: w.base, size: w.limit - w.base + 1 };

function barsOf(dev: LspciDevice): BarConfig[] {
  return dev.bars
    .filter((b) => b.kind === 'memory' && b.size !== undefined && b.size >= 16 && (b.size & (b.size - 1)) === 0)
    .map((b) => ({ size: b.size!, ...(b.address !== undefined && !b.disabled ? { at: b.address } : {}), prefetch: b.prefetch, bits: b.bits ?? 32 }));
}

/** One domain of the dump (FabricConfig has one PCI segment); default: domain 0. */
export function fabricFromLspci(dump: LspciDump, domain = 0): FabricImport {
  const { topology, records } = topologyFromLspci(dump);
  const skipped: { device: string; reason: string }[] = [];
  const placed = new Set<string>();
  const functions: FunctionConfig[] = [];
  for (const fn of topology.functions) {
    if (fn.bdf.domain !== domain) continue;
    const kind = kindOf(fn);
    const dev = records.get(fn.key)!;
    if (!kind) {
      skipped.push({ device: fn.key, reason: 'PCIe port type unknown (lspci without root)' });
      continue;
    }
    if (dev.className === 'Host bridge' && fn.parent === null) {
      skipped.push({ device: fn.key, reason: 'host bridge: part of the root complex model' });
      continue;
    }
    if (fn.parent !== null && !placed.has(fn.parent)) {
      skipped.push({ device: fn.key, reason: `its upstream bridge ${fn.parent} is not in the fabric` });
      continue;
    }
    placed.add(fn.key);
    const bars = barsOf(dev);
    const windows = { memory: range(dev.windows.memory), prefetchable: range(dev.windows.prefetchable) };
    functions.push({
      id: fn.key,
      kind,
      ...(fn.parent !== null ? { parent: fn.parent } : {}),
      bdf: { bus: fn.bdf.bus, device: fn.bdf.device, fn: fn.bdf.fn },
      ...(fn.multifunction ? { package: `${fn.bdf.bus}:${fn.bdf.device}` } : {}),
      ...(bars.length > 0 ? { bars } : {}),
      ...(fn.acs.kind === 'present' ? { acs: { cap: fn.acs.cap, ctl: fn.acs.ctl } } : {}),
      ...(fn.buses ? { buses: fn.buses } : {}),
      ...(windows.memory !== undefined || windows.prefetchable !== undefined
        ? { windows: { ...(windows.memory !== undefined ? { memory: windows.memory } : {}), ...(windows.prefetchable !== undefined ? { prefetchable: windows.prefetchable } : {}) } }
        : {}),
      ...(fn.ids?.device !== undefined ? { ids: { vendor: fn.ids.vendor, device: fn.ids.device } } : {}),
    });
  }
  const rootBus = Math.min(...functions.filter((f) => f.parent === undefined).map((f) => f.bdf!.bus), 0xff);
  return { config: { ...DEFAULT_FABRIC, domain, rootBus: rootBus === 0xff ? 0 : rootBus, functions, memory: [] }, skipped };
}
