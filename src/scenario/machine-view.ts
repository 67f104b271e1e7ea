/**
 * A built machine as plain data for pictures (`report --html`, `explain
 * --svg`): the root complex with its IOMMU and interrupt hardware, root
 * ports, switches (upstream port + downstream ports), PCIe-to-PCI bridges,
 * endpoints and multifunction devices, who owns each function, the ACS
 * bits of every function that has the capability, and the IOMMU groups
 * Linux would form under both algorithms. Read from the compiled fabric
 * (buildMachine), never from the YAML, so it shows what was simulated.
 */
import { ACS_FLAGS, Acs, type AcsFlag } from '../pcie/acs.ts';
import type { AcsState } from '../fabric/acs-rules.ts';
import type { EnumeratedFunction } from '../fabric/enumerate.ts';
import type { FunctionKind } from '../fabric/topology.ts';
import { formatAddress } from '../pcie/range.ts';
import { topologyFromEnumeration } from '../policy/pci-topology.ts';
import { classicGroups } from '../policy/groups-classic.ts';
import { perBusGroups } from '../policy/groups-per-bus.ts';
import { parseAcsOverride, type KernelModel } from '../policy/kernel-options.ts';
import type { GroupResult } from '../policy/group-result.ts';
import type { Machine } from './machine.ts';

/**
 * One ACS control as the function has it: `on` enabled; `off` implemented
 * but disabled; `hard-wired` not implemented yet in force (SV, RR, CR, UF:
 * Linux pci_acs_flags_enabled(), PCIe 6.0 §6.12.1.1); `absent` not
 * implemented and not enforced (TB, EC, DT).
 */
export type AcsBit = 'on' | 'off' | 'hard-wired' | 'absent';

export type ViewNodeKind =
  | 'cpus'
  | 'memory'
  | 'root-complex'
  | 'host-bridge'
  | 'interrupts'
  | 'switch'
  | 'device'
  | FunctionKind;

export interface ViewNode {
  /** Function ids for functions; `rc`, `host-bridge`, `interrupts`, `cpus`, `mem:NAME`, `switch:USP`, `device:FIRST-FN` otherwise. */
  readonly id: string;
  readonly kind: ViewNodeKind;
  readonly label: string;
  /** Second line: BDF and what it is, or the setting that matters. */
  readonly sub: string;
  /** Functions: bus:device.function as enumerated. */
  readonly bdf: string | null;
  /** The container this node is drawn in (root complex, switch, multifunction device), else null. */
  readonly parent: string | null;
  readonly owner: string | null;
  /** Per ACS control; null when the function has no ACS capability (or is not a function). */
  readonly acs: Readonly<Record<AcsFlag, AcsBit>> | null;
  /** Whether ACS matters here: downstream ports and multifunction functions (shown "no ACS" when absent). */
  readonly acsRelevant: boolean;
  /** Off: drawn greyed (interrupt remapping off, no IOMMU). */
  readonly disabled: boolean;
}

/** A link of the hierarchy, drawn from the upstream side to the downstream side. */
export interface ViewLink {
  readonly from: string;
  readonly to: string;
}

export interface ViewGroup {
  readonly id: number;
  /** Function ids. */
  readonly members: readonly string[];
}

export interface MachineView {
  readonly nodes: readonly ViewNode[];
  readonly links: readonly ViewLink[];
  readonly groups: { readonly classic: readonly ViewGroup[]; readonly 'per-bus': readonly ViewGroup[] };
  /** The algorithm the scenario's kernel uses (machine.kernel.groups). */
  readonly groupsUsed: 'classic' | 'per-bus';
  /** Principals in first-seen order: memory, then functions (colour order). */
  readonly owners: readonly string[];
}

export function acsBits(acs: AcsState | null): Record<AcsFlag, AcsBit> | null {
  if (acs === null) return null;
  const bits = {} as Record<AcsFlag, AcsBit>;
  for (const flag of ACS_FLAGS) {
    const mask = Acs[flag];
    if ((acs.cap & mask) !== 0) bits[flag] = (acs.ctl & mask) !== 0 ? 'on' : 'off';
    else bits[flag] = acs.on(mask) ? 'hard-wired' : 'absent';
  }
  return bits;
}

const KIND_TEXT: Record<FunctionKind, string> = {
  'root-port': 'root port',
  'switch-upstream': 'upstream port',
  'switch-downstream': 'downstream port',
  'pcie-pci-bridge': 'PCIe-to-PCI bridge',
  'pci-bridge': 'PCI-to-PCI bridge',
  'pci-device': 'PCI device',
  endpoint: 'endpoint',
  rciep: 'RCiEP',
};

export function machineView(machine: Machine): MachineView {
  const spec = machine.spec;
  const m = spec.machine;
  const fabric = machine.fabric;
  const nodes: ViewNode[] = [];
  const links: ViewLink[] = [];
  const owners: string[] = [];
  const addOwner = (o: string | null) => o !== null && !owners.includes(o) && owners.push(o);
  const plain = { acs: null, acsRelevant: false, disabled: false, owner: null, bdf: null } as const;

  const iommu = m.iommu;
  const cpusSub = m.msiController === 'x86' ? 'LAPICs' : m.msiController === 'gicv2m' ? 'GIC, SPIs' : 'GIC, LPIs';
  nodes.push({ ...plain, id: 'cpus', kind: 'cpus', label: `CPUs 0–${m.cpus - 1}`, sub: cpusSub, parent: null });
  for (const region of m.memory) {
    addOwner(region.owner);
    nodes.push({ ...plain, id: `mem:${region.name}`, kind: 'memory', label: region.name, sub: `${sizeText(region.size)} at ${formatAddress(region.base)} · ${region.owner}`, parent: null, owner: region.owner });
    links.push({ from: `mem:${region.name}`, to: 'host-bridge' });
  }
  nodes.push({ ...plain, id: 'rc', kind: 'root-complex', label: 'root complex', sub: '', parent: null });
  const translating = iommu.model !== 'none' && iommu.dmaRemapping;
  nodes.push({
    ...plain,
    id: 'host-bridge',
    kind: 'host-bridge',
    label: iommu.model === 'none' ? 'host bridge · no IOMMU' : `host bridge · IOMMU (${iommu.model})`,
    sub: iommu.model === 'none' ? 'bus address = physical address' : `DMA remapping ${translating ? 'on' : 'off'}${translating ? ` · ${iommu.invalidation} invalidation` : ''}`,
    parent: 'rc',
    disabled: !translating,
  });
  nodes.push({ ...plain, ...interruptNode(machine), id: 'interrupts', kind: 'interrupts', parent: 'rc' });
  links.push({ from: 'cpus', to: 'interrupts' });
  links.push({ from: 'host-bridge', to: 'interrupts' });

  const owner = new Map(m.functions.map((f) => [f.id, f]));
  const scan = fabric.enumeration.scanOrder;
  const slotKey = (e: EnumeratedFunction) => `${e.parent?.config.id ?? ''}/${e.bus}/${e.device}`;
  const slots = new Map<string, EnumeratedFunction[]>();
  for (const e of scan) slots.set(slotKey(e), [...(slots.get(slotKey(e)) ?? []), e]);
  for (const e of scan) {
    const fn = fabric.fn(e.config.id);
    const kind = e.config.kind;
    const slot = slots.get(slotKey(e))!;
    const multifunction = slot.length > 1 && !isPort(kind);
    if (multifunction && slot[0] === e) {
      const device = `device:${e.config.id}`;
      nodes.push({ ...plain, id: device, kind: 'device', label: `multifunction device ${fn.bdf.slice(0, -2)}`, sub: '', parent: containerOf(e) });
      linkFromParent(e, device);
    }
    const fnOwner = owner.get(fn.id)?.owner ?? 'host';
    if (!isBridgeOrPort(kind)) addOwner(fnOwner);
    let parent: string | null = multifunction ? `device:${slot[0]!.config.id}` : containerOf(e);
    if (kind === 'switch-upstream') {
      const sw = `switch:${fn.id}`;
      nodes.push({ ...plain, id: sw, kind: 'switch', label: 'switch', sub: '', parent: containerOf(e) });
      parent = sw;
    }
    const driver = owner.get(fn.id)?.driver;
    const role = kind === 'endpoint' || kind === 'pci-device' || kind === 'rciep' ? `${KIND_TEXT[kind]} · ${fnOwner}${driver && fnOwner === 'host' ? ` (${driver})` : ''}` : KIND_TEXT[kind];
    nodes.push({
      id: fn.id,
      kind,
      label: fn.id,
      sub: `${fn.bdf} · ${role}`,
      bdf: fn.bdf,
      parent,
      owner: isBridgeOrPort(kind) ? null : fnOwner,
      acs: acsBits(fn.acs),
      acsRelevant: kind === 'root-port' || kind === 'switch-downstream' || multifunction,
      disabled: false,
    });
    if (!multifunction) linkFromParent(e, fn.id);
  }

  function containerOf(e: EnumeratedFunction): string | null {
    if (e.parent === null) return 'rc';
    if (e.config.kind === 'switch-downstream') return `switch:${e.parent.config.id}`;
    return null;
  }
  function linkFromParent(e: EnumeratedFunction, id: string): void {
    if (e.config.kind === 'switch-downstream') links.push({ from: e.parent!.config.id, to: id });
    else if (e.parent === null) links.push({ from: 'host-bridge', to: id });
    else links.push({ from: e.parent.config.id, to: id });
  }

  const kernel: KernelModel = m.kernel.acsOverride.length > 0 ? { acsOverride: parseAcsOverride(m.kernel.acsOverride.join(',')) } : {};
  const topology = topologyFromEnumeration(fabric.enumeration);
  const idOf = new Map(topology.functions.map((f) => [f.key, f.label]));
  const asView = (result: GroupResult): ViewGroup[] => result.groups.map((g) => ({ id: g.id, members: g.devices.map((key) => idOf.get(key) ?? key) }));
  return {
    nodes,
    links,
    groups: { classic: asView(classicGroups(topology, kernel)), 'per-bus': asView(perBusGroups(topology, kernel)) },
    groupsUsed: m.kernel.groups,
    owners,
  };
}

function isPort(kind: FunctionKind): boolean {
  return kind === 'root-port' || kind === 'switch-upstream' || kind === 'switch-downstream';
}

function isBridgeOrPort(kind: FunctionKind): boolean {
  return isPort(kind) || kind === 'pcie-pci-bridge';
}

/** The interrupt hardware at the root complex and the setting a teacher points at. */
function interruptNode(machine: Machine): { label: string; sub: string; disabled: boolean } {
  const m = machine.spec.machine;
  const i = m.iommu;
  if (m.msiController === 'gicv2m') return { label: 'GICv2m MSI frame', sub: `doorbell ${m.msiDoorbell?.beforeIommu ? 'before' : 'behind'} the SMMU · no device identity`, disabled: false };
  if (m.msiController === 'gicv3-its') return { label: 'GICv3 ITS', sub: `DeviceID + EventID · doorbell ${m.msiDoorbell?.beforeIommu ? 'before' : 'behind'} the SMMU`, disabled: false };
  if (i.model === 'none') return { label: 'MSI window 0xFEEx_xxxx', sub: 'no interrupt remapping', disabled: true };
  if (!i.interruptRemapping) return { label: 'interrupt remapping: off', sub: 'MSI writes go straight to the LAPICs', disabled: true };
  const sid = i.sourceIdValidation ? 'source-ID check on' : 'source-ID check off (nosid)';
  const compat = i.model === 'vtd' ? ` · compat format ${i.compatFormat}${i.x2apic ? ' · x2APIC' : ''}` : '';
  return { label: `interrupt remapping (${i.model})`, sub: `${sid}${compat}`, disabled: false };
}

/** 2G, 64K, 3K, 100 B: sizes as scenario files write them. */
export function sizeText(bytes: number): string {
  for (const [unit, size] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes} B`;
}
