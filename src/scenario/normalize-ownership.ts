/**
 * Semantic pass over the time-and-ownership keys (schema-ownership.ts):
 * each device's presence, class, reset method and port trust; the host,
 * Xen and firmware options; reserved regions; and the host steps that
 * change who holds what — checked against the owners and presence each
 * step finds at its instant (host steps in time order, file order within a
 * nanosecond, as they run), with positions.
 */
import type { FunctionConfig } from '../fabric/topology.ts';
import { deviceClassOf, type DeviceClass } from '../policy/reserved-regions.ts';
import { needsBounce, untrustedFunctions } from '../policy/untrusted.ts';
import type { Checker } from './checker.ts';
import { HOST, type DomainSpec, type FunctionSpec, type MachineSpec, type MemorySpec, type StepSpec } from './model.ts';
import { DEFAULT_HOST, DEFAULT_KERNEL_HOST, type FunctionHostSpec, type HostSpec, type KernelHostSpec, type OwnershipStep, type ReservedSpec, type ResetKind } from './model-ownership.ts';
import { DEVICE_CLASSES } from './schema-ownership.ts';
import type { ScenarioFile, StepEntry } from './schema.ts';
import type { Path } from './source.ts';
import { formatDuration } from '../sim/time.ts';
import { toggle } from './units.ts';

type MachineEntry = ScenarioFile['machine'];
export type FunctionBase = Omit<FunctionSpec, keyof FunctionHostSpec>;

/** Device types a host can hand to a principal (a bridge or port is never assigned on its own). */
const ASSIGNABLE = ['endpoint', 'rciep', 'pci-device'];
const HOT_PLUG_PARENTS = ['root-port', 'switch-downstream'];

/**
 * A `class:` given as a 24-bit class code (config space offset 09h);
 * undefined for a class name or none. Reports a bad one when given a checker.
 */
export function classCodeOf(value: string | number | undefined, path: Path, check: Checker | null): number | undefined {
  if (value === undefined || (DEVICE_CLASSES as readonly unknown[]).includes(value)) return undefined;
  if (typeof value === 'string' && !/^(0x[0-9a-f]+|[0-9]+)$/i.test(value)) {
    check?.error(path, `class '${value}' is one of ${DEVICE_CLASSES.join(', ')} or a 24-bit class code such as 0x0c0330`, 'bad-class');
    return undefined;
  }
  const code = typeof value === 'number' ? value : Number(value);
  if (code > 0xffffff) {
    check?.error(path, `a class code is 24 bits (base class, subclass, programming interface), not 0x${code.toString(16)}`, 'bad-class');
    return undefined;
  }
  return code;
}


export interface HostMachine {
  readonly functions: FunctionSpec[];
  readonly host: HostSpec;
  readonly kernel: KernelHostSpec;
}

/** Adds presence, class, reset method and trust to each function, and reads the host's options. */
export function normalizeHostMachine(entry: MachineEntry, specs: readonly FunctionBase[], functions: readonly FunctionConfig[], memory: readonly MemorySpec[], model: string, check: Checker): HostMachine {
  const facts = new Map<string, { present: boolean; class: DeviceClass | null; resetMethod: ResetKind; externalFacing: boolean }>();
  entry.devices.forEach((device, i) => {
    const path: Path = ['machine', 'devices', i];
    if (device['external-facing'] !== undefined && device.type !== 'root-port') {
      check.error([...path, 'external-facing'], `only a root port is marked external-facing (Linux pci_acpi_set_external_facing reads ExternalFacingPort on root ports), not ${/^[aeiou]/.test(device.type) ? 'an' : 'a'} ${device.type}: mark the root port above it`, 'external-facing-not-root-port', true);
    }
    const parentType = entry.devices.find((d) => d.id === device.parent)?.type;
    if (device.present === false && (parentType === undefined || !HOT_PLUG_PARENTS.includes(parentType))) {
      check.error([...path, 'present'], `'${device.id}' can be absent only below a root port or switch downstream port (a hot-plug slot; PCIe 6.0 §6.7)`, 'not-hot-pluggable', true);
    }
    (device.functions ?? [device]).forEach((fn, f) => {
      const classPath: Path = device.functions ? [...path, 'functions', f, 'class'] : [...path, 'class'];
      const code = classCodeOf(fn.class, classPath, check);
      facts.set(fn.id, {
        present: device.present ?? true,
        class: code !== undefined ? deviceClassOf(code) : (DEVICE_CLASSES as readonly unknown[]).includes(fn.class) ? (fn.class as DeviceClass) : null,
        resetMethod: fn['reset-method'] ?? 'flr',
        externalFacing: device['external-facing'] === true,
      });
    });
  });
  const parents = new Map(functions.map((f) => [f.id, f.parent ?? null]));
  const untrusted = untrustedFunctions(parents.keys(), { parentOf: (id) => parents.get(id) ?? null, externalFacing: (id) => facts.get(id)?.externalFacing ?? false });
  // A virtual function is where its physical function is, and resets by FLR (VFs are required to implement Function Level Reset: SR-IOV 1.1, PCIe 6.0 chapter 9).
  const physfn = new Map(functions.flatMap((f) => (f.sriov?.vfs ?? []).map((vf) => [vf, f.id] as const)));
  const factsOf = (id: string) => {
    const pf = physfn.get(id);
    return pf === undefined ? facts.get(id)! : { ...facts.get(pf)!, resetMethod: 'flr' as const };
  };
  const full = specs.map((s) => ({ ...s, ...factsOf(s.id), untrusted: untrusted.has(physfn.get(s.id) ?? s.id) }));

  const regions = new Map(memory.map((m) => [m.name, m]));
  const ids = new Set(specs.map((s) => s.id));
  const reserved: ReservedSpec[] = [];
  (entry.reserved ?? []).forEach((r, i) => {
    const path: Path = ['machine', 'reserved', i];
    const wanted = r.kind === 'rmrr' ? 'vtd' : 'amd-vi';
    if (model !== wanted) check.error([...path, 'kind'], `${r.kind === 'rmrr' ? 'an RMRR is a VT-d DMAR structure' : 'an IVMD is an AMD-Vi IVRS block'}: this machine's IOMMU is ${model}, not ${wanted}`, 'reserved-wrong-iommu');
    if (r.perm !== undefined && r.kind === 'rmrr') check.error([...path, 'perm'], `an RMRR has no permission field: Linux maps it read-write (intel_iommu_get_resv_regions); perm is for IVMD blocks`, 'misplaced-key', true);
    const region = regions.get(r.region);
    check.known(r.region, regions.keys(), [...path, 'region'], 'memory region');
    r.devices.forEach((d, j) => check.known(d, ids, [...path, 'devices', j], 'device'));
    if (region !== undefined) reserved.push({ kind: r.kind, region: r.region, base: region.base, size: region.size, devices: r.devices, perm: r.perm ?? 'rw' });
  });

  const kernel = entry.kernel ?? {};
  if (kernel.swiotlb !== undefined) check.known(kernel.swiotlb, regions.keys(), ['machine', 'kernel', 'swiotlb'], 'memory region');
  const xen = entry.xen ?? {};
  const firmware = entry.firmware ?? {};
  return {
    functions: full,
    host: {
      host: entry.host ?? 'linux',
      // Xen 4.13+ builds quarantine by default (CONFIG_IOMMU_QUARANTINE_BASIC) and use per-device AMD tables.
      xen: {
        quarantine: xen.quarantine ?? DEFAULT_HOST.xen.quarantine,
        perDeviceIntremap: toggle(xen['amd-iommu-perdev-intremap'], DEFAULT_HOST.xen.perDeviceIntremap),
        staleIrtes: xen['stale-irtes'] ?? DEFAULT_HOST.xen.staleIrtes,
      },
      firmware: { dmaProtection: firmware['dma-protection'] ?? DEFAULT_HOST.firmware.dmaProtection, dmarOptIn: toggle(firmware['dmar-opt-in'], DEFAULT_HOST.firmware.dmarOptIn) },
      reserved,
    },
    kernel: { defaultDomain: kernel['default-domain'] ?? DEFAULT_KERNEL_HOST.defaultDomain, swiotlb: kernel.swiotlb ?? null },
  };
}

export interface OwnershipContext {
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  /** Multifunction device ids → their function ids. */
  readonly multifunction: ReadonlyMap<string, readonly string[]>;
  readonly memory: readonly MemorySpec[];
  readonly domains: readonly string[];
  /** Each function's parent bridge id (null on the root bus) and kind, from the fabric configuration. */
  readonly topology: ReadonlyMap<string, { readonly parent: string | null; readonly kind: string }>;
}

type Base = { index: number; at: number; note: string | null };

/** One ownership host step, with its references checked (timing is checked over all steps by checkOwnershipTimeline). */
export function normalizeOwnershipStep(step: StepEntry, base: Base, path: Path, ctx: OwnershipContext, check: Checker): OwnershipStep | null {
  const known = (id: string, where: Path) => {
    const fns = ctx.multifunction.get(id);
    if (fns !== undefined) {
      check.error(where, `'${id}' is a multifunction device; name one of its functions: ${fns.join(', ')}`, 'multifunction-device');
      return false;
    }
    return check.known(id, ctx.functions.keys(), where, 'device');
  };
  const domain = (name: string | undefined, where: Path) => (name === undefined ? null : check.known(name, ctx.domains, where, 'domain') ? name : null);
  const region = (name: string, where: Path) => check.known(name, ctx.memory.map((m) => m.name), where, 'memory region');
  if (step.assign !== undefined) {
    const where: Path = [...path, 'assign'];
    if (known(step.assign.device, [...where, 'device'])) assignable(step.assign.device, [...where, 'device'], ctx, check);
    return { ...base, kind: 'assign', device: step.assign.device, to: step.assign.to, domain: domain(step.assign.domain, [...where, 'domain']) };
  }
  if (step.release !== undefined) {
    const where: Path = [...path, 'release'];
    if (known(step.release.device, [...where, 'device'])) assignable(step.release.device, [...where, 'device'], ctx, check);
    return { ...base, kind: 'release', device: step.release.device, domain: domain(step.release.domain, [...where, 'domain']) };
  }
  if (step.reset !== undefined) {
    const where: Path = [...path, 'reset'];
    if (!known(step.reset.device, [...where, 'device'])) return null;
    const kind = step.reset.kind ?? ctx.functions.get(step.reset.device)!.resetMethod;
    if (kind === 'bus') busResettable(step.reset.device, [...where, step.reset.kind === undefined ? 'device' : 'kind'], ctx, check);
    return { ...base, kind: 'reset', device: step.reset.device, reset: kind };
  }
  if (step['reassign-memory'] !== undefined) {
    const r = step['reassign-memory'];
    region(r.region, [...path, 'reassign-memory', 'region']);
    return { ...base, kind: 'reassign-memory', region: r.region, to: r.to };
  }
  if (step.free !== undefined) {
    region(step.free.region, [...path, 'free', 'region']);
    return { ...base, kind: 'free', region: step.free.region };
  }
  const plug = step['hot-plug'] !== undefined ? 'hot-plug' : step['hot-unplug'] !== undefined ? 'hot-unplug' : null;
  if (plug !== null) {
    const device = step[plug]!.device;
    const where: Path = [...path, plug, 'device'];
    const fns = ctx.multifunction.get(device) ?? (check.known(device, [...ctx.functions.keys(), ...ctx.multifunction.keys()], where, 'device') ? [device] : null);
    if (fns === null) return null;
    const parent = ctx.topology.get(fns[0]!)?.parent ?? null;
    const parentKind = parent === null ? null : ctx.topology.get(parent)?.kind;
    if (parentKind === null || parentKind === undefined || !HOT_PLUG_PARENTS.includes(parentKind)) {
      check.error(where, `'${device}' is not in a hot-plug slot: only a device on the link below a root port or switch downstream port can be ${plug === 'hot-plug' ? 'plugged' : 'removed'} (PCIe 6.0 §6.7)`, 'not-hot-pluggable');
      return null;
    }
    return { ...base, kind: plug, device, functions: fns };
  }
  return { ...base, kind: 'boot', phase: step.boot! };
}

function assignable(id: string, where: Path, ctx: OwnershipContext, check: Checker): void {
  const kind = ctx.topology.get(id)?.kind;
  if (kind !== undefined && !ASSIGNABLE.includes(kind)) check.error(where, `'${id}' is a ${kind}: a host hands endpoints and PCI devices to principals, not bridges or ports`, 'not-assignable');
}

/** pci_parent_bus_reset: a secondary bus reset only for a device alone on a bus below a bridge. */
function busResettable(id: string, where: Path, ctx: OwnershipContext, check: Checker): void {
  const parent = ctx.topology.get(id)?.parent ?? null;
  if (parent === null) {
    check.error(where, `'${id}' sits on the root bus: there is no bridge above it to reset the bus (Linux pci_parent_bus_reset returns -ENOTTY)`, 'bad-reset');
    return;
  }
  const siblings = [...ctx.topology].filter(([other, t]) => other !== id && t.parent === parent).map(([other]) => other);
  if (siblings.length > 0) check.error(where, `'${id}' shares its bus with ${siblings.join(', ')}: Linux resets a bus only for a device alone on it (pci_parent_bus_reset returns -ENOTTY)`, 'bad-reset');
}

/**
 * Replays the host steps in the order they run (time, then file order)
 * over who owns each device and region, which devices are plugged in and
 * which boot phase it is, and reports a step that does not fit the moment:
 * assigning a device to its owner, releasing one the host holds, freeing a
 * region the host owns, plugging a present device, phases out of order.
 */
export function checkOwnershipTimeline(steps: readonly OwnershipStep[], ctx: OwnershipContext, stepPath: (index: number) => Path, check: Checker): void {
  const owners = new Map([...ctx.functions].map(([id, f]) => [id, f.owner]));
  const regionOwners = new Map(ctx.memory.map((m) => [m.name, m.owner]));
  const present = new Map([...ctx.functions].map(([id, f]) => [id, f.present]));
  const phases: string[] = [];
  const ordered = [...steps].sort((a, b) => a.at - b.at || a.index - b.index);
  const at = formatDuration;
  for (const s of ordered) {
    const path = stepPath(s.index);
    switch (s.kind) {
      case 'assign': {
        const owner = owners.get(s.device);
        if (owner === s.to) check.error([...path, 'assign', 'to'], `'${s.device}' already belongs to ${s.to} at ${at(s.at)}: assign hands a device to a new holder`, 'already-owned');
        else if (owner !== undefined && owner !== HOST) check.error([...path, 'assign', 'device'], `'${s.device}' belongs to ${owner} at ${at(s.at)}: release it to the host before assigning it to ${s.to}`, 'not-released');
        owners.set(s.device, s.to);
        break;
      }
      case 'release':
        if (owners.get(s.device) === HOST) check.error([...path, 'release', 'device'], `'${s.device}' already belongs to the host at ${at(s.at)}: release hands back a device a principal holds`, 'not-held');
        owners.set(s.device, HOST);
        break;
      case 'reassign-memory':
        if (regionOwners.get(s.region) === s.to) check.error([...path, 'reassign-memory', 'to'], `memory '${s.region}' already belongs to ${s.to} at ${at(s.at)}`, 'already-owned');
        regionOwners.set(s.region, s.to);
        break;
      case 'free':
        if (regionOwners.get(s.region) === HOST) check.error([...path, 'free', 'region'], `memory '${s.region}' already belongs to the host at ${at(s.at)}: free returns a principal's region to the host's allocator`, 'not-held');
        regionOwners.set(s.region, HOST);
        break;
      case 'hot-plug':
      case 'hot-unplug': {
        const up = s.kind === 'hot-plug';
        if (present.get(s.functions[0]!) === up) check.error([...path, s.kind, 'device'], `'${s.device}' is already ${up ? 'present' : 'absent'} at ${at(s.at)}${up ? ' (mark it present: false to start unplugged)' : ''}`, 'bad-hot-plug');
        for (const fn of s.functions) present.set(fn, up);
        break;
      }
      case 'boot': {
        const order = 'the firmware runs, exits boot services, then the OS initialises its IOMMU';
        if (phases.includes(s.phase)) check.error([...path, 'boot'], `boot: ${s.phase} at ${at(s.at)} happens a second time: ${order}, once each`, 'boot-order');
        else if (s.phase === 'iommu-init' && !phases.includes('exit-boot-services')) check.error([...path, 'boot'], `boot: iommu-init at ${at(s.at)} comes before any boot: exit-boot-services: ${order} (add the exit-boot-services step earlier)`, 'boot-order');
        else if (s.phase === 'exit-boot-services' && phases.includes('iommu-init')) check.error([...path, 'boot'], `boot: exit-boot-services at ${at(s.at)} comes after iommu-init: ${order}`, 'boot-order');
        phases.push(s.phase);
        break;
      }
      case 'reset':
        break;
    }
  }
}

/**
 * Linux's untrusted-device rules a file can contradict: an untrusted
 * device in an identity domain (iommu_get_default_domain_type refuses:
 * "Device is not trusted, but driver is overriding group … refusing to
 * probe"), and an unaligned buffer mapped for one with no swiotlb pool to
 * bounce through (iommu_dma_map_swiotlb: "DMA bounce buffers are inactive").
 */
export function checkUntrustedUse(domains: readonly DomainSpec[], steps: readonly StepSpec[], machine: MachineSpec, attack: { readonly attacker: string; readonly via: 'device' | 'vfio' }, check: Checker): void {
  if (machine.host !== 'linux') return;
  const untrusted = new Set(machine.functions.filter((f) => f.untrusted).map((f) => f.id));
  for (const d of domains) {
    const bad = d.devices.filter((id) => untrusted.has(id));
    if (d.mode === 'identity' && bad.length > 0) {
      check.error(['domains', d.name, 'mode'], `${bad.join(', ')} sits below an external-facing port, so Linux treats it as untrusted and refuses it an identity domain (iommu_get_default_domain_type): use mode: paging`, 'untrusted-identity');
    }
  }
  if (machine.kernel.swiotlb !== null) return;
  for (const s of steps) {
    if (s.kind !== 'map') continue;
    const domain = domains.find((d) => d.name === s.domain);
    const hpa = 'region' in s.mapping.to ? (machine.memory.find((m) => m.name === (s.mapping.to as { region: string }).region)?.base ?? 0) : s.mapping.to.address;
    if (domain === undefined || !domain.devices.some((id) => needsBounce(untrusted.has(id), hpa, s.mapping.size))) continue;
    // A VFIO user's domain pins and maps pages directly (vfio_iommu_type1): only the DMA API bounces (HostRuntime.hostDomain).
    const owners = domain.devices.map((id) => machine.functions.find((f) => f.id === id)?.owner ?? HOST);
    if (!owners.every((o) => o === HOST || (attack.via === 'device' && o === attack.attacker))) continue;
    check.error(['attack', 'steps', s.index, 'map'], `this buffer is not page-aligned and ${domain.name} holds an untrusted device, so Linux bounces it through swiotlb (dev_use_swiotlb): name the bounce pool's memory region with machine.kernel.swiotlb`, 'no-swiotlb');
  }
}
