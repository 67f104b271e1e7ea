/**
 * Machine assembly: one variant's ScenarioSpec becomes a running machine —
 * the fabric, the IOMMU as the root complex's host bridge, the interrupt
 * hardware on the platform decode, domains with their contexts and
 * mappings, and every device's MSI/MSI-X set up the way Linux would. Beside
 * it: who owns what, and the grants the configuration intends (for verdicts).
 */
import { Kernel } from '../sim/kernel.ts';
import { Rng } from '../sim/rng.ts';
import { Trace } from '../sim/trace.ts';
import { compileFabric, type Fabric } from '../fabric/fabric.ts';
import type { FabricEvent } from '../fabric/events.ts';
import { Iommu } from '../iommu/iommu.ts';
import { MSI_IOVA_BASE } from '../iommu/config.ts';
import type { IommuEvent } from '../iommu/events.ts';
import type { InterruptEvent } from '../interrupts/events.ts';
import { GITS_TRANSLATER } from '../interrupts/gicv3-its.ts';
import { DEFAULT_ITS, DEFAULT_V2M, installArmMsi, installX86Interrupts, type ArmInterrupts, type X86Interrupts } from '../interrupts/install.ts';
import type { MsiSources } from '../interrupts/msi-source.ts';
import { DeviceControl } from '../policy/device-control.ts';
import { GrantLedger } from '../policy/grants.ts';
import { Ownership } from '../policy/ownership.ts';
import { HostRuntime } from './machine-host.ts';
import { installInterposers } from './interposers.ts';
import type { AccessTargetSpec, MappingSpec, ScenarioSpec } from './model.ts';

export type MachineEvent = FabricEvent | IommuEvent | InterruptEvent;

/** Offset of the doorbell register in a GICv2m frame (MSI_SETSPI_NS). */
const GICV2M_SETSPI = 0x40;

export interface Machine {
  readonly spec: ScenarioSpec;
  readonly kernel: Kernel;
  readonly trace: Trace<MachineEvent>;
  readonly rng: Rng;
  readonly fabric: Fabric;
  readonly iommu: Iommu | null;
  readonly x86: X86Interrupts | null;
  readonly arm: ArmInterrupts | null;
  readonly sources: MsiSources;
  readonly ownership: Ownership;
  /** Whose programming each device runs (hand-over, reset). */
  readonly control: DeviceControl;
  readonly grants: GrantLedger;
  /** Principals owning each domain's devices (who a mapping grants to). */
  readonly domainPrincipals: ReadonlyMap<string, readonly string[]>;
  /** The host software's view: domains, default domains, quarantine, bounce slots, boot phases. */
  readonly host: HostRuntime;
  /** The bus address a step's target names. */
  address(target: AccessTargetSpec): number;
  /** The host-physical address a mapping's `to:` names. */
  hpa(mapping: MappingSpec): number;
}

export function buildMachine(spec: ScenarioSpec, seed: number, options: { trace?: boolean } = {}): Machine {
  const kernel = new Kernel();
  const trace = new Trace<MachineEvent>(kernel, { enabled: options.trace ?? true });
  const fabric = compileFabric(spec.machine.fabric, kernel, trace);
  const m = spec.machine;
  const rng = new Rng(seed);
  fabric.randomize(rng, { arbitration: m.timing.arbitration === 'seeded', jitterNs: m.timing.jitterNs });
  const owners = new Map(m.functions.map((f) => [f.id, f.owner]));
  const regions = new Map(m.memory.map((r) => [r.name, r]));
  const hpa = (mapping: MappingSpec) => ('region' in mapping.to ? regions.get(mapping.to.region)!.base : mapping.to.address);

  const arm = m.msiController !== 'x86';
  const doorbellBase = m.msiDoorbell?.at ?? (m.msiController === 'gicv2m' ? DEFAULT_V2M : DEFAULT_ITS);
  const doorbell = doorbellBase + (m.msiController === 'gicv2m' ? GICV2M_SETSPI : GITS_TRANSLATER);
  const doorbellBeforeIommu = arm && (m.msiDoorbell?.beforeIommu ?? false);

  let iommu: Iommu | null = null;
  if (m.iommu.model !== 'none') {
    iommu = new Iommu(
      {
        model: m.iommu.model,
        dmaRemapping: m.iommu.dmaRemapping,
        invalidation: m.iommu.invalidation,
        flushTimeoutNs: m.iommu.flushTimeoutNs,
        flushQueueSize: m.iommu.flushQueueSize,
        iotlbCapacity: m.iommu.iotlbEntries,
        iotlbReplacement: m.iommu.iotlbReplacement,
        untranslated: doorbellBeforeIommu ? [{ base: doorbell - (doorbell % 4096), size: 4096 }] : [],
      },
      kernel,
      trace,
      rng,
    ).install(fabric);
  }

  const grants = new GrantLedger();
  const specs = new Map(m.functions.map((f) => [f.id, f]));
  const bars = [...fabric.functions.values()].flatMap((fn) => {
    const spec = specs.get(fn.id);
    return fn.bars.map((bar) => ({
      name: bar.name,
      base: bar.base,
      size: bar.size,
      owner: owners.get(fn.id) ?? 'host',
      fn: fn.id,
      regions: (spec?.barRegions ?? []).filter((r) => r.bar === bar.index),
    }));
  });
  const ownership = new Ownership(m.memory, bars, owners, kernel);
  const control = new DeviceControl(owners);
  ownership.actors = (id) => control.actor(id);
  fabric.attribution = ownership;
  if (spec.interposers !== undefined) installInterposers(fabric, spec.interposers, spec.attacker);
  // Devices absent at the start (present: false) wait for a hot-plug step with their link down.
  for (const f of m.functions) if (!f.present && !fabric.linkDown(f.id)) fabric.setLink(f.id, false);
  const host = new HostRuntime({ spec, fabric, iommu, grants, ownership, trace, hpa });
  host.translationBlocking();
  host.setUpDomains();
  host.initialTranslation();

  const devices = m.functions.map((f) => ({ id: f.id, owner: f.owner, msi: f.msi, msix: f.msix }));
  let x86: X86Interrupts | null = null;
  let armMsi: ArmInterrupts | null = null;
  if (!arm) {
    x86 = installX86Interrupts(
      fabric,
      {
        cpus: m.cpus,
        iommu: m.iommu.model,
        interruptRemapping: m.iommu.interruptRemapping,
        sourceIdValidation: m.iommu.sourceIdValidation,
        compatFormat: m.iommu.compatFormat,
        x2apic: m.iommu.x2apic,
        irTableSize: m.iommu.irTableSize,
        postedInterrupts: m.iommu.postedInterrupts,
        postedDescriptors: m.postedDescriptors,
        logicalModel: m.apicLogicalModel,
        sharedAmdTable: m.host === 'xen' && !m.xen.perDeviceIntremap,
      },
      devices,
      m.irtes,
      { trace },
    );
  } else {
    // With an SMMU translating MSIs, Linux maps the doorbell page into each device's domain (iommu_dma_prepare_msi).
    const translated = iommu !== null && m.iommu.dmaRemapping && !doorbellBeforeIommu;
    // Only paging domains get the doorbell mapped (below), so only their devices are told its IOVA.
    const paging = new Set(spec.domains.filter((d) => d.mode === 'paging').flatMap((d) => d.devices));
    armMsi = installArmMsi(
      fabric,
      { cpus: m.cpus, controller: m.msiController as 'gicv2m' | 'gicv3-its', doorbell: doorbellBase, msiIova: translated ? MSI_IOVA_BASE : null, msiIovaFor: (id) => paging.has(id) },
      devices,
      { trace },
    );
    if (translated) {
      for (const domain of spec.domains) {
        if (domain.mode === 'paging' && domain.devices.some((d) => devices.find((x) => x.id === d && (x.msi || x.msix)))) iommu!.mapMsiDoorbell(domain.name, doorbell);
      }
    }
  }

  return {
    spec,
    kernel,
    trace,
    rng,
    fabric,
    iommu,
    x86,
    arm: armMsi,
    sources: (x86 ?? armMsi)!.sources,
    ownership,
    control,
    grants,
    domainPrincipals: host.domainPrincipals,
    host,
    address(target) {
      if ('address' in target) return target.address;
      return fabric.fn(target.bar.device).bars[target.bar.index]!.base + target.offset;
    },
    hpa,
  };
}
