/**
 * The configuration space `harden` searches: every change to a scenario
 * document that could close a breach, each with what it costs. ACS
 * controls on the ports above the attacker's devices (and the attacker's
 * own function ACS inside a multifunction device), IOMMU and interrupt
 * remapping settings, invalidation policy, ATS (device TLB) per domain,
 * translation of identity domains, bounce buffers for sub-page grants,
 * kernel options, and — last resort — not giving the attacker a device.
 * Only changes that differ from the configuration are offered.
 */
import { produce, type Draft } from 'immer';
import { Acs } from '../../pcie/acs.ts';
import type { FunctionConfig } from '../../fabric/topology.ts';
import type { ScenarioSpec } from '../../scenario/model.ts';
import { attackerFunctions, PAGE } from '../surface.ts';
import { dropSteps } from '../repro.ts';
import { axisChanges, hostChanges } from './host-changes.ts';

/** Cost classes, cheapest first: a setting, a kernel option, firmware, new hardware, giving up a device. */
export const COST_CLASSES = ['config', 'kernel', 'firmware', 'hardware', 'ownership'] as const;
export type CostClass = (typeof COST_CLASSES)[number];

export interface Change {
  /** Stable key, e.g. "acs:sw-dp0:RR". */
  readonly id: string;
  /** "RR on sw-dp0". */
  readonly label: string;
  /** What it costs, in a sentence. */
  readonly cost: string;
  readonly costClass: CostClass;
  /** The document field it sets (a variant-axis path), and the value it sets there. */
  readonly path: string;
  readonly value: unknown;
  apply(document: Record<string, unknown>): Record<string, unknown>;
}

type Doc = Record<string, unknown>;
type Entry = Record<string, unknown>;

type Flag = keyof typeof Acs;

/** What each ACS control costs (PCIe 6.0 §6.12.1.1), and why one would pay it. */
const ACS_COSTS: Record<'SV' | 'TB' | 'RR' | 'CR' | 'UF', (port: string, below: string) => string> = {
  SV: (port) => `requests coming up ${port} with a requester bus outside its secondary..subordinate range are blocked: no cost to devices that use their own ID`,
  TB: (port, below) => `AT=translated and translation requests from below ${port} are blocked: ${below} can no longer use ATS`,
  RR: (port, below) => `${below}'s peer-to-peer requests go up through ${port} to the root complex and the IOMMU: P2P DMA needs IOMMU mappings and takes the long way`,
  CR: (port, below) => `peer-to-peer read completions from below ${port} are redirected upstream: reads between ${below} and its peers take the long way`,
  UF: (port) => `requests redirected to ${port} go on upstream instead of back down: what RR sends up reaches the IOMMU`,
};

export function changesFor(spec: ScenarioSpec, document?: Record<string, unknown>, assignment: Readonly<Record<string, unknown>> = {}): Change[] {
  const changes: Change[] = [];
  const fabric = spec.machine.fabric.functions;
  const byId = new Map(fabric.map((f) => [f.id, f]));
  const mine = new Set(attackerFunctions(spec));
  const attacker = spec.machine.functions.filter((f) => mine.has(f.id));
  const seen = new Set<string>();

  // An SR-IOV VF is not in the configuration: it sits on its PF's link, under the PF's ACS (issue 14's model).
  const pfOf = new Map(fabric.flatMap((f) => (f.sriov?.vfs ?? []).map((vf) => [vf, f] as const)));
  for (const a of attacker) {
    const below = a.id;
    const own = byId.get(a.id) ?? pfOf.get(a.id);
    if (own === undefined) continue;
    // Function ACS inside a multifunction device: RR and CR keep siblings' P2P off the internal path.
    if (a.device !== a.id || pfOf.has(a.id)) for (const flag of ['RR', 'CR'] as const) acsChange(changes, seen, own, flag, below, `${own.id}'s ACS inside ${a.device}`);
    for (let up = parentOf(byId, own.id); up !== undefined; up = parentOf(byId, up.id)) {
      if (up.kind !== 'root-port' && up.kind !== 'switch-downstream') continue;
      for (const flag of ['SV', 'TB', 'RR', 'CR', 'UF'] as const) acsChange(changes, seen, up, flag, below, up.id);
    }
  }

  const iommu = spec.machine.iommu;
  const set = (id: string, label: string, cost: string, costClass: CostClass, path: string, value: unknown) =>
    changes.push({ id, label, cost, costClass, path, value, apply: (doc) => produce(doc, (d) => void setPath(d, path.split('.'), value)) });
  if (iommu.model === 'none') set('iommu:on', 'turn the IOMMU on (VT-d)', 'intel_iommu=on with VT-d enabled in firmware: every device DMAs through its domain and needs mappings', 'firmware', 'machine.iommu.model', 'vtd');
  else {
    if (!iommu.dmaRemapping) set('iommu:dma', 'DMA remapping on', 'DMA is translated per device: IOTLB misses add latency, drivers must map their buffers', 'kernel', 'machine.iommu.dma-remapping', 'on');
    if (spec.machine.msiController === 'x86') {
      if (!iommu.interruptRemapping) set('ir:on', 'interrupt remapping on', 'every MSI is looked up in the interrupt-remapping table (hardware support and intremap=on)', 'firmware', 'machine.iommu.interrupt-remapping', 'on');
      if (!iommu.sourceIdValidation) set('ir:sid', 'source-ID validation on (drop intremap=nosid)', 'IRTEs check the requester ID: devices that send MSIs under another ID need a quirk', 'kernel', 'machine.iommu.source-id-validation', 'on');
      if (iommu.compatFormat === 'allowed') set('ir:cfi', 'block compatibility-format MSIs (CFI clear)', 'Linux\'s default with remapping: devices must use remappable MSIs', 'kernel', 'machine.iommu.compat-format', 'blocked');
      if (!iommu.x2apic && iommu.interruptRemapping) set('ir:x2apic', 'x2APIC mode (EIME)', 'compatibility-format MSIs are blocked whatever CFI says; needs x2APIC-capable CPUs and firmware', 'firmware', 'machine.iommu.x2apic', 'on');
    }
    if (iommu.invalidation === 'deferred') set('iommu:strict', 'strict invalidation (iommu.strict=1)', 'every unmap waits for its IOTLB invalidation: a throughput cost for busy DMA (NICs, NVMe)', 'kernel', 'machine.iommu.invalidation', 'strict');
  }

  for (const d of spec.domains) {
    const mine = d.devices.some((id) => attacker.some((a) => a.id === id));
    const path = `domains.${d.name}`;
    if (mine && d.deviceTlb) set(`ats:${d.name}`, `ATS off for ${d.devices.join(', ')}`, `the context no longer lets ${d.devices.join(', ')} use a device TLB (pci=noats, or Linux's untrusted-device rule): translated requests fault`, 'kernel', `${path}.device-tlb`, 'denied');
    if (d.mode === 'identity' && spec.machine.iommu.model !== 'none') {
      const map = mine ? spec.machine.memory.filter((m) => m.owner === spec.attacker).map((m) => ({ iova: m.base, to: m.name, size: m.size, perm: 'rw' })) : [];
      changes.push({
        id: `translate:${d.name}`,
        label: `translate domain ${d.name} (no identity mapping)`,
        cost: mine ? `${d.devices.join(', ')} reach only ${spec.attacker}'s memory, mapped 1:1 (iommu.passthrough=0 / a VFIO domain)` : `${d.devices.join(', ')} DMA through a translated domain (iommu.passthrough=0): the driver maps each buffer, IOTLB misses add latency`,
        costClass: 'kernel',
        path: `${path}.mode`,
        value: 'paging',
        apply: (doc) => produce(doc, (draft) => {
          const entry = (draft.domains as Record<string, Entry>)[d.name]!;
          entry.mode = 'paging';
          entry.map = map as never;
        }),
      });
    }
    if (mine && d.map.some((m) => m.iova % PAGE !== 0 || m.size % PAGE !== 0)) bounceChange(changes, spec, d.name);
  }

  // Hand-written IRTEs that ignore requester-ID bits (SQ ≠ 00): Linux writes SQ=00 (VT-d 5.10 §9.10).
  spec.machine.irtes.forEach((e, i) => {
    if (e.owner === spec.attacker || e.svt !== 1 || (e.sq ?? 0) === 0) return;
    set(`irte:${e.index}:sq`, `IRTE ${e.index} checks the whole requester ID (SQ=00)`, `IRTE ${e.index} compares all 16 bits of the source ID, as Linux programs it: phantom functions sending under sibling IDs need a quirk`, 'kernel', `machine.irtes.${i}.sq`, 0);
  });
  moveChanges(changes, spec);

  const kernel = spec.machine.kernel;
  if (kernel.acsOverride.length > 0) set('kernel:acs-override', 'drop pcie_acs_override', 'IOMMU groups follow the real ACS again: devices that only the override split share a group', 'kernel', 'machine.kernel.acs-override', []);
  if (kernel.unsafeInterrupts) set('kernel:unsafe-interrupts', 'allow_unsafe_interrupts off', 'VFIO refuses devices whose MSIs are not isolated', 'kernel', 'machine.kernel.unsafe-interrupts', 'off');
  if (spec.via === 'vfio') {
    if (kernel.vfioViability === 'bypassed') set('kernel:viability', 'enforce VFIO group viability', 'VFIO refuses a group unless every member is the user\'s or unbound', 'kernel', 'machine.kernel.vfio-viability', 'enforced');
    if (kernel.groups === 'classic') set('kernel:per-bus', 'per-bus IOMMU groups', 'groups follow every downstream port of a switch bus: larger groups, fewer devices assignable alone', 'kernel', 'machine.kernel.groups', 'per-bus');
  }

  ownershipChanges(changes, spec, attacker.map((a) => a.id));
  changes.push(...hostChanges(spec, attacker.map((a) => a.id)));
  // The scenario's own axes, unless an explicit change already sets that field to that value.
  const known = new Set(changes.map((c) => `${c.path}=${JSON.stringify(c.value)}`));
  if (document === undefined) return changes;
  for (const c of axisChanges(document, assignment)) if (!known.has(`${c.path}=${JSON.stringify(c.value)}`)) changes.push(c);
  // A change the document cannot express (an SR-IOV VF has no entry of its own to re-own) does nothing: left out.
  const before = JSON.stringify(document);
  return changes.filter((c) => JSON.stringify(c.apply(document)) !== before);
}

/**
 * Another slot: an attacker's device moved to a port or PCIe-to-PCI bridge
 * with nothing below it — out of a conventional bus (one requester-ID alias
 * for all its devices, PCIe 6.0 §2.2.6.2) or a switch it shares.
 */
function moveChanges(changes: Change[], spec: ScenarioSpec): void {
  const fabric = spec.machine.fabric.functions;
  const parents = new Set(fabric.flatMap((f) => (f.parent === undefined ? [] : [f.parent])));
  const empty = fabric.filter((f) => (f.kind === 'root-port' || f.kind === 'switch-downstream' || f.kind === 'pcie-pci-bridge') && !parents.has(f.id)).slice(0, 4);
  const devices = new Set(spec.machine.functions.filter((f) => f.owner === spec.attacker).map((f) => f.device));
  for (const device of devices) {
    const here = fabric.find((f) => f.id === device || f.package === device);
    if (here?.parent === undefined) continue;
    const neighbours = spec.machine.functions.filter((f) => fabric.find((x) => x.id === f.id)?.parent === here.parent && f.owner !== spec.attacker);
    if (neighbours.length === 0) continue;
    for (const slot of empty) {
      changes.push({
        id: `move:${device}:${slot.id}`,
        label: `move ${device} below ${slot.id}`,
        cost: `${device} goes into another slot (below ${slot.id}), away from ${neighbours.map((n) => n.id).join(', ')}: a change of hardware layout`,
        costClass: 'hardware',
        path: `machine.devices.${device}.parent`,
        value: slot.id,
        apply: (doc) => produce(doc, (draft) => {
          const entry = ((draft.machine as { devices: Entry[] }).devices).find((d) => d.id === device)!;
          entry.parent = slot.id;
          delete entry.bdf;
        }),
      });
    }
  }
}

/**
 * Who may own what (DESIGN.md §2: VFIO hands out whole groups, and the
 * finest unit the fabric keeps apart is the function): one owner for the
 * functions of a device the attacker shares with others; the host's
 * registers out of a BAR the attacker holds (a function of their own, as
 * the hisi_acc migration layout does); and, when the attacker holds other
 * devices, not giving it this one.
 */
function ownershipChanges(changes: Change[], spec: ScenarioSpec, mine: readonly string[]): void {
  const functions = spec.machine.functions;
  for (const device of new Set(functions.filter((f) => mine.includes(f.id)).map((f) => f.device))) {
    const others = functions.filter((f) => f.device === device && !mine.includes(f.id));
    if (others.length === 0) continue;
    changes.push({
      id: `share:${device}`,
      label: `one owner for ${device}: give ${others.map((f) => f.id).join(', ')} to ${spec.attacker}`,
      cost: `${[...new Set(others.map((f) => f.owner))].join(', ')} lose${others.length === 1 ? 's' : ''} ${others.map((f) => f.id).join(', ')}: a device's functions reach each other's IDs and BARs, so they go to one owner`,
      costClass: 'ownership',
      path: `machine.devices.${device}.functions`,
      value: spec.attacker,
      apply: (doc) => produce(doc, (draft) => {
        for (const f of others) {
          const entry = findEntry(draft, f.id);
          if (entry === undefined) continue;
          entry.owner = spec.attacker;
          delete entry.driver;
        }
      }),
    });
  }
  for (const f of functions.filter((x) => mine.includes(x.id))) {
    for (const r of f.barRegions.filter((x) => x.owner !== spec.attacker)) {
      changes.push({
        id: `region:${f.id}:${r.name}`,
        label: `${r.name} out of ${f.id}'s BAR ${r.bar}`,
        cost: `the ${r.owner}'s ${r.name} move to a function of their own (as a device with a separate migration function): new hardware or firmware layout`,
        costClass: 'hardware',
        path: `machine.devices.${f.id}.bars.${r.bar}.regions`,
        value: null,
        apply: (doc) => produce(doc, (draft) => {
          const bars = findEntry(draft, f.id)?.bars as unknown[] | undefined;
          if (bars === undefined) return;
          const bar = bars[r.bar] as { regions?: { name?: string }[] };
          // Unnamed regions are named by normalize-machine.ts as DEVICE.barN+OFFSET.
          bar.regions = (bar.regions ?? []).filter((x) => x.name !== r.name && `${f.id}.bar${r.bar}+${r.offset.toString(16)}` !== r.name);
          if (bar.regions.length === 0) delete bar.regions;
        }),
      });
    }
  }
  if (mine.length < 2) return;
  for (const id of mine) {
    changes.push({
      id: `release:${id}`,
      label: `do not give ${id} to ${spec.attacker}`,
      cost: `${spec.attacker} loses ${id}: the host keeps it`,
      costClass: 'ownership',
      path: `machine.devices.${id}.owner`,
      value: 'host',
      apply: (doc) => produce(doc, (draft) => {
        const entry = findEntry(draft, id);
        if (entry === undefined) return;
        entry.owner = 'host';
        delete entry.driver;
        // Its steps are no longer the attacker's to take (kept when another step waits on one).
        const attack = draft.attack as { steps: Entry[] };
        let steps = attack.steps.map((e) => ({ ...e })) as Entry[];
        for (let i = steps.length - 1; i >= 0; i--) if (steps[i]!.from === id) steps = dropSteps(steps, i, 1) ?? steps;
        attack.steps = steps as never;
      }),
    });
  }
}

function parentOf(byId: ReadonlyMap<string, FunctionConfig>, id: string): FunctionConfig | undefined {
  const parent = byId.get(id)?.parent;
  return parent === undefined ? undefined : byId.get(parent);
}

/** Enable one ACS control at a port (or function): a setting when the capability implements it, new hardware when not. */
function acsChange(changes: Change[], seen: Set<string>, fn: FunctionConfig, flag: Flag, below: string, where: string): void {
  const bit = Acs[flag];
  if (fn.acs !== undefined && (fn.acs.ctl & bit) !== 0) return;
  const id = `acs:${fn.id}:${flag}`;
  if (seen.has(id)) return;
  seen.add(id);
  const implemented = fn.acs !== undefined && (fn.acs.cap & bit) !== 0;
  const why = (ACS_COSTS as Record<string, (p: string, b: string) => string>)[flag]?.(where, below) ?? `${flag} at ${where}`;
  changes.push({
    id,
    label: `${flag} on ${fn.id}`,
    cost: implemented ? `${why} (pci=config_acs= or Linux's pci_enable_acs sets it)` : `${why} — ${fn.id} does not implement ${flag}: it needs a ${fn.kind === 'endpoint' ? 'device' : 'port'} that does (new hardware)`,
    costClass: implemented ? 'config' : 'hardware',
    path: `machine.devices.${fn.id}.acs`,
    value: flag,
    apply: (doc) => produce(doc, (draft) => {
      const entry = findEntry(draft, fn.id);
      if (entry === undefined) return;
      entry.acs = withFlag(entry.acs, flag) as never;
    }),
  });
}

/** The `acs:` value with one more control enabled (and implemented, if it was not). */
function withFlag(acs: unknown, flag: Flag): unknown {
  if (Array.isArray(acs)) return acs.includes(flag) ? acs : [...acs, flag];
  if (acs !== null && typeof acs === 'object') {
    const { cap, ctl, ...rest } = acs as { cap: string[]; ctl: string[] };
    return { ...rest, cap: cap.includes(flag) ? cap : [...cap, flag], ctl: ctl.includes(flag) ? ctl : [...ctl, flag] };
  }
  return [flag];
}

/**
 * Bounce sub-page grants through swiotlb (Linux iommu_dma_map_page for
 * untrusted devices, commit 82612d66d51d): each grant that does not fill
 * its pages is mapped instead onto a slot of its own, whole pages that hold
 * nothing else — taken from the same memory region, clear of every mapping.
 */
function bounceChange(changes: Change[], spec: ScenarioSpec, domain: string): void {
  const hpaOf = (m: ScenarioSpec['domains'][number]['map'][number]) => ('region' in m.to ? spec.machine.memory.find((r) => r.name === (m.to as { region: string }).region)!.base : m.to.address);
  const used = spec.domains.flatMap((d) => d.map.map((m) => ({ base: hpaOf(m), size: m.size })));
  const d = spec.domains.find((x) => x.name === domain)!;
  const slots: { index: number; iova: number; to: number; size: number }[] = [];
  d.map.forEach((m, index) => {
    if (m.iova % PAGE === 0 && m.size % PAGE === 0) return;
    const iova = m.iova - (m.iova % PAGE);
    const size = Math.ceil((m.iova + m.size - iova) / PAGE) * PAGE;
    const hpa = hpaOf(m);
    const region = spec.machine.memory.find((r) => hpa >= r.base && hpa < r.base + r.size);
    if (region === undefined) return;
    for (let base = region.base + region.size - size - (region.base % PAGE); base >= region.base; base -= PAGE) {
      if (used.some((u) => base < u.base + u.size && u.base < base + size)) continue;
      used.push({ base, size });
      slots.push({ index, iova, to: base, size });
      break;
    }
  });
  if (slots.length === 0) return;
  changes.push({
    id: `bounce:${domain}`,
    label: `bounce ${domain}'s sub-page buffers through swiotlb`,
    cost: `each sub-page DMA buffer of ${d.devices.join(', ')} is copied through a bounce slot of whole pages (a memcpy per map and unmap)`,
    costClass: 'kernel',
    path: `domains.${domain}.map`,
    value: slots.map((s) => ({ iova: s.iova, to: s.to, size: s.size })),
    apply: (doc) => produce(doc, (draft) => {
      const map = (draft.domains as Record<string, { map: Entry[] }>)[domain]!.map;
      for (const s of slots) map[s.index] = { ...map[s.index], iova: s.iova, to: s.to, size: s.size } as never;
    }),
  });
}

/** A device or a function of a multifunction device, by id. */
export function findEntry(draft: Draft<Doc> | Doc, id: string): Entry | undefined {
  const devices = ((draft as Doc).machine as { devices: Entry[] }).devices;
  for (const device of devices) {
    if (device.id === id) return device;
    for (const fn of (device.functions as Entry[] | undefined) ?? []) if (fn.id === id) return fn;
    // An SR-IOV VF: an entry of the PF's sriov.functions with its id, else the N-th one for PF-vfN (normalize-sriov.ts), made when missing.
    const sriov = device.sriov as { vfs?: number; functions?: Entry[] } | undefined;
    if (sriov === undefined) continue;
    const named = sriov.functions?.find((f) => f.id === id);
    if (named !== undefined) return named;
    const prefix = `${String(device.id)}-vf`;
    const n = id.startsWith(prefix) ? Number(id.slice(prefix.length)) : NaN;
    if (Number.isInteger(n) && n >= 0 && n < (sriov.vfs ?? 0) && Object.isExtensible(sriov)) {
      sriov.functions ??= [];
      while (sriov.functions.length <= n) sriov.functions.push({});
      return sriov.functions[n];
    }
  }
  return undefined;
}

export function setPath(draft: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = draft;
  for (const segment of path.slice(0, -1)) {
    node[segment] ??= {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}
