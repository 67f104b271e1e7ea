/**
 * The host software around the hardware, as it decides who holds what
 * over time: domains as Linux or Xen sets them up (untrusted devices get
 * strict DMA domains without ATS; RMRR and IVMD ranges mapped 1:1 where
 * the host honours them), default domains on probe, Xen's quarantine and
 * its scratch pages, swiotlb bounce slots, and the boot phases of DMA
 * protection. Ownership steps (ownership-steps.ts) act through it.
 */
import { Acs } from '../pcie/acs.ts';
import { dmaAliases } from '../fabric/aliases.ts';
import type { Fabric } from '../fabric/fabric.ts';
import type { Iommu } from '../iommu/iommu.ts';
import type { Domain } from '../iommu/domain.ts';
import { PAGE_SIZE } from '../iommu/config.ts';
import type { GrantLedger } from '../policy/grants.ts';
import type { Ownership } from '../policy/ownership.ts';
import { deviceResvRegions, directMappings, type ResvRegion } from '../policy/reserved-regions.ts';
import { defaultDomain, optInForcesIommu, thunderboltDmaProtection } from '../policy/untrusted.ts';
import type { TraceWriter, FabricEvent } from '../fabric/events.ts';
import { HOST, type MappingSpec, type ScenarioSpec } from './model.ts';

export class HostSetupError extends Error {
  readonly userFacing = true;
  readonly code = 'HOST_SETUP';
}

export interface HostParts {
  readonly spec: ScenarioSpec;
  readonly fabric: Fabric;
  readonly iommu: Iommu | null;
  readonly grants: GrantLedger;
  readonly ownership: Ownership;
  readonly trace: TraceWriter<FabricEvent>;
  readonly hpa: (mapping: MappingSpec) => number;
}

export interface HostAction {
  readonly device: string | null;
  readonly action: string;
  readonly rule: string;
}

export class HostRuntime {
  readonly untrusted: ReadonlySet<string>;
  /** Principals owning each domain's devices (who a mapping grants to); grows as devices join. */
  readonly domainPrincipals = new Map<string, string[]>();
  /** The OS turns DMA remapping on: intel_iommu=on, or forced by the DMAR platform opt-in (platform_optin_force_iommu). */
  readonly osTranslation: boolean;
  /** Whether the scenario walks the boot phases (it starts in the firmware). */
  readonly booting: boolean;
  /** With the IOMMU forced on despite intel_iommu=off, trusted devices default to identity (iommu_set_default_passthrough). */
  private readonly forcedOn: boolean;
  private nextScratch: number | null = null;
  private nextBounce = 0;
  /** Bounce slots by "domain@iova": the grant each one holds (its whole pages), ended whole at unmap. */
  readonly bounced = new Map<string, { readonly iova: number; readonly size: number }>();
  /** What the host did while the machine was built (before any step): ACS it set, the IOMMU it forced on. */
  readonly setup: HostAction[] = [];
  /** Actions of the step being performed, for its record (explain). */
  actions: HostAction[] = this.setup;
  currentStep = -1;

  constructor(private readonly m: HostParts) {
    const spec = m.spec.machine;
    this.untrusted = new Set(spec.functions.filter((f) => f.untrusted).map((f) => f.id));
    const external = spec.functions.some((f) => f.externalFacing);
    const forced = spec.iommu.model === 'vtd' && !spec.iommu.dmaRemapping && optInForcesIommu(spec.firmware.dmarOptIn, external);
    this.osTranslation = spec.iommu.dmaRemapping || forced;
    this.forcedOn = forced;
    this.booting = m.spec.steps.some((s) => s.kind === 'boot');
  }

  get spec(): ScenarioSpec {
    return this.m.spec;
  }

  get linux(): boolean {
    return this.m.spec.machine.host === 'linux';
  }

  /** Records one part of a host sequence (trace and the step's record). */
  act(device: string | null, action: string, rule: string): void {
    this.actions.push({ device, action, rule });
    if (this.m.trace.enabled) this.m.trace.emit({ type: 'host.action', step: this.currentStep, device, action, rule });
  }

  /**
   * pci_std_enable_acs: "Enable Translation Blocking for external devices
   * and noats" — Linux sets ACS TB on an external-facing or untrusted port
   * whose ACS capability implements it, on top of what the scenario lists.
   */
  translationBlocking(): void {
    for (const f of this.m.spec.machine.functions) {
      const fn = this.m.fabric.functions.get(f.id);
      if (fn === undefined || fn.acs === null || !(f.externalFacing || f.untrusted) || (fn.acs.cap & Acs.TB) === 0 || (fn.acs.ctl & Acs.TB) !== 0) continue;
      fn.acs.ctl |= Acs.TB;
      this.act(f.id, `ACS Translation Blocking enabled on ${f.externalFacing ? 'the external-facing' : 'an untrusted'} port ${f.id}`, 'Linux drivers/pci/pci.c pci_std_enable_acs (dev->external_facing || dev->untrusted)');
    }
  }

  /** The IOMMU's state at the start: the firmware's when the scenario boots, the OS's otherwise. */
  initialTranslation(): void {
    const iommu = this.m.iommu;
    if (iommu === null) return;
    if (this.booting) iommu.translation = this.m.spec.machine.firmware.dmaProtection === 'off' ? 'off' : 'firmware';
    else iommu.translation = this.osTranslation ? 'os' : 'off';
    if (this.booting) return;
    if (this.forcedOn) this.act(null, 'Intel-IOMMU force enabled due to platform opt in', 'Linux drivers/iommu/intel/iommu.c platform_optin_force_iommu (DMAR DMA_CTRL_PLATFORM_OPT_IN_FLAG and an external-facing port)');
    this.thunderboltFact();
  }

  /** Sets up every declared domain with the devices present at the start. */
  setUpDomains(): void {
    for (const domain of this.m.spec.domains) {
      const principals = [...new Set(domain.devices.map((d) => this.m.ownership.ownerOfFunctionAt(d, 0) ?? HOST))];
      this.domainPrincipals.set(domain.name, principals);
      for (const mapping of domain.map) this.m.grants.map(domain.name, principals, { iova: mapping.iova, hpa: this.m.hpa(mapping), size: mapping.size, perm: mapping.perm }, 0);
      if (this.m.iommu === null) continue;
      const d = this.createDomain(domain.name, domain.mode, domain.devices, domain.deviceTlb);
      for (const mapping of domain.map) this.m.iommu.map(d, mapping.iova, this.m.hpa(mapping), mapping.size, mapping.perm);
      for (const device of domain.devices) if (this.present(device)) this.attach(device, d);
    }
  }

  /**
   * A domain as the host creates it: strict invalidation when an untrusted
   * device is in it (iommu_get_default_domain_type never picks DMA_FQ for
   * one); an identity domain for an untrusted device is refused.
   */
  createDomain(name: string, mode: 'paging' | 'identity' | 'blocked', devices: readonly string[], deviceTlb: boolean, quarantine?: { scratchPage: number | null }, alwaysStrict = false): Domain {
    const untrusted = devices.filter((d) => this.untrusted.has(d));
    if (untrusted.length > 0 && mode === 'identity' && this.linux) {
      throw new HostSetupError(`domain '${name}': ${untrusted.join(', ')} is untrusted (below an external-facing port); Linux refuses it an identity domain ("Device is not trusted, but driver is overriding group … to identity, refusing to probe", iommu_get_default_domain_type)`);
    }
    const strict = untrusted.length > 0 || alwaysStrict ? { invalidation: 'strict' as const } : {};
    return this.m.iommu!.createDomain(name, mode, { deviceTlb, ...strict, ...(quarantine === undefined ? {} : { quarantine }) });
  }

  present(fnId: string): boolean {
    return !this.m.fabric.linkDown(fnId);
  }

  /**
   * Attaches every requester ID of the device to `domain`, with its
   * firmware ranges mapped 1:1 where the host honours them: Linux in DMA
   * (host) domains (iommu_create_device_direct_mappings), Xen in every
   * paging domain it gives the device (intel_iommu_assign_device,
   * intel_iommu_quarantine_init). Untrusted devices never get a device TLB
   * (pci_ats_supported).
   */
  attach(fnId: string, domain: Domain): void {
    const iommu = this.m.iommu;
    if (iommu === null) return;
    const options = this.untrusted.has(fnId) ? { deviceTlb: false } : {};
    for (const rid of dmaAliases(this.m.fabric, fnId)) iommu.attach(rid, domain, options);
    if (domain.mode !== 'paging') return;
    const honoured = this.linux ? this.hostDomain(domain.name) : true;
    if (!honoured) return;
    for (const region of directMappings(this.resvRegions(fnId))) this.mapDirect(domain, region);
  }

  detach(fnId: string): void {
    for (const rid of dmaAliases(this.m.fabric, fnId)) this.m.iommu?.detach(rid);
  }

  resvRegions(fnId: string): ResvRegion[] {
    const fn = this.m.spec.machine.functions.find((f) => f.id === fnId);
    if (fn === undefined) return [];
    return deviceResvRegions(this.m.spec.machine.iommu.model, fn, this.m.spec.machine.reserved);
  }

  /**
   * A domain Linux's DMA API uses for the host (a default domain, or one
   * for a device whose hostile firmware is the attacker), as opposed to a
   * VFIO user's domain (vfio_iommu_type1: no direct mappings, no bounce).
   */
  hostDomain(name: string): boolean {
    const principals = this.domainPrincipals.get(name) ?? [HOST];
    const spec = this.m.spec;
    return principals.every((p) => p === HOST || (spec.via === 'device' && p === spec.attacker));
  }

  /** A declared domain by name, or a fresh one the host creates (default, user, quarantine domains). */
  domainNamed(name: string, make: () => Domain): Domain {
    return this.m.iommu!.domains.get(name) ?? make();
  }

  /**
   * The group's default domain as Linux gives it on probe or release
   * (iommu_setup_default_domain): the kernel default (DMA, or identity with
   * iommu=pt — or when the IOMMU was forced on with intel_iommu=off),
   * always DMA and strict for an untrusted device.
   */
  defaultDomain(fnId: string): Domain {
    const name = `${fnId}.default`;
    const spec = this.m.spec.machine;
    const kind = defaultDomain(this.untrusted.has(fnId), this.forcedOn ? 'identity' : spec.kernel.defaultDomain, spec.iommu.invalidation === 'strict');
    return this.domainNamed(name, () => {
      this.domainPrincipals.set(name, [HOST]);
      const strict = kind.strict ? { invalidation: 'strict' as const } : {};
      return this.m.iommu!.createDomain(name, kind.mode, strict);
    });
  }

  /** The default domain, or null without an IOMMU. */
  defaultDomainIf(fnId: string): Domain | null {
    return this.m.iommu === null ? null : this.defaultDomain(fnId);
  }

  /**
   * A fresh domain for a principal's device (VFIO's type1 domain; Xen's
   * guest domain): paging, empty until the user maps; on Linux strict (an
   * IOMMU_DOMAIN_UNMANAGED domain has no flush queue: iommu_unmap syncs).
   */
  userDomain(fnId: string, principal: string): Domain | null {
    if (this.m.iommu === null) return null;
    const name = `${fnId}.${principal}`;
    return this.domainNamed(name, () => {
      this.domainPrincipals.set(name, [principal]);
      return this.createDomain(name, 'paging', [fnId], false, undefined, this.linux);
    });
  }

  /** Xen's hardware domain: a PV dom0 with all RAM mapped 1:1 (dom0-iommu passthrough=0, strict=0). */
  hardwareDomain(): Domain | null {
    if (this.m.iommu === null) return null;
    return this.domainNamed('xen.dom0', () => {
      this.domainPrincipals.set('xen.dom0', [HOST]);
      return this.m.iommu!.createDomain('xen.dom0', 'identity');
    });
  }

  /** A device's quarantine tables in dom_io (per device: pdev->arch.vtd.pgd_maddr), with or without a scratch page. */
  quarantineDomain(fnId: string, scratch: boolean): Domain | null {
    if (this.m.iommu === null) return null;
    const name = `${fnId}.quarantine`;
    return this.domainNamed(name, () => {
      this.domainPrincipals.set(name, [HOST]);
      return this.createDomain(name, 'paging', [fnId], false, { scratchPage: scratch ? this.scratchPage(fnId, this.m.fabric.kernel.now) : null });
    });
  }

  get forced(): boolean {
    return this.forcedOn;
  }

  /** The declared domain that lists the device, if any. */
  declaredDomainOf(fnId: string): Domain | null {
    const spec = this.m.spec.domains.find((d) => d.devices.includes(fnId));
    return spec === undefined ? null : (this.m.iommu?.domains.get(spec.name) ?? null);
  }

  /** Where a probed device goes: the domain the scenario lists it in, else its default domain. */
  probeDomain(fnId: string): Domain {
    return this.declaredDomainOf(fnId) ?? this.defaultDomain(fnId);
  }

  /** A device joins a domain's principals (grants follow it from now). */
  joinDomain(name: string, principal: string, time: number): void {
    const principals = this.domainPrincipals.get(name) ?? [];
    if (!principals.includes(principal)) {
      this.domainPrincipals.set(name, [...principals, principal]);
      this.m.grants.share(name, principal, time);
    }
  }

  /**
   * A page Xen sets aside as a quarantined device's scratch page: taken
   * from the top of the largest host memory region, one per device
   * (pdev->arch.leaf_mfn), holding nobody's data from now on.
   */
  scratchPage(fnId: string, time: number): number {
    if (this.nextScratch === null) {
      const host = this.m.spec.machine.memory.filter((r) => r.owner === HOST).sort((a, b) => b.size - a.size)[0];
      if (host === undefined) throw new HostSetupError(`quarantine=scratch-page needs host memory for the scratch page: the machine has no memory region owned by host`);
      this.nextScratch = host.base + host.size - PAGE_SIZE;
    }
    const page = this.nextScratch;
    this.nextScratch -= PAGE_SIZE;
    this.m.ownership.addSink({ base: page, size: PAGE_SIZE }, `${fnId} scratch page`, time);
    return page;
  }

  /**
   * A swiotlb slot for an untrusted device's unaligned buffer
   * (iommu_dma_map_swiotlb): whole pages of the bounce pool, first fit,
   * keeping the buffer's offset in its page; the padding is zeroed, so the
   * slot's pages hold nothing but this buffer.
   */
  bounceSlot(hpa: number, size: number): { readonly hpa: number; readonly base: number; readonly size: number } {
    const poolName = this.m.spec.machine.kernel.swiotlb;
    const pool = this.m.spec.machine.memory.find((r) => r.name === poolName);
    if (pool === undefined) {
      throw new HostSetupError('an untrusted device maps an unaligned buffer, which Linux bounces through swiotlb ("DMA bounce buffers are inactive, unable to map unaligned transaction" otherwise): name the bounce pool with machine.kernel.swiotlb');
    }
    const offset = hpa % PAGE_SIZE;
    const pages = Math.ceil((offset + size) / PAGE_SIZE);
    const base = pool.base + this.nextBounce;
    if (this.nextBounce + pages * PAGE_SIZE > pool.size) throw new HostSetupError(`the swiotlb pool '${pool.name}' is full`);
    this.nextBounce += pages * PAGE_SIZE;
    return { hpa: base + offset, base, size: pages * PAGE_SIZE };
  }

  /** Linux's boot and probe: Thunderbolt's iommu_dma_protection as nhi_check_iommu computes it. */
  thunderboltFact(): void {
    const spec = this.m.spec.machine;
    const external = spec.functions.some((f) => f.externalFacing);
    if (!external) return;
    const on = thunderboltDmaProtection(external, spec.firmware.dmarOptIn, this.osTranslation && this.m.iommu !== null);
    this.act(null, `thunderbolt iommu_dma_protection=${on ? 1 : 0}`, 'Linux drivers/thunderbolt/nhi.c nhi_check_iommu: an external-facing port whose IOMMU has IOMMU_CAP_PRE_BOOT_PROTECTION (dmar_platform_optin)');
  }

  private mapDirect(domain: Domain, region: ResvRegion): void {
    const iommu = this.m.iommu!;
    for (let page = region.base - (region.base % PAGE_SIZE); page < region.base + region.size; page += PAGE_SIZE) {
      if (domain.pages.get(page / PAGE_SIZE) !== undefined) continue;
      iommu.map(domain, page, page, PAGE_SIZE, region.perm);
    }
  }
}
