/**
 * The attack surface of one configuration, read off the built machine:
 * the attacker's devices, what others own (BARs and their sub-regions,
 * memory regions), every domain's mappings, every requester ID and bus,
 * the interrupt messages and IRTEs the host programmed, and the host's own
 * timeline (maps, unmaps, invalidations) that attacks may race.
 */
import { requesterId } from '../pcie/bdf.ts';
import { LINUX_REMAP_DTE } from '../interrupts/amd-vi.ts';
import type { Machine } from '../scenario/machine.ts';
import type { DomainSpec, StepSpec } from '../scenario/model.ts';
import type { StepEntry } from './model.ts';

export const PAGE = 4096;

export interface AttackerDevice {
  readonly id: string;
  readonly rid: number;
  readonly bus: number;
  /** The domain its DMA is translated in, when it has one. */
  readonly domain: string | null;
  /** ns from the device to the root complex (hop latencies): how long a request takes to reach the IOMMU. */
  readonly travel: number;
}

export interface FunctionFact {
  readonly id: string;
  readonly rid: number;
  readonly bus: number;
  readonly owner: string;
  readonly domain: string | null;
}

/** A piece of a BAR with one owner other than the attacker (a whole BAR, or a sub-region of one). */
export interface BarTarget {
  readonly device: string;
  readonly index: number;
  readonly offset: number;
  readonly size: number;
  readonly owner: string;
  /** "nvme.bar0", or the sub-region's name. */
  readonly name: string;
  readonly subRegion: boolean;
  /** The bus address of the piece's first byte. */
  readonly address: number;
  /** Whether a step can name it as DEVICE.N (not an SR-IOV VF's BAR, not a function that shares its device's id). */
  readonly named: boolean;
}

export interface MemoryTarget {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly owner: string;
}

export interface MappingFact {
  readonly iova: number;
  readonly size: number;
  readonly hpa: number;
  readonly perm: 'r' | 'w' | 'rw';
}

export interface DomainFact {
  readonly name: string;
  readonly mode: DomainSpec['mode'];
  readonly devices: readonly string[];
  readonly principals: readonly string[];
  readonly mappings: readonly MappingFact[];
}

/** A programmed MSI/MSI-X vector of a device the attacker does not own. */
export interface MessageFact {
  readonly device: string;
  readonly owner: string;
  readonly vector: number;
  /** The message as the host programmed it (read once: later host steps may tear it down). */
  readonly address: number;
  readonly data: number;
}

/** AMD-Vi: MSI data names an entry of the device's own table (AMD IOMMU 48882 §2.2.5); the offsets in use, the next, the table's end. */
export interface AmdIndexFacts {
  readonly used: readonly number[];
  readonly free: number;
  readonly size: number;
}

export interface IrteFacts {
  readonly size: number;
  readonly own: readonly number[];
  readonly foreign: readonly { readonly index: number; readonly owner: string }[];
  /** The first entry that is not present; null when every one is. */
  readonly notPresent: number | null;
}

/** A step of the scenario the attacker does not perform: the host's (or another tenant's) timeline. */
export interface TimelineStep {
  /** Index in the scenario's steps. */
  readonly index: number;
  readonly entry: StepEntry;
  readonly spec: StepSpec;
}

export interface Surface {
  readonly attacker: string;
  readonly devices: readonly AttackerDevice[];
  readonly functions: readonly FunctionFact[];
  readonly bars: readonly BarTarget[];
  /** The attacker's own BARs (ownership may change under them). */
  readonly ownBars: readonly BarTarget[];
  readonly memory: readonly MemoryTarget[];
  readonly domains: readonly DomainFact[];
  readonly messages: readonly MessageFact[];
  readonly irtes: IrteFacts | null;
  readonly amd: AmdIndexFacts | null;
  readonly x86: boolean;
  readonly iommu: boolean;
  readonly timeline: readonly TimelineStep[];
  /** Times at which the host's timeline has changed something (0 first): probes run at each. */
  readonly epochs: readonly number[];
  readonly flushTimeoutNs: number;
  readonly deferred: boolean;
  /** Bus numbers in use. */
  readonly buses: readonly number[];
  /** Every BAR's bus address (random probes aim near them). */
  readonly barBases: readonly number[];
}

/** At most this many epochs (host steps at distinct times) are probed. */
const MAX_EPOCHS = 8;

export function readSurface(machine: Machine, entries: readonly StepEntry[]): Surface {
  const spec = machine.spec;
  const attacker = spec.attacker;
  const owners = new Map(spec.machine.functions.map((f) => [f.id, f.owner]));
  const domainOf = new Map<string, string>();
  for (const d of spec.domains) for (const id of d.devices) domainOf.set(id, d.name);
  const fabric = machine.fabric;
  const functions: FunctionFact[] = [...fabric.functions.values()].map((fn) => ({ id: fn.id, rid: fn.rid, bus: fn.bus, owner: owners.get(fn.id) ?? 'host', domain: domainOf.get(fn.id) ?? null }));
  const mine = new Set(attackerFunctions(spec));
  const devices: AttackerDevice[] = [...fabric.functions.values()]
    .filter((fn) => mine.has(fn.id))
    .map((fn) => {
      let travel = 0;
      for (let n = fn.node; n.up !== null; n = n.up) travel += n.latencyTo(n.up);
      return { id: fn.id, rid: fn.rid, bus: fn.bus, domain: domainOf.get(fn.id) ?? null, travel };
    });

  const bars: BarTarget[] = [];
  const ownBars: BarTarget[] = [];
  const specOf = new Map(spec.machine.functions.map((f) => [f.id, f]));
  const declared = new Map(spec.machine.fabric.functions.map((f) => [f.id, f.bars?.length ?? 0]));
  const packages = new Set(spec.machine.functions.filter((f) => f.device !== f.id).map((f) => f.device));
  const named = (id: string, index: number) => index < (declared.get(id) ?? 0) && !packages.has(id);
  for (const fn of fabric.functions.values()) {
    if (mine.has(fn.id)) for (const bar of fn.bars) ownBars.push({ device: fn.id, index: bar.index, offset: 0, size: bar.size, owner: attacker, name: bar.name, subRegion: false, address: bar.base, named: named(fn.id, bar.index) });
    const owner = owners.get(fn.id) ?? 'host';
    const regions = specOf.get(fn.id)?.barRegions ?? [];
    for (const bar of fn.bars) {
      const subs = regions.filter((r) => r.bar === bar.index);
      // The BAR's own part: its first byte outside every sub-region.
      let offset = 0;
      for (const r of [...subs].sort((a, b) => a.offset - b.offset)) if (r.offset <= offset && offset < r.offset + r.size) offset = r.offset + r.size;
      const ok = named(fn.id, bar.index);
      if (owner !== attacker && offset < bar.size) bars.push({ device: fn.id, index: bar.index, offset, size: bar.size, owner, name: bar.name, subRegion: false, address: bar.base + offset, named: ok });
      for (const r of subs) if (r.owner !== attacker) bars.push({ device: fn.id, index: bar.index, offset: r.offset, size: r.size, owner: r.owner, name: r.name, subRegion: true, address: bar.base + r.offset, named: ok });
    }
  }

  const domains: DomainFact[] = spec.domains.map((d) => ({
    name: d.name,
    mode: d.mode,
    devices: d.devices,
    principals: machine.domainPrincipals.get(d.name) ?? [],
    mappings: d.map.map((m) => ({ iova: m.iova, size: m.size, hpa: machine.hpa(m), perm: m.perm })),
  }));

  const messages: MessageFact[] = [];
  for (const f of spec.machine.functions) {
    if (f.owner === attacker || (f.msi === null && f.msix === null)) continue;
    const message = machine.sources.source(f.id).message(0);
    if (message !== null) messages.push({ device: f.id, owner: f.owner, vector: 0, address: message.address, data: message.data });
  }

  const timeline = entries.flatMap((entry, index): TimelineStep[] => {
    const step = spec.steps.find((s) => s.index === index);
    return step !== undefined && isTimeline(step, attacker) ? [{ index, entry, spec: step }] : [];
  });
  // A timeline step waiting on a step the attacker performs goes with the attacker's steps.
  const kept = timeline.filter((t) => !t.spec.after || t.spec.after.step === null || timeline.some((o) => o.index === t.spec.after!.step));
  const epochs = [...new Set([0, ...kept.filter((t) => !t.spec.after).map((t) => t.spec.at)])].sort((a, b) => a - b).slice(0, MAX_EPOCHS);

  return {
    attacker,
    devices,
    functions,
    bars,
    ownBars,
    memory: spec.machine.memory.filter((m) => m.owner !== attacker).map((m) => ({ name: m.name, base: m.base, size: m.size, owner: m.owner })),
    domains,
    messages,
    irtes: irteFacts(machine, attacker),
    amd: amdFacts(machine),
    x86: machine.x86 !== null,
    iommu: machine.iommu !== null && spec.machine.iommu.dmaRemapping,
    timeline: kept,
    epochs,
    flushTimeoutNs: spec.machine.iommu.flushTimeoutNs,
    deferred: spec.machine.iommu.invalidation === 'deferred',
    buses: [...new Set(functions.map((f) => f.bus))].sort((a, b) => a - b),
    barBases: [...fabric.functions.values()].flatMap((fn) => fn.bars.map((b) => b.base)),
  };
}

/**
 * The functions the attacker drives: those it owns, and those a host step
 * assigns to it (from then on: a TLP belongs to whoever holds the device
 * when it is issued, so earlier probes from it are simply not its).
 */
export function attackerFunctions(spec: Machine['spec']): string[] {
  const ids = spec.machine.functions.filter((f) => f.owner === spec.attacker).map((f) => f.id);
  for (const step of spec.steps) if (step.kind === 'assign' && step.to === spec.attacker && !ids.includes(step.device)) ids.push(...expand(spec, step.device));
  return ids;
}

/** A devices: entry's functions (a multifunction device is assigned whole). */
function expand(spec: Machine['spec'], device: string): string[] {
  const fns = spec.machine.functions.filter((f) => f.device === device).map((f) => f.id);
  return fns.length > 0 ? fns : [device];
}

/** Host actions, and actions by principals other than the attacker, stay; the attacker's own steps are replaced by probes. */
function isTimeline(step: StepSpec, attacker: string): boolean {
  if ('from' in step) return false;
  if (step.kind === 'config-write' || step.kind === 'mmio-write') return step.by !== attacker;
  return true;
}

/** VT-d interrupt remapping on: the table's size, the attacker's entries, others' entries, the first free one. */
function irteFacts(machine: Machine, attacker: string): IrteFacts | null {
  const vtd = machine.x86?.vtd ?? null;
  if (vtd === null || !machine.spec.machine.iommu.interruptRemapping) return null;
  const size = 2 ** (vtd.config.sizeField + 1);
  const own: number[] = [];
  const foreign: { index: number; owner: string }[] = [];
  let notPresent: number | null = null;
  for (let index = 0; index < size; index++) {
    const entry = vtd.irte(index);
    if (!entry.present) {
      if (notPresent === null) notPresent = index;
      // Linux allocates first-fit: past the first gap only explicit entries remain, which are listed in the spec.
      if (index > 256 && !machine.spec.machine.irtes.some((e) => e.index > index)) break;
      continue;
    }
    const owner = entry.owner ?? 'host';
    if (owner === attacker) own.push(index);
    else foreign.push({ index, owner });
  }
  return { size, own, foreign, notPresent };
}

/** AMD-Vi with interrupt remapping: the table offsets the host programmed (any device's: tables may be shared, entries stale). */
function amdFacts(machine: Machine): AmdIndexFacts | null {
  if (machine.x86?.amd === null || machine.x86?.amd === undefined || !machine.spec.machine.iommu.interruptRemapping) return null;
  const used = [...new Set(machine.x86.programmed.flatMap((p) => (p.irte === null ? [] : [p.irte])))].sort((a, b) => a - b);
  const free = used.length === 0 ? 0 : Math.max(...used) + 1;
  return { used, free, size: 2 ** LINUX_REMAP_DTE.intTabLen };
}

export function ridOf(bus: number, device: number, fn: number): number {
  return requesterId(bus, device, fn);
}
