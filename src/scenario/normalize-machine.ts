/**
 * Semantic pass over `machine:`: units, ACS lists, BDFs, MSI/MSI-X, owners,
 * and the topology itself (enumeration errors are mapped back to the device
 * entry and field they concern).
 */
import { formatRange, rangesOverlap } from '../pcie/range.ts';
import { enumerate, type Enumeration } from '../fabric/enumerate.ts';
import { DEFAULT_FABRIC, TopologyError, type BarConfig, type FunctionConfig, type FunctionKind } from '../fabric/topology.ts';
import type { Checker } from './checker.ts';
import { acsOf } from './normalize-acs.ts';
import { normalizeIrte, normalizePostedDescriptors } from './normalize-interrupts.ts';
import { classCodeOf, normalizeHostMachine, type FunctionBase } from './normalize-ownership.ts';
import { sriovOf, virtualFunctionEntries } from './normalize-sriov.ts';
import { HOST, type FunctionSpec, type IommuSpec, type MachineSpec, type MemorySpec } from './model.ts';
import type { BarEntry, DeviceEntry, FunctionEntry, ScenarioFile } from './schema.ts';
import type { Path } from './source.ts';
import { kernelModelOf, wireSilicon } from './silicon-wiring.ts';
import { parseQuantity, toggle } from './units.ts';

type MachineEntry = ScenarioFile['machine'];

export interface MachineResult {
  readonly machine: MachineSpec;
  readonly enumeration: Enumeration | null;
  /** Path of each function's entry (for later references). */
  readonly functionPaths: ReadonlyMap<string, Path>;
  readonly principals: ReadonlySet<string>;
}

export function normalizeMachine(entry: MachineEntry, check: Checker): MachineResult {
  const base: Path = ['machine'];
  const functions: FunctionConfig[] = [];
  const specs: FunctionBase[] = [];
  const functionPaths = new Map<string, Path>();
  const devicePaths = new Map<string, Path>();
  const principals = new Set<string>([HOST]);
  const multifunction = new Map<string, string[]>();
  const honours = new Map<string, { honoured: boolean; path: Path }>();
  const noteHardware = (id: string, hardware: DeviceEntry['hardware'], path: Path) => {
    if (hardware?.['honours-quirk'] !== undefined) honours.set(id, { honoured: toggle(hardware['honours-quirk'], true), path: [...path, 'hardware', 'honours-quirk'] });
  };
  // A PF's VFs are functions too: addressable by id, with owners, drivers and interrupts of their own.
  const addVirtualFunctions = (pf: DeviceEntry | FunctionEntry, path: Path, device: string, owner: string | undefined) => {
    for (const vf of virtualFunctionEntries(pf, path)) {
      if (functionPaths.has(vf.entry.id) || devicePaths.has(vf.entry.id)) check.error(vf.path, `duplicate device id '${vf.entry.id}' (a VF of '${pf.id}')`, 'duplicate-id');
      functionPaths.set(vf.entry.id, vf.path);
      specs.push(functionSpec(vf.entry, device, vf.entry.owner ?? owner, vf.path, check, principals));
    }
  };

  entry.devices.forEach((device, i) => {
    const path: Path = [...base, 'devices', i];
    if (devicePaths.has(device.id) || functionPaths.has(device.id)) check.error([...path, 'id'], `duplicate device id '${device.id}'`, 'duplicate-id');
    devicePaths.set(device.id, path);
    const pinned = device.bdf === undefined ? undefined : check.bdf(device.bdf, [...path, 'bdf']);
    if (device.functions !== undefined) {
      for (const key of ['bars', 'msi', 'msix', 'acs', 'ats', 'driver', 'ids', 'class', 'revision'] as const) {
        if (device[key] !== undefined) check.error([...path, key], `'${key}' belongs on each function of multifunction device '${device.id}', not on the device`, 'misplaced-key', true);
      }
      if (!['endpoint', 'rciep', 'pci-device'].includes(device.type)) {
        check.error([...path, 'functions'], `only endpoints, RCiEPs and conventional PCI devices are modelled as multifunction, not a ${device.type}`, 'bad-functions', true);
      }
      multifunction.set(device.id, device.functions.map((f) => f.id));
      device.functions.forEach((fn, j) => {
        const fnPath: Path = [...path, 'functions', j];
        if (functionPaths.has(fn.id) || devicePaths.has(fn.id)) check.error([...fnPath, 'id'], `duplicate device id '${fn.id}'`, 'duplicate-id');
        functionPaths.set(fn.id, fnPath);
        const bdf = pinned === undefined ? undefined : { bus: pinned.bus, device: pinned.device, fn: fn.fn ?? j };
        functions.push(functionConfig(device, fn, fnPath, check, { package: device.id, bdf }));
        specs.push(functionSpec(fn, device.id, fn.owner ?? device.owner, fnPath, check, principals));
        noteHardware(fn.id, fn.hardware ?? device.hardware, fn.hardware ? fnPath : path);
        addVirtualFunctions(fn, fnPath, device.id, fn.owner ?? device.owner);
      });
    } else {
      functionPaths.set(device.id, path);
      functions.push(functionConfig(device, device, path, check, { bdf: pinned }));
      specs.push(functionSpec(device, device.id, device.owner, path, check, principals));
      noteHardware(device.id, device.hardware, path);
      addVirtualFunctions(device, path, device.id, device.owner);
    }
  });

  checkParents(entry.devices, devicePaths, multifunction, check);
  const memory = normalizeMemory(entry, check, principals);
  const fabric: MachineSpec['fabric'] & { functions: readonly FunctionConfig[] } = {
    ...DEFAULT_FABRIC,
    hopLatency: entry['hop-latency'] === undefined ? DEFAULT_FABRIC.hopLatency : check.duration(entry['hop-latency'], [...base, 'hop-latency'], 'hop latency'),
    functions,
    memory: memory.map(({ name, base: b, size }) => ({ name, base: b, size })),
  };
  const enumeration = check.failed ? null : enumerateChecked(fabric, memory, functionPaths, entry, check);
  const arm = entry['msi-controller'] === 'gicv2m' || entry['msi-controller'] === 'gicv3-its';
  const iommu = normalizeIommu(entry, arm, check);
  const kernel = normalizeKernel(entry, check);
  if (enumeration !== null) fabric.functions = wireSilicon(enumeration, functions, honours, kernelModelOf(kernel), check);
  const postedDescriptors = normalizePostedDescriptors(entry, check, principals);
  const irtes = (entry.irtes ?? []).map((irte, i) => normalizeIrte(irte, [...base, 'irtes', i], { tableSize: iommu.irTableSize, descriptors: postedDescriptors }, check, principals));
  const host = normalizeHostMachine(entry, specs, functions, memory, iommu.model, check);
  const doorbell = entry['msi-doorbell'];
  if (doorbell !== undefined && !arm) check.error([...base, 'msi-doorbell'], `'msi-doorbell' places an ARM MSI doorbell; this machine's msi-controller is x86`, 'misplaced-key', true);
  const cpus = entry.cpus ?? 4;
  // xAPIC destinations are 8 bits with 0xff broadcast (Intel SDM vol. 3 §11.6.2.1): 255 CPUs; x2APIC up to Linux's NR_CPUS limit (arch/x86/Kconfig NR_CPUS_RANGE_END, 8192).
  const maxCpus = iommu.x2apic ? 8192 : 255;
  if (cpus < 1 || cpus > maxCpus) check.error([...base, 'cpus'], `cpus is ${cpus}: a machine has 1 to ${maxCpus} CPUs${iommu.x2apic ? '' : ' in xAPIC mode (more need machine.iommu.x2apic: on)'}`, 'bad-cpus');
  return {
    machine: {
      cpus,
      iommu,
      msiController: entry['msi-controller'] ?? 'x86',
      msiDoorbell:
        doorbell === undefined ? null : { at: check.quantity(doorbell.at, [...base, 'msi-doorbell', 'at'], 'doorbell address'), beforeIommu: toggle(doorbell['before-iommu'], false) },
      kernel: { ...kernel, ...host.kernel },
      fabric,
      timing: {
        arbitration: entry.fabric?.arbitration ?? 'fifo',
        jitterNs: entry.fabric?.jitter === undefined ? 0 : check.duration(entry.fabric.jitter, [...base, 'fabric', 'jitter'], 'link jitter'),
      },
      functions: host.functions,
      memory,
      irtes,
      postedDescriptors,
      apicLogicalModel: entry['apic-logical-model'] ?? 'flat',
      ...host.host,
    },
    enumeration,
    functionPaths,
    principals,
  };
}

function functionConfig(
  device: DeviceEntry,
  fn: DeviceEntry | FunctionEntry,
  path: Path,
  check: Checker,
  extra: { package?: string; bdf?: { bus: number; device: number; fn: number } | undefined },
): FunctionConfig {
  const kind = device.type as FunctionKind;
  const acs = fn.acs === undefined ? undefined : acsOf(fn.acs, kind, [...path, 'acs'], check);
  const ids = fn.ids === undefined ? undefined : idsOf(fn, path, check);
  const sriov = sriovOf(fn, kind, ids, [...path, 'sriov'], check, (bar, where) => barOf(bar, where, check));
  return {
    id: fn.id,
    kind,
    ...(device.parent === undefined ? {} : { parent: device.parent }),
    ...(extra.bdf === undefined ? {} : { bdf: extra.bdf }),
    ...(extra.package === undefined ? {} : { package: extra.package }),
    bars: (fn.bars ?? []).map((bar, i) => barOf(bar, [...path, 'bars', i], check)),
    ...(acs === undefined ? {} : { acs }),
    ...(ids === undefined ? {} : { ids }),
    ...(device.latency === undefined ? {} : { latency: check.duration(device.latency, [...path, 'latency'], 'latency') }),
    ...(device['port-number'] === undefined ? {} : { portNumber: device['port-number'] }),
    ...(sriov === undefined ? {} : { sriov }),
  };
}

function idsOf(fn: DeviceEntry | FunctionEntry, path: Path, check: Checker): FunctionConfig['ids'] {
  const match = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(fn.ids!);
  if (!match) {
    check.error([...path, 'ids'], `ids '${fn.ids}' must be "vendor:device" in hex, e.g. "8086:a110"`, 'bad-ids');
    return undefined;
  }
  const classCode = classCodeOf(fn.class, [...path, 'class'], null); // reported by normalizeHostMachine
  if (fn.revision !== undefined && (fn.revision < 0 || fn.revision > 0xff)) check.error([...path, 'revision'], `a revision ID is one byte, not ${fn.revision}`, 'bad-ids');
  return {
    vendor: parseInt(match[1]!, 16),
    device: parseInt(match[2]!, 16),
    ...(classCode === undefined ? {} : { class: classCode }),
    ...(fn.revision === undefined ? {} : { revision: fn.revision }),
  };
}

function barOf(entry: BarEntry, path: Path, check: Checker): BarConfig {
  if (typeof entry !== 'object') return { size: check.quantity(entry, path, 'BAR size') };
  return {
    size: check.quantity(entry.size, [...path, 'size'], 'BAR size'),
    ...(entry.at === undefined ? {} : { at: check.quantity(entry.at, [...path, 'at'], 'BAR address') }),
    ...(entry.prefetch === undefined ? {} : { prefetch: entry.prefetch }),
    ...(entry.bits === undefined ? {} : { bits: entry.bits }),
  };
}

function functionSpec(fn: DeviceEntry | FunctionEntry, device: string, owner: string | undefined, path: Path, check: Checker, principals: Set<string>): FunctionBase {
  const bars = fn.bars ?? [];
  // Malformed sizes are reported by barOf; checks that need them are skipped (undefined).
  const barSize = (i: number): number | undefined => {
    const bar = bars[i];
    return bar === undefined ? 0 : parseQuantity(typeof bar === 'object' ? bar.size : bar);
  };
  let msi: FunctionSpec['msi'] = null;
  if (fn.msi !== undefined) {
    const vectors = typeof fn.msi === 'number' ? fn.msi : fn.msi.vectors;
    if (![1, 2, 4, 8, 16, 32].includes(vectors)) check.error([...path, 'msi'], `MSI supports 1, 2, 4, 8, 16 or 32 vectors (PCIe 6.0 §7.7.1.2 Multiple Message Capable), not ${vectors}`, 'bad-msi');
    const entry = typeof fn.msi === 'object' ? fn.msi : null;
    msi = { vectors, perVectorMask: entry?.['per-vector-mask'] === true, programmedBy: entry?.['programmed-by'] ?? 'host' };
  }
  let msix: FunctionSpec['msix'] = null;
  if (fn.msix !== undefined) {
    const entry = typeof fn.msix === 'number' ? { vectors: fn.msix } : fn.msix;
    const bar = 'bar' in entry && entry.bar !== undefined ? entry.bar : bars.length - 1;
    const offset = 'offset' in entry && entry.offset !== undefined ? check.quantity(entry.offset, [...path, 'msix', 'offset'], 'MSI-X table offset') : 0;
    if (entry.vectors < 1 || entry.vectors > 2048) check.error([...path, 'msix'], `MSI-X supports 1 to 2048 vectors (PCIe 6.0 §7.7.2.2), not ${entry.vectors}`, 'bad-msix');
    else if (bar < 0 || bar >= bars.length) check.error([...path, 'msix'], `the MSI-X table lives in a BAR, but '${fn.id}' has no BAR ${Math.max(bar, 0)}`, 'bad-msix');
    else if (offset % 8 !== 0 || offset + entry.vectors * 16 > (barSize(bar) ?? Infinity)) {
      check.error([...path, 'msix'], `an MSI-X table of ${entry.vectors} entries (16 bytes each) at offset ${offset} does not fit in BAR ${bar} (or is not QWORD aligned)`, 'bad-msix');
    }
    msix = { vectors: entry.vectors, bar, offset, programmedBy: ('programmed-by' in entry && entry['programmed-by']) || 'host' };
  }
  const functionOwner = owner ?? HOST;
  principals.add(functionOwner);
  const barRegions = bars.flatMap((bar, b) =>
    typeof bar === 'object' && bar.regions
      ? bar.regions.map((region, r) => {
          const where: Path = [...path, 'bars', b, 'regions', r];
          const offset = check.quantity(region.offset, [...where, 'offset'], 'region offset');
          const size = check.quantity(region.size, [...where, 'size'], 'region size');
          if (offset + size > (barSize(b) ?? Infinity)) check.error(where, `region ${offset}+${size} lies outside BAR ${b}`, 'bad-region');
          principals.add(region.owner);
          return { bar: b, name: region.name ?? `${fn.id}.bar${b}+${offset.toString(16)}`, offset, size, owner: region.owner };
        })
      : [],
  );
  return { id: fn.id, device, owner: functionOwner, driver: fn.driver ?? null, msi, msix, ats: fn.ats ?? false, barRegions };
}

function checkParents(devices: readonly DeviceEntry[], paths: Map<string, Path>, multifunction: Map<string, string[]>, check: Checker): void {
  const byParent = new Map<string, string[]>();
  devices.forEach((device, i) => {
    if (device.parent === undefined) return;
    if (multifunction.has(device.parent)) {
      check.error(['machine', 'devices', i, 'parent'], `'${device.parent}' is a multifunction endpoint, not a bridge: it cannot be a parent`, 'bad-parent');
      return;
    }
    if (!check.known(device.parent, paths.keys(), ['machine', 'devices', i, 'parent'], 'parent device', 'unknown-parent')) return;
    const list = byParent.get(device.parent) ?? [];
    list.push(device.id);
    byParent.set(device.parent, list);
    const parentType = devices.find((d) => d.id === device.parent)?.type;
    if (list.length > 1 && (parentType === 'root-port' || parentType === 'switch-downstream')) {
      check.error(
        ['machine', 'devices', i, 'parent'],
        `'${list[0]}' and '${device.id}' are both below '${device.parent}', but a PCIe link carries one device — make them functions: of one device`,
        'link-shared',
      );
    }
  });
}

function normalizeMemory(entry: MachineEntry, check: Checker, principals: Set<string>): MemorySpec[] {
  const memory: MemorySpec[] = [];
  entry.memory.forEach((region, i) => {
    const path: Path = ['machine', 'memory', i];
    const spec = { name: region.name, base: check.quantity(region.base, [...path, 'base'], 'memory base'), size: check.quantity(region.size, [...path, 'size'], 'memory size'), owner: region.owner };
    if (memory.some((m) => m.name === spec.name)) check.error([...path, 'name'], `duplicate memory region '${spec.name}'`, 'duplicate-memory');
    const clash = memory.find((m) => rangesOverlap(m, spec));
    if (clash && spec.size > 0) check.error([...path, 'base'], `memory '${spec.name}' ${formatRange(spec)} overlaps memory '${clash.name}' ${formatRange(clash)}`, 'overlapping-memory');
    principals.add(region.owner);
    memory.push(spec);
  });
  return memory;
}

/** Runs enumeration and maps topology errors back to the entries they concern. */
function enumerateChecked(fabric: MachineSpec['fabric'], memory: MemorySpec[], paths: Map<string, Path>, entry: MachineEntry, check: Checker): Enumeration | null {
  try {
    const enumeration = enumerate(fabric);
    for (const fn of enumeration.scanOrder) {
      for (const bar of fn.bars) {
        const clash = memory.find((m) => rangesOverlap(m, bar));
        if (clash) {
          check.error([...paths.get(fn.config.id)!, 'bars', bar.index], `BAR ${bar.index} of '${fn.config.id}' ${formatRange(bar)} overlaps memory '${clash.name}' ${formatRange(clash)}`, 'overlapping-memory');
        }
      }
    }
    return check.failed ? null : enumeration;
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    const path = paths.get(error.subject) ?? ['machine', 'memory', Math.max(0, entry.memory.findIndex((m) => m.name === error.subject))];
    const field = error.field === undefined ? [] : error.field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    check.error([...path, ...field], error.message, `topology-${error.code.toLowerCase().replace(/_/g, '-')}`);
    return null;
  }
}

function normalizeIommu(entry: MachineEntry, arm: boolean, check: Checker): IommuSpec {
  const iommu = entry.iommu ?? {};
  const model = iommu.model ?? (arm ? 'smmuv3' : 'vtd');
  if (arm && (model === 'vtd' || model === 'amd-vi')) check.error(['machine', 'iommu', 'model'], `an ARM machine (msi-controller ${entry['msi-controller']}) has an smmuv3 or none, not ${model}`, 'bad-iommu');
  if (!arm && model === 'smmuv3') check.error(['machine', 'iommu', 'model'], `an smmuv3 needs an ARM msi-controller (gicv2m or gicv3-its), not x86`, 'bad-iommu');
  const present = model !== 'none';
  return {
    model,
    dmaRemapping: present && toggle(iommu['dma-remapping'], true),
    // ARM has no interrupt remapping in the SMMU; the ITS isolates MSIs instead.
    interruptRemapping: present && !arm && toggle(iommu['interrupt-remapping'], true),
    sourceIdValidation: toggle(iommu['source-id-validation'], true),
    compatFormat: iommu['compat-format'] ?? 'blocked',
    x2apic: toggle(iommu.x2apic, false),
    invalidation: iommu.invalidation ?? 'strict',
    flushTimeoutNs: iommu['flush-timeout'] === undefined ? 10_000_000 : check.duration(iommu['flush-timeout'], ['machine', 'iommu', 'flush-timeout'], 'flush timeout'),
    flushQueueSize: iommu['flush-queue'] ?? 256,
    iotlbEntries: iommu['iotlb-entries'] ?? 512,
    iotlbReplacement: iommu['iotlb-replacement'] ?? 'lru',
    irTableSize: iommu['ir-table-size'] ?? 65536,
    postedInterrupts: present && !arm && toggle(iommu['posted-interrupts'], false),
  };
}

function normalizeKernel(entry: MachineEntry, check: Checker): Omit<MachineSpec['kernel'], 'defaultDomain' | 'swiotlb'> {
  const kernel = entry.kernel ?? {};
  const overrides = kernel['acs-override'] ?? [];
  overrides.forEach((option, i) => {
    if (!/^(downstream|multifunction|id:[0-9a-f]{4}:[0-9a-f]{4})$/i.test(option)) {
      check.error(['machine', 'kernel', 'acs-override', i], `pcie_acs_override takes downstream, multifunction or id:vvvv:dddd, not '${option}'`, 'bad-acs-override');
    }
  });
  return {
    acsOverride: overrides,
    unsafeInterrupts: toggle(kernel['unsafe-interrupts'], false),
    vfioViability: kernel['vfio-viability'] ?? 'enforced',
    groups: kernel.groups ?? 'classic',
  };
}

