/**
 * A machine as firmware assigned it (FabricConfig.assignment = 'firmware'):
 * the importer's path for a real machine. Bus numbers, device numbers, bus
 * ranges, BARs and windows are taken from the configuration as given —
 * firmware does not always number depth-first (Thunderbolt hot-plug ranges),
 * puts uncore devices on extra root buses (7f/ff on Xeons), assigns 32-bit
 * BARs above 4 GiB on arm64 (lspci prints CPU addresses there) and leaves
 * BARs unassigned; a link may carry a multifunction device whose functions
 * are of different kinds (a switch upstream port beside a DMA endpoint), and
 * conventional PCI bridges nest. None of that is refused here. What cannot
 * exist at all still is: two functions with one requester ID, a parent
 * that is not a bridge, a function without a pinned BDF.
 */
import { formatRid, requesterId, type RequesterId } from '../pcie/bdf.ts';
import type { AssignedBar, EnumeratedFunction, Enumeration } from './enumerate.ts';
import { isBridgeKind, TopologyError, type FabricConfig, type FunctionConfig } from './topology.ts';


export function enumerateAsAssigned(config: FabricConfig): Enumeration {
  const byId = new Map<string, EnumeratedFunction>();
  const configs = new Map<string, FunctionConfig>();
  for (const fn of config.functions) {
    if (configs.has(fn.id)) throw new TopologyError('DUPLICATE_ID', `duplicate device id '${fn.id}'`, fn.id, 'id');
    if (fn.bdf === undefined) throw new TopologyError('UNPINNED', `'${fn.id}' has no bdf; a machine taken as firmware assigned it pins every function`, fn.id, 'bdf');
    configs.set(fn.id, fn);
  }
  for (const fn of config.functions) {
    if (fn.parent === undefined) continue;
    const parent = configs.get(fn.parent);
    if (parent === undefined) throw new TopologyError('UNKNOWN_PARENT', `'${fn.id}' names parent '${fn.parent}', which is not a device here`, fn.id, 'parent');
    if (!isBridgeKind(parent.kind)) throw new TopologyError('BAD_PARENT', `'${fn.id}' sits below '${fn.parent}', a ${parent.kind}, which is not a bridge`, fn.id, 'parent');
  }

  const seenRids = new Map<RequesterId, string>();
  const make = (cfg: FunctionConfig, parent: EnumeratedFunction | null): EnumeratedFunction => {
    const { bus, device, fn } = cfg.bdf!;
    const rid = requesterId(bus, device, fn);
    const clash = seenRids.get(rid);
    if (clash !== undefined) throw new TopologyError('DUPLICATE_BDF', `'${cfg.id}' sits at ${formatRid(requesterId(bus, device, fn))}, which '${clash}' already has`, cfg.id, 'bdf');
    seenRids.set(rid, cfg.id);
    const node: EnumeratedFunction = {
      config: cfg,
      parent,
      children: [],
      bus,
      device,
      fn,
      rid,
      buses: null,
      physfn: null,
      virtfns: [],
      bars: firmwareBars(cfg),
      windows: { memory: cfg.windows?.memory ?? null, prefetchable: cfg.windows?.prefetchable ?? null },
    };
    byId.set(cfg.id, node);
    return node;
  };

  const childConfigs = new Map<string | undefined, FunctionConfig[]>();
  for (const fn of config.functions) childConfigs.set(fn.parent, [...(childConfigs.get(fn.parent) ?? []), fn]);
  const order = (a: EnumeratedFunction, b: EnumeratedFunction) => a.bus - b.bus || a.device * 8 + a.fn - (b.device * 8 + b.fn);
  const scanOrder: EnumeratedFunction[] = [];
  // pci_scan_child_bus(): every function of a bus, then each bridge's secondary bus in turn.
  const scan = (members: EnumeratedFunction[]): void => {
    members.sort(order);
    scanOrder.push(...members);
    for (const member of members) {
      if (!isBridgeKind(member.config.kind)) continue;
      const kids = (childConfigs.get(member.config.id) ?? []).map((cfg) => make(cfg, member));
      member.children.push(...kids);
      member.buses = member.config.buses ?? busesFromChildren(member, kids);
      scan(kids);
    }
  };
  const root = (childConfigs.get(undefined) ?? []).map((cfg) => make(cfg, null));
  scan(root);
  const rootBus = Math.min(config.rootBus, ...root.map((f) => f.bus));
  return { domain: config.domain, rootBus, root, byId, scanOrder };
}

/** Memory BARs firmware assigned; an unassigned BAR (no address) does not decode (PCI Local Bus 3.0 §6.2.5.1). */
function firmwareBars(cfg: FunctionConfig): AssignedBar[] {
  const bars: AssignedBar[] = [];
  (cfg.bars ?? []).forEach((bar, index) => {
    if (!Number.isSafeInteger(bar.size) || bar.size < 16 || (bar.size & (bar.size - 1)) !== 0) {
      throw new TopologyError('BAR_SIZE', `BAR ${index} of '${cfg.id}' has size ${bar.size}; a memory BAR is a power of two of at least 16 bytes`, cfg.id, `bars.${index}`);
    }
    if (bar.at === undefined) return;
    bars.push({ index, base: bar.at, size: bar.size, prefetch: bar.prefetch ?? false, bits: bar.bits ?? (bar.prefetch ? 64 : 32) });
  });
  return bars;
}

/** A bridge whose bus range the input did not give: the buses its children sit on (else an empty range). */
function busesFromChildren(bridge: EnumeratedFunction, kids: readonly EnumeratedFunction[]): { secondary: number; subordinate: number } {
  if (kids.length === 0) {
    throw new TopologyError('MISSING_BUSES', `bridge '${bridge.config.id}' has neither a bus range nor devices below it`, bridge.config.id, 'buses');
  }
  const buses = kids.map((k) => k.bus);
  return { secondary: Math.min(...buses), subordinate: Math.max(...buses) };
}
