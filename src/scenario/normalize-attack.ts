/** Semantic pass over `domains:` and `attack:`: references, units and step shapes. */
import { requesterId, tryParseBdf } from '../pcie/bdf.ts';
import type { Checker } from './checker.ts';
import { checkAfterCycles, stepTiming } from './normalize-after.ts';
import { normalizeIrte } from './normalize-interrupts.ts';
import type { AccessTargetSpec, AfterSpec, DomainSpec, FunctionSpec, MachineSpec, MappingSpec, StepSpec } from './model.ts';
import type { ScenarioFile, StepEntry } from './schema.ts';
import { OWNERSHIP_ACTIONS } from './schema-ownership.ts';
import { checkOwnershipTimeline, normalizeOwnershipStep, type OwnershipContext } from './normalize-ownership.ts';
import type { OwnershipStep } from './model-ownership.ts';
import type { Path } from './source.ts';
import { readQuantity } from './units.ts';

interface Context extends Omit<OwnershipContext, 'domains' | 'memory'> {
  readonly machine: MachineSpec;
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  /** Multifunction device ids → their function ids (not addressable themselves). */
  readonly multifunction: ReadonlyMap<string, readonly string[]>;
  readonly principals: ReadonlySet<string>;
  readonly barCounts: ReadonlyMap<string, number>;
}

export function normalizeDomains(entry: ScenarioFile['domains'], ctx: Context, check: Checker): DomainSpec[] {
  const owner = new Map<string, string>();
  return Object.entries(entry ?? {}).map(([name, domain]) => {
    const path: Path = ['domains', name];
    domain.devices.forEach((device, i) => {
      if (!knownFunction(device, ctx, [...path, 'devices', i], check)) return;
      const other = owner.get(device);
      if (other !== undefined) check.error([...path, 'devices', i], `'${device}' is already in domain '${other}': a requester ID has one context`, 'device-in-two-domains');
      owner.set(device, name);
    });
    const mode = domain.mode ?? 'paging';
    if (mode !== 'paging' && domain.map !== undefined && domain.map.length > 0) {
      check.error([...path, 'map'], `a ${mode} domain has no page tables; remove map: or use mode: paging`, 'map-without-paging', true);
    }
    return {
      name,
      devices: domain.devices,
      mode,
      map: (domain.map ?? []).map((m, i) => mapping(m, [...path, 'map', i], ctx, check)),
      deviceTlb: domain['device-tlb'] === 'allowed',
    };
  });
}

export function normalizeSteps(entry: ScenarioFile['attack'], domains: readonly DomainSpec[], ctx: Context, check: Checker): StepSpec[] {
  check.known(entry.attacker, ctx.principals, ['attack', 'attacker'], 'principal');
  const domainNames = domains.map((d) => d.name);
  const steps = entry.steps.flatMap((step, index) => {
    const spec = normalizeStep(step, index, entry.steps.length, domainNames, ctx, check);
    return spec === null ? [] : [spec];
  });
  checkAfterCycles(steps, check);
  const ownership = steps.filter((s): s is OwnershipStep => (OWNERSHIP_ACTIONS as readonly string[]).includes(s.kind));
  checkOwnershipTimeline(ownership, { ...ctx, domains: domainNames, memory: ctx.machine.memory }, (i) => ['attack', 'steps', i], check);
  return steps;
}

const DEVICE_ACTIONS = ['write', 'read', 'msi', 'ats-translate'] as const;
const HOST_ACTIONS = ['map', 'unmap', 'invalidate', 'irte-write', 'config-write', 'mmio-write', 'wait', ...OWNERSHIP_ACTIONS] as const;

function normalizeStep(step: StepEntry, index: number, count: number, domains: readonly string[], ctx: Context, check: Checker): StepSpec | null {
  const path: Path = ['attack', 'steps', index];
  const { at, after } = stepTiming(step, index, count, path, check);
  const actions = [...DEVICE_ACTIONS, ...HOST_ACTIONS].filter((key) => step[key] !== undefined);
  if (actions.length !== 1) {
    const found = actions.length === 0 ? 'none' : actions.join(' and ');
    check.error(path, `a step has exactly one action (${[...DEVICE_ACTIONS, ...HOST_ACTIONS].join(', ')}); found ${found}`, 'step-action');
    return null;
  }
  const action = actions[0]!;
  const base = { index, at, after, note: step.note ?? null };
  const isDeviceAction = (DEVICE_ACTIONS as readonly string[]).includes(action);
  if (!isDeviceAction) {
    for (const key of ['from', 'as', 'translated', 'pasid', 'data', 'size'] as const) {
      if (step[key] !== undefined) check.error([...path, key], `'${key}' belongs to device actions; '${action}' is a host action`, 'misplaced-key', true);
    }
    return hostStep(step, action as (typeof HOST_ACTIONS)[number], base, path, domains, ctx, check);
  }
  if (step.from === undefined) {
    check.error(path, `'${action}' is a device action: say which device does it with from:`, 'missing-from');
    return null;
  }
  if (!knownFunction(step.from, ctx, [...path, 'from'], check)) return null;
  if (step.translated !== undefined && action !== 'write' && action !== 'read') check.error([...path, 'translated'], `'translated' applies to write and read steps`, 'misplaced-key', true);
  if (step.data !== undefined && action !== 'write') check.error([...path, 'data'], `'data' applies to write steps`, 'misplaced-key', true);
  const device = { ...base, from: step.from, as: forgedId(step.as, [...path, 'as'], check), translated: step.translated ?? false, pasid: step.pasid ?? null };
  const size = step.size ?? 4;
  if (size < 1 || size > 4096) check.error([...path, 'size'], `size is a byte count from 1 to 4096, not ${size}`, 'bad-size');
  switch (action) {
    case 'write':
      return { ...device, kind: 'write', target: accessTarget(step.write, [...path, 'write'], ctx, check), data: step.data === undefined ? 0 : check.quantity(step.data, [...path, 'data'], 'data'), size };
    case 'read':
      return { ...device, kind: 'read', target: accessTarget(step.read, [...path, 'read'], ctx, check), size };
    case 'ats-translate':
      return { ...device, kind: 'ats-translate', address: check.quantity(step['ats-translate'], [...path, 'ats-translate'], 'address') };
    default:
      return { ...device, kind: 'msi', ...msiStep(step, [...path, 'msi'], ctx, check) };
  }
}

function msiStep(step: StepEntry, path: Path, ctx: Context, check: Checker): { vector: number | null; irteOf: string | null; irte: number | null } {
  const msi = step.msi!;
  const vector = msi.vector ?? null;
  if (msi.irte !== undefined) {
    if (msi['irte-of'] !== undefined) check.error(path, `name the entry either by irte: or by irte-of:, not both`, 'msi-target');
    return { vector, irteOf: null, irte: msi.irte };
  }
  const owner = msi['irte-of'] ?? step.from!;
  const ownerPath = msi['irte-of'] === undefined ? [...path.slice(0, -1), 'from'] : [...path, 'irte-of'];
  if (msi['irte-of'] !== undefined && !knownFunction(owner, ctx, ownerPath, check)) return { vector, irteOf: owner, irte: null };
  const fn = ctx.functions.get(owner);
  const vectors = fn?.msix?.vectors ?? fn?.msi?.vectors ?? 0;
  if (fn !== undefined && vectors === 0) check.error(ownerPath, `'${owner}' has no MSI or MSI-X vectors to name`, 'no-msi');
  else if (vector === null && msi['irte-of'] === undefined) check.error(path, `say which of '${owner}'s vectors to raise with vector:`, 'msi-target');
  else if (vector !== null && (vector < 0 || vector >= vectors)) check.error([...path, 'vector'], `'${owner}' has ${vectors} vector(s): ${vector} is out of range`, 'bad-vector');
  return { vector: vector ?? 0, irteOf: msi['irte-of'] ?? null, irte: null };
}

function hostStep(step: StepEntry, action: (typeof HOST_ACTIONS)[number], base: { index: number; at: number; after: AfterSpec | null; note: string | null }, path: Path, domains: readonly string[], ctx: Context, check: Checker): StepSpec | null {
  switch (action) {
    case 'map': {
      const map = step.map!;
      check.known(map.domain, domains, [...path, 'map', 'domain'], 'domain');
      return { ...base, kind: 'map', domain: map.domain, mapping: mapping(map, [...path, 'map'], ctx, check) };
    }
    case 'unmap': {
      const unmap = step.unmap!;
      check.known(unmap.domain, domains, [...path, 'unmap', 'domain'], 'domain');
      return { ...base, kind: 'unmap', domain: unmap.domain, iova: check.quantity(unmap.iova, [...path, 'unmap', 'iova'], 'IOVA'), size: check.quantity(unmap.size, [...path, 'unmap', 'size'], 'size') };
    }
    case 'invalidate':
      return { ...base, kind: 'invalidate', what: step.invalidate! };
    case 'irte-write': {
      const where: Path = [...path, 'irte-write'];
      if (ctx.machine.iommu.model !== 'vtd') check.error(where, `irte-write writes a VT-d interrupt-remapping table entry; this machine's iommu is ${ctx.machine.iommu.model}`, 'misplaced-key', true);
      const irte = normalizeIrte(step['irte-write']!, where, { tableSize: ctx.machine.iommu.irTableSize, descriptors: ctx.machine.postedDescriptors }, check, ctx.principals);
      return { ...base, kind: 'irte-write', irte };
    }
    case 'config-write': {
      const write = step['config-write']!;
      const where: Path = [...path, 'config-write'];
      knownFunction(write.device, ctx, [...where, 'device'], check);
      const size = write.size ?? 4;
      const offset = check.quantity(write.offset, [...where, 'offset'], 'config offset');
      if (size !== 1 && size !== 2 && size !== 4) check.error([...where, 'size'], `config accesses are 1, 2 or 4 bytes, not ${size}`, 'bad-size');
      else if (offset % size !== 0 || offset + size > 4096) check.error([...where, 'offset'], `config offset 0x${offset.toString(16)} must be aligned to ${size} and inside 4 KiB`, 'bad-offset');
      const by = write.by ?? 'host';
      check.known(by, ctx.principals, [...where, 'by'], 'principal');
      return { ...base, kind: 'config-write', device: write.device, offset, value: check.quantity(write.value, [...where, 'value'], 'value'), size: size as 1 | 2 | 4, by };
    }
    case 'mmio-write': {
      const write = step['mmio-write']!;
      const where: Path = [...path, 'mmio-write'];
      const target = accessTarget({ bar: write.bar, ...(write.offset === undefined ? {} : { offset: write.offset }) }, where, ctx, check);
      const by = write.by ?? 'host';
      check.known(by, ctx.principals, [...where, 'by'], 'principal');
      const size = write.size ?? 4;
      if (size !== 4 && size !== 8) check.error([...where, 'size'], `MMIO stores here are 4 or 8 bytes, not ${size}`, 'bad-size');
      if (!('bar' in target)) return null;
      return { ...base, kind: 'mmio-write', target, value: check.quantity(write.value, [...where, 'value'], 'value'), size, by };
    }
    case 'wait':
      return { ...base, kind: 'wait', duration: check.duration(step.wait, [...path, 'wait'], 'wait') };
    default:
      return normalizeOwnershipStep(step, base, path, { ...ctx, domains, memory: ctx.machine.memory }, check);
  }
}

function knownFunction(id: string, ctx: Context, path: Path, check: Checker): boolean {
  const functions = ctx.multifunction.get(id);
  if (functions !== undefined) {
    check.error(path, `'${id}' is a multifunction device; name one of its functions: ${functions.join(', ')}`, 'multifunction-device');
    return false;
  }
  return check.known(id, ctx.functions.keys(), path, 'device');
}

function forgedId(text: string | undefined, path: Path, check: Checker): number | null {
  if (text === undefined) return null;
  const bdf = tryParseBdf(text);
  if (bdf === undefined) {
    check.error(path, `as: '${text}' is not a requester ID (write BB:DD.F, e.g. "05:00.0")`, 'bad-bdf');
    return null;
  }
  return requesterId(bdf.bus, bdf.device, bdf.fn);
}

function accessTarget(entry: StepEntry['write'], path: Path, ctx: Context, check: Checker): AccessTargetSpec {
  if (typeof entry !== 'object' || entry === null) return check.requestAddress(entry, path, 'address');
  const match = /^(.+)\.(?:bar)?(\d)$/.exec(entry.bar);
  const offset = entry.offset === undefined ? 0 : check.quantity(entry.offset, [...path, 'offset'], 'offset');
  if (!match) {
    check.error([...path, 'bar'], `bar: '${entry.bar}' must name DEVICE.N, e.g. "nvme.0"`, 'bad-bar-ref');
    return { address: 0 };
  }
  const [, device, index] = match;
  if (knownFunction(device!, ctx, [...path, 'bar'], check)) {
    const count = ctx.barCounts.get(device!) ?? 0;
    if (Number(index) >= count) check.error([...path, 'bar'], `'${device}' has ${count} BAR(s); there is no BAR ${index}`, 'bad-bar-ref');
  }
  return { bar: { device: device!, index: Number(index) }, offset };
}

function mapping(entry: { iova: unknown; to: string | number; size: unknown; perm: MappingSpec['perm'] }, path: Path, ctx: Context, check: Checker): MappingSpec {
  let to: MappingSpec['to'];
  const address = readQuantity(entry.to);
  // A number (or a string that reads as one, even too large) is a host-physical address; anything else names a region.
  if (address.ok || address.reason !== 'malformed') {
    to = { address: check.quantity(entry.to, [...path, 'to'], 'host-physical address') };
  } else {
    check.known(String(entry.to), ctx.machine.memory.map((m) => m.name), [...path, 'to'], 'memory region');
    to = { region: String(entry.to) };
  }
  const size = check.quantity(entry.size, [...path, 'size'], 'size');
  if (size === 0) check.error([...path, 'size'], 'a mapping needs a size above 0', 'bad-size');
  return { iova: check.quantity(entry.iova, [...path, 'iova'], 'IOVA'), to, size, perm: entry.perm };
}
