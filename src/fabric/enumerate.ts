/**
 * Enumeration as firmware does it: a depth-first scan assigns device
 * numbers on each bus and, to each bridge in (device, function) order,
 * secondary = next free bus and subordinate = the last bus found below it
 * (PCI Firmware Spec 3.3 §5; Linux pci_scan_bridge_extend). Pinned BDFs and
 * bus ranges (an imported machine) are honoured and checked, not re-derived.
 */
import { requesterId, type RequesterId } from '../pcie/bdf.ts';
import type { AddressRange } from '../pcie/range.ts';
import { enumerateAsAssigned } from './as-assigned.ts';
import { assignResources } from './resources.ts';
import {
  isBridgeKind,
  isPciBusBridgeKind,
  TopologyError,
  type BusRange,
  type FabricConfig,
  type FunctionConfig,
  type FunctionKind,
} from './topology.ts';

export interface AssignedBar {
  readonly index: number;
  readonly base: number;
  readonly size: number;
  readonly prefetch: boolean;
  readonly bits: 32 | 64;
}

export interface EnumeratedFunction {
  readonly config: FunctionConfig;
  readonly parent: EnumeratedFunction | null;
  /** Functions on this bridge's secondary bus, in scan order. */
  readonly children: EnumeratedFunction[];
  /** A Virtual Function's Physical Function; null otherwise. */
  readonly physfn: EnumeratedFunction | null;
  /** A Physical Function's enabled Virtual Functions, VF 0 first. */
  readonly virtfns: EnumeratedFunction[];
  bus: number;
  device: number;
  fn: number;
  rid: RequesterId;
  /** Bridges only. */
  buses: BusRange | null;
  bars: AssignedBar[];
  windows: { memory: AddressRange | null; prefetchable: AddressRange | null };
}

export interface Enumeration {
  readonly domain: number;
  readonly rootBus: number;
  /** Functions on the root bus, in scan order. */
  readonly root: EnumeratedFunction[];
  readonly byId: ReadonlyMap<string, EnumeratedFunction>;
  /** Every function in depth-first scan order. */
  readonly scanOrder: readonly EnumeratedFunction[];
}

/** Which parent kinds each kind may sit below (undefined = the root bus). */
const ALLOWED_PARENTS: Record<FunctionKind, readonly (FunctionKind | undefined)[]> = {
  'root-port': [undefined],
  rciep: [undefined],
  'switch-upstream': ['root-port', 'switch-downstream'],
  'switch-downstream': ['switch-upstream'],
  'pcie-pci-bridge': ['root-port', 'switch-downstream'],
  'pci-bridge': ['pcie-pci-bridge', 'pci-bridge'],
  'pci-device': ['pcie-pci-bridge', 'pci-bridge'],
  endpoint: ['root-port', 'switch-downstream'],
};

export function enumerate(config: FabricConfig): Enumeration {
  if (config.assignment === 'firmware') return enumerateAsAssigned(config);
  const childConfigs = new Map<string | undefined, FunctionConfig[]>();
  const ids = new Set<string>();
  for (const fn of config.functions) {
    if (ids.has(fn.id)) throw new TopologyError('DUPLICATE_ID', `duplicate device id '${fn.id}'`, fn.id, 'id');
    ids.add(fn.id);
    const list = childConfigs.get(fn.parent) ?? [];
    list.push(fn);
    childConfigs.set(fn.parent, list);
  }
  checkParents(config.functions, childConfigs);

  const byId = new Map<string, EnumeratedFunction>();
  const scanOrder: EnumeratedFunction[] = [];
  let lastBus = config.rootBus;
  const seenRids = new Map<RequesterId, string>();

  const make = (cfg: FunctionConfig, parent: EnumeratedFunction | null, physfn: EnumeratedFunction | null = null): EnumeratedFunction => {
    const node: EnumeratedFunction = {
      config: cfg,
      parent,
      children: [],
      physfn,
      virtfns: [],
      bus: 0,
      device: 0,
      fn: 0,
      rid: 0,
      buses: null,
      bars: [],
      windows: { memory: null, prefetchable: null },
    };
    if (byId.has(cfg.id)) throw new TopologyError('DUPLICATE_ID', `duplicate device id '${cfg.id}' (a VF of '${physfn?.config.id}')`, physfn?.config.id ?? cfg.id, 'sriov');
    byId.set(cfg.id, node);
    return node;
  };

  const claim = (fn: EnumeratedFunction, culprit: string): void => {
    const clash = seenRids.get(fn.rid);
    if (clash !== undefined) {
      throw new TopologyError(
        'DUPLICATE_BDF',
        `duplicate BDF ${bdfText(fn)}: '${fn.config.id}' and '${clash}' both sit there; one bus:device.function names one function (${culprit === fn.config.id ? 'pin another bdf:' : 'choose another First VF Offset or VF Stride'})`,
        culprit,
        culprit === fn.config.id ? 'bdf' : 'sriov',
      );
    }
    seenRids.set(fn.rid, fn.config.id);
  };

  const scanBus = (bus: number, kids: EnumeratedFunction[], busKind: BusKind): void => {
    assignDevfns(bus, kids, busKind);
    kids.sort((a, b) => a.device * 8 + a.fn - (b.device * 8 + b.fn));
    for (const kid of kids) {
      kid.rid = requesterId(kid.bus, kid.device, kid.fn);
      claim(kid, kid.config.id);
    }
    // VFs take their Routing IDs, and the bus numbers they spill onto, before the bridges on this
    // bus number theirs (Linux pci_scan_child_bus_extend: max += pci_iov_bus_range(bus)).
    for (const kid of kids) {
      if (kid.config.sriov === undefined) continue;
      for (const vf of virtualFunctions(kid, busKind, make)) {
        claim(vf, kid.config.id);
        lastBus = Math.max(lastBus, vf.bus);
      }
    }
    for (const kid of kids) {
      scanOrder.push(kid, ...kid.virtfns);
      if (isBridgeKind(kid.config.kind)) scanBridge(kid);
    }
  };

  const scanBridge = (bridge: EnumeratedFunction): void => {
    const kids = (childConfigs.get(bridge.config.id) ?? []).map((cfg) => make(cfg, bridge));
    bridge.children.push(...kids);
    const pinned = bridge.config.buses;
    const secondary = pinned?.secondary ?? pinnedChildBus(kids) ?? lastBus + 1;
    if (secondary <= lastBus || secondary <= bridge.bus) {
      throw new TopologyError(
        'IMPOSSIBLE_BUS',
        `impossible bus number ${hex2(secondary)} below '${bridge.config.id}': buses up to ${hex2(lastBus)} are already taken in depth-first order`,
        pinned ? bridge.config.id : (kids.find((k) => k.config.bdf)?.config.id ?? bridge.config.id),
        pinned ? 'buses' : 'bdf',
      );
    }
    if (secondary > 0xff) {
      throw new TopologyError('BUS_EXHAUSTED', `no bus number left for the bus below '${bridge.config.id}' (255 is the last)`, bridge.config.id);
    }
    lastBus = secondary;
    for (const kid of kids) {
      if (kid.config.bdf && kid.config.bdf.bus !== secondary) {
        throw new TopologyError(
          'IMPOSSIBLE_BUS',
          `'${kid.config.id}' is pinned to bus ${hex2(kid.config.bdf.bus)} but its parent '${bridge.config.id}' has secondary bus ${hex2(secondary)}`,
          kid.config.id,
          'bdf',
        );
      }
    }
    scanBus(secondary, kids, busKindBelow(bridge.config.kind));
    const subordinate = pinned?.subordinate ?? lastBus;
    if (subordinate < lastBus || subordinate > 0xff) {
      throw new TopologyError(
        'IMPOSSIBLE_BUS',
        `'${bridge.config.id}' has subordinate bus ${hex2(subordinate)} but buses up to ${hex2(lastBus)} lie below it`,
        bridge.config.id,
        'buses',
      );
    }
    lastBus = subordinate;
    bridge.buses = { secondary, subordinate };
  };

  const root = (childConfigs.get(undefined) ?? []).map((cfg) => make(cfg, null));
  for (const fn of root) {
    if (fn.config.bdf && fn.config.bdf.bus !== config.rootBus) {
      throw new TopologyError('IMPOSSIBLE_BUS', `'${fn.config.id}' sits on the root bus ${hex2(config.rootBus)}, not bus ${hex2(fn.config.bdf.bus)}`, fn.config.id, 'bdf');
    }
  }
  scanBus(config.rootBus, root, 'root');

  const enumeration: Enumeration = { domain: config.domain, rootBus: config.rootBus, root, byId, scanOrder };
  assignResources(enumeration, config);
  return enumeration;
}

type BusKind = 'root' | 'link' | 'switch' | 'pci';

/**
 * A PF's Virtual Functions (SR-IOV 1.1 §2.1.2 and §3.3.10–11; Linux
 * pci_iov_virtfn_bus/devfn): VF n's Routing ID is the PF's plus First VF
 * Offset plus n × VF Stride, spilling onto higher bus numbers. Each VF is a
 * function of the PF's device, with its identity (VF Device ID), ACS and
 * silicon; its BARs are slices of the PF's VF BARs (placed by resources.ts).
 */
function virtualFunctions(
  pf: EnumeratedFunction,
  busKind: BusKind,
  make: (cfg: FunctionConfig, parent: EnumeratedFunction | null, physfn: EnumeratedFunction) => EnumeratedFunction,
): EnumeratedFunction[] {
  const sriov = pf.config.sriov!;
  if (sriov.vfs.length > 0 && (sriov.offset < 1 || (sriov.vfs.length > 1 && sriov.stride < 1))) {
    throw new TopologyError('BAD_SRIOV', `'${pf.config.id}': First VF Offset and VF Stride must be at least 1 (SR-IOV 1.1 §3.3.10-11), got ${sriov.offset} and ${sriov.stride}`, pf.config.id, 'sriov');
  }
  const pfRouting = pf.rid;
  sriov.vfs.forEach((id, n) => {
    const routing = pfRouting + sriov.offset + n * sriov.stride;
    if (routing > 0xffff) throw new TopologyError('BUS_EXHAUSTED', `VF ${n} of '${pf.config.id}' would need a Routing ID beyond bus ff`, pf.config.id, 'sriov');
    const { sriov: _pf, bdf: _bdf, package: _package, ...inherited } = pf.config;
    const config: FunctionConfig = {
      ...inherited,
      id,
      bars: sriov.vfBars.map((bar) => ({ size: bar.size, ...(bar.prefetch === undefined ? {} : { prefetch: bar.prefetch }), ...(bar.bits === undefined ? {} : { bits: bar.bits }) })),
      ...(sriov.vfIds === undefined ? {} : { ids: sriov.vfIds }),
    };
    const vf = make(config, pf.parent, pf);
    vf.bus = routing >>> 8;
    vf.device = (routing >>> 3) & 0x1f;
    vf.fn = routing & 7;
    vf.rid = routing;
    // Below a PCIe port only device 0 answers Type 0 configuration unless ARI forwarding is on (PCIe 6.3 §6.13).
    if (!sriov.ari && busKind === 'link' && vf.device !== 0) {
      throw new TopologyError(
        'VF_NEEDS_ARI',
        `VF ${n} of '${pf.config.id}' lands at ${bdfText(vf)}: below a PCIe port a device without ARI has only device 0 (PCIe 6.3 §6.13); set sriov.ari on, or an offset and stride that keep VFs at device 0`,
        pf.config.id,
        'sriov',
      );
    }
    pf.virtfns.push(vf);
  });
  return pf.virtfns;
}

function busKindBelow(kind: FunctionKind): BusKind {
  if (kind === 'switch-upstream') return 'switch';
  if (isPciBusBridgeKind(kind)) return 'pci';
  return 'link';
}

function checkParents(functions: readonly FunctionConfig[], childConfigs: Map<string | undefined, FunctionConfig[]>): void {
  const kinds = new Map(functions.map((f) => [f.id, f.kind]));
  for (const fn of functions) {
    if (fn.parent !== undefined && !kinds.has(fn.parent)) {
      throw new TopologyError('UNKNOWN_PARENT', `'${fn.id}' names parent '${fn.parent}', which is not a device here`, fn.id, 'parent');
    }
    const parentKind = fn.parent === undefined ? undefined : kinds.get(fn.parent);
    if (!ALLOWED_PARENTS[fn.kind].includes(parentKind)) {
      const allowed = ALLOWED_PARENTS[fn.kind].map((k) => k ?? 'the root complex').join(' or ');
      const where = parentKind === undefined ? 'on the root bus' : `below a ${parentKind}`;
      throw new TopologyError('BAD_PARENT', `a ${fn.kind} cannot sit ${where}; its parent must be ${allowed}`, fn.id, 'parent');
    }
  }
  // A PCIe link carries one device: a switch, a bridge, or one (multifunction) endpoint.
  for (const [parent, kids] of childConfigs) {
    if (parent === undefined || kids.length < 2) continue;
    const lone = kids.find((k) => k.kind === 'switch-upstream' || k.kind === 'pcie-pci-bridge');
    if (lone) {
      const other = kids.find((k) => k !== lone)!;
      throw new TopologyError(
        'LINK_SHARED',
        `'${lone.id}' and '${other.id}' are both below '${parent}', but a PCIe link carries one device`,
        other.id,
        'parent',
      );
    }
  }
}

function pinnedChildBus(kids: EnumeratedFunction[]): number | undefined {
  return kids.find((k) => k.config.bdf)?.config.bdf?.bus;
}

/**
 * Device and function numbers on one bus. Functions sharing a package get
 * one device number; endpoint functions on a PCIe link share device 0. Free
 * device numbers are handed out in list order, from 1 on the root bus
 * (00:00.0 is the host bridge) and from 0 elsewhere.
 */
function assignDevfns(bus: number, kids: EnumeratedFunction[], busKind: BusKind): void {
  const packages = new Map<string, EnumeratedFunction[]>();
  for (const kid of kids) {
    const key = busKind === 'link' ? 'link' : (kid.config.package ?? `#${kid.config.id}`);
    const list = packages.get(key) ?? [];
    list.push(kid);
    packages.set(key, list);
  }
  const usedDevices = new Set<number>();
  for (const kid of kids) if (kid.config.bdf) usedDevices.add(kid.config.bdf.device);
  let nextDevice = busKind === 'root' ? 1 : 0;
  for (const members of packages.values()) {
    const pinned = members.find((m) => m.config.bdf)?.config.bdf?.device;
    let device = pinned;
    if (device === undefined) {
      while (usedDevices.has(nextDevice)) nextDevice++;
      if (nextDevice > 31) throw new TopologyError('DEVICE_EXHAUSTED', `no device number left on bus ${hex2(bus)}`, members[0]!.config.id);
      device = nextDevice;
      usedDevices.add(device);
    }
    const usedFns = new Set<number>();
    for (const m of members) if (m.config.bdf) usedFns.add(m.config.bdf.fn);
    let nextFn = 0;
    for (const m of members) {
      m.bus = bus;
      if (m.config.bdf) {
        m.device = m.config.bdf.device;
        m.fn = m.config.bdf.fn;
        continue;
      }
      while (usedFns.has(nextFn)) nextFn++;
      if (nextFn > 7) {
        throw new TopologyError('FUNCTION_EXHAUSTED', `'${m.config.id}' would be a ninth function of device ${hex2(device)} on bus ${hex2(bus)}`, m.config.id);
      }
      m.device = device;
      m.fn = nextFn;
      usedFns.add(nextFn);
    }
  }
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const bdfText = (f: EnumeratedFunction) => `${hex2(f.bus)}:${hex2(f.device)}.${f.fn}`;
