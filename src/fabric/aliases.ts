/**
 * DMA aliases: the requester IDs a function's DMA may carry when it reaches
 * the root complex. Linux attaches every one of them to the device's domain
 * (pci_for_each_dma_alias, drivers/pci/search.c): the function's own ID, then
 * for each PCIe-to-PCI bridge above it the bridge's alias (secondary bus,
 * 00.0; PCIe-to-PCI Bridge r1.0 §2.3), and for each PCI-to-PCI bridge
 * without a PCIe capability the bridge's own ID. Root ports and switch
 * ports add none.
 * VT-d 5.10 §3.12.1 asks software to program a context entry for each.
 * Interrupt remapping uses the same list for source-ID checks.
 */
import { requesterId, type RequesterId } from '../pcie/bdf.ts';
import type { EnumeratedFunction } from './enumerate.ts';
import type { Fabric } from './fabric.ts';

/** The requester ID a bridge puts on what it forwards upstream for the devices behind it, or null (PCIe ports). */
export function bridgeAlias(bridge: EnumeratedFunction): RequesterId | null {
  if (bridge.config.kind === 'pcie-pci-bridge' && bridge.buses !== null) return requesterId(bridge.buses.secondary, 0, 0);
  if (bridge.config.kind === 'pci-bridge') return bridge.rid;
  return null;
}

/** Every requester ID Linux associates with `fnId`, own ID first, outermost alias last. */
export function dmaAliases(fabric: Fabric, fnId: string): RequesterId[] {
  const fn = fabric.fn(fnId);
  const aliases: RequesterId[] = [fn.rid];
  const enumerated = fabric.enumeration.byId.get(fnId);
  for (let parent = enumerated?.parent ?? null; parent !== null; parent = parent.parent) {
    const alias = bridgeAlias(parent);
    if (alias !== null && !aliases.includes(alias)) aliases.push(alias);
  }
  return aliases;
}

/**
 * The requester ID the root complex sees on `fnId`'s upstream requests: the
 * alias of the topmost bridge to conventional PCI above it, else its own ID.
 */
export function arrivingRequesterId(fabric: Fabric, fnId: string): RequesterId {
  const aliases = dmaAliases(fabric, fnId);
  return aliases[aliases.length - 1]!;
}
