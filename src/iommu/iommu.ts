/**
 * The IOMMU as the root complex's host bridge: every memory request from
 * below passes through it (DESIGN.md §2). It owns the translation contexts
 * (one per requester ID as it arrives, i.e. after PCIe-to-PCI aliasing),
 * the domains they point to, the IOTLB, the deferred flush queues and the
 * fault log, and drives ATS invalidation of device TLBs. The per-TLP
 * decisions live in translate.ts; model differences in models.ts.
 */
import { dmaAliases } from '../fabric/aliases.ts';
import type { Fabric } from '../fabric/fabric.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { HostBridge, RootComplex } from '../fabric/root-complex.ts';
import { busOf, formatRid, type RequesterId } from '../pcie/bdf.ts';
import type { Rng } from '../sim/rng.ts';
import { RangeIndex, formatAddress, type AddressRange } from '../pcie/range.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { Kernel } from '../sim/kernel.ts';
import { Atc, type AtsInvalidateRequest } from './ats.ts';
import { IommuError, MSI_IOVA_BASE, PAGE_SIZE, resolveIommuConfig, type IommuConfig, type IommuConfigInput } from './config.ts';
import { DOMAIN_MODES, Domain, permName, type DomainMode, type DomainOptions, type PageMapping, type Perm } from './domain.ts';
import type { IommuEvent } from './events.ts';
import type { FaultRecord, FaultSpec, IommuAccess } from './faults.ts';
import { FlushQueue, type FlushTarget, type FlushTrigger } from './flush-queue.ts';
import { Iotlb } from './iotlb.ts';
import { PROFILES, type ModelProfile } from './models.ts';
import { TranslationPipeline } from './translate.ts';

export interface AttachOptions {
  /** Fault-processing disable: qualified faults are not recorded (VT-d FPD, AMD DTE.SA, SMMU CD.R=0); never stops blocking. */
  readonly faultProcessingDisable?: boolean;
  /**
   * False: this context may not use a device TLB even if its domain could
   * (Linux enables ATS only where pci_ats_supported(): never for untrusted
   * devices, so their context entry keeps TT=00b). Default: the domain's.
   */
  readonly deviceTlb?: boolean;
}

export interface IommuContext {
  readonly rid: RequesterId;
  readonly domain: Domain;
  readonly faultProcessingDisable: boolean;
  /** Whether translated and translation requests pass (VT-d context TT=01b, AMD DTE.I, SMMU STE.EATS). */
  readonly deviceTlb: boolean;
}

/**
 * Which tables the IOMMU translates with: the OS's (contexts and domains
 * as attached), the firmware's pre-boot tables (DMA blocked except buffers
 * its own drivers mapped, none of which a scenario's device holds), or
 * none (translation disabled: DMA decodes as is).
 */
export type TranslationState = 'os' | 'firmware' | 'off';

const TRACE_OFF: TraceWriter<IommuEvent> = { enabled: false, emit: () => 0 };

export class Iommu implements HostBridge, FlushTarget {
  readonly name: string;
  readonly config: IommuConfig;
  readonly profile: ModelProfile;
  readonly iotlb: Iotlb;
  readonly atc: Atc;
  /** Ranges consumed before translation. */
  readonly untranslated = new RangeIndex<AddressRange>();
  /** Input addresses at or above this fault (2^AGAW). */
  readonly addressLimit: number;
  readonly domains = new Map<string, Domain>();
  private readonly contextMap = new Map<RequesterId, IommuContext>();
  private readonly busesWithRootEntry = new Set<number>();
  private readonly flushQueues = new Map<Domain, FlushQueue>();
  private readonly faultLog: FaultRecord[] = [];
  private readonly pipeline: TranslationPipeline;
  private fabric: Fabric | null = null;
  private nextDomainId = 1;
  /** GCMD.TE and whose tables are in use; changes at boot phases (firmware → ExitBootServices → intel_iommu_init). */
  translation: TranslationState;

  constructor(
    config: IommuConfigInput,
    readonly kernel: Kernel,
    readonly trace: TraceWriter<IommuEvent> = TRACE_OFF,
    /** Seeded randomness for choices the hardware leaves open (random IOTLB replacement). */
    rng: Rng | null = null,
  ) {
    this.config = resolveIommuConfig(config);
    this.profile = PROFILES[this.config.model];
    this.name = `iommu:${this.config.model}`;
    if (this.config.iotlbReplacement === 'random' && rng === null) throw new IommuError('IOMMU_CONFIG', 'random IOTLB replacement needs the seeded RNG');
    const pick = this.config.iotlbReplacement === 'random' ? rng!.fork('iotlb') : null;
    this.iotlb = new Iotlb(this.config.iotlbCapacity, pick === null ? null : (size) => pick.int(size));
    this.atc = new Atc(kernel, trace);
    this.addressLimit = 2 ** this.config.addressWidth;
    for (const range of this.config.untranslated) {
      try {
        this.untranslated.add(range, range);
      } catch {
        throw new IommuError('IOMMU_CONFIG', `untranslated range at ${formatAddress(range.base)} is empty or overlaps another`);
      }
    }
    this.pipeline = new TranslationPipeline(this);
    this.translation = this.config.dmaRemapping ? 'os' : 'off';
  }

  /** Becomes the fabric's host bridge and starts watching ATS traffic. */
  install(fabric: Fabric): this {
    fabric.root.hostBridge = this;
    this.fabric = fabric;
    this.atc.install(fabric);
    return this;
  }

  upstreamRequest(tlp: Tlp, root: RootComplex): void {
    this.pipeline.handle(tlp, root);
  }

  /** The fault log: what the hardware recorded, in order. */
  get faults(): readonly FaultRecord[] {
    return this.faultLog;
  }

  get contexts(): ReadonlyMap<RequesterId, IommuContext> {
    return this.contextMap;
  }

  context(rid: RequesterId): IommuContext | undefined {
    return this.contextMap.get(rid);
  }

  /** What the page table of `rid`'s domain grants at `iova` now (the host's intent); undefined when nothing. */
  grantFor(rid: RequesterId, iova: number): PageMapping | undefined {
    return this.contextMap.get(rid)?.domain.lookup(iova);
  }

  /** What the IOTLB still holds for `iova` in a domain (may outlive the grant until invalidated). */
  iotlbLookup(domainRef: Domain | string, iova: number): PageMapping | undefined {
    const domain = this.resolve(domainRef);
    const page = Math.floor(iova / PAGE_SIZE);
    const entry = this.iotlb.peek(domain.id, page);
    if (entry === undefined) return undefined;
    return { iova: page * PAGE_SIZE, hpa: entry.hpaPage * PAGE_SIZE, perm: permName(entry.perm)! };
  }

  /** VT-d: whether the bus's root entry is present (set when Linux first attaches a device on it). */
  rootEntryPresent(bus: number): boolean {
    return this.busesWithRootEntry.has(bus);
  }

  createDomain(name: string, mode: DomainMode, options: DomainOptions = {}): Domain {
    if (this.domains.has(name)) throw new IommuError('IOMMU_DOMAIN', `a domain named '${name}' already exists`);
    if (!DOMAIN_MODES.includes(mode)) throw new IommuError('IOMMU_DOMAIN', `unknown domain mode '${String(mode)}' (expected ${DOMAIN_MODES.join(', ')})`);
    if (options.deviceTlb && mode === 'identity' && !this.profile.identityDeviceTlb) {
      throw new IommuError(
        'IOMMU_DOMAIN',
        `domain '${name}': ${this.config.model} cannot let an identity domain use a device TLB ` +
          (this.config.model === 'vtd' ? '(legacy pass-through TT=10b blocks ATS, VT-d §9.3)' : '(bypass STEs deny ATS as if EATS=0, SMMUv3 §3.9.1.1)') +
          '; use a paging domain',
      );
    }
    const domain = new Domain(this.nextDomainId++, name, mode, options.invalidation ?? this.config.invalidation, this, options);
    this.domains.set(name, domain);
    return domain;
  }

  domain(name: string): Domain {
    const domain = this.domains.get(name);
    if (domain === undefined) throw new IommuError('IOMMU_DOMAIN', `no domain named '${name}'`);
    return domain;
  }

  /** Points the context of `rid` at `domain`; leaving another domain flushes it (Linux intel_context_flush_present). */
  attach(rid: RequesterId, domainRef: Domain | string, options: AttachOptions = {}): void {
    const domain = this.resolve(domainRef);
    const previous = this.contextMap.get(rid);
    if (previous !== undefined && previous.domain !== domain) this.leave(previous);
    const faultProcessingDisable = options.faultProcessingDisable ?? false;
    const deviceTlb = domain.deviceTlb && (options.deviceTlb ?? true);
    this.contextMap.set(rid, { rid, domain, faultProcessingDisable, deviceTlb });
    domain.attached.add(rid);
    this.busesWithRootEntry.add(busOf(rid));
    if (this.trace.enabled) this.trace.emit({ type: 'iommu.attach', requester: formatRid(rid), domain: domain.name, faultProcessingDisable });
  }

  /** Clears the context of `rid` (not present). */
  detach(rid: RequesterId): void {
    const ctx = this.contextMap.get(rid);
    if (ctx === undefined) return;
    this.leave(ctx);
    this.contextMap.delete(rid);
    if (this.trace.enabled) this.trace.emit({ type: 'iommu.attach', requester: formatRid(rid), domain: null, faultProcessingDisable: false });
  }

  /** iommu_map: fills page-table entries for every 4 KiB page the range touches; returns the page count. */
  map(domainRef: Domain | string, iova: number, hpa: number, size: number, perm: Perm): number {
    const domain = this.resolve(domainRef);
    const pages = domain.map(iova, hpa, size, perm, this.config.addressWidth);
    if (this.trace.enabled) this.trace.emit({ type: 'iommu.map', domain: domain.name, iova, hpa, size, perm, pages });
    return pages;
  }

  /**
   * __iommu_dma_unmap: page-table entries are cleared now. Strict: the
   * IOTLB (and device TLBs) are invalidated before this returns
   * (iommu_iotlb_sync). Deferred: the invalidation waits in the domain's
   * flush queue (queue_iova). Returns how many mapped pages were cleared.
   */
  unmap(domainRef: Domain | string, iova: number, size: number): number {
    const domain = this.resolve(domainRef);
    const { first, count, unmapped } = domain.unmap(iova, size);
    const policy = domain.invalidation;
    if (this.trace.enabled) this.trace.emit({ type: 'iommu.unmap', domain: domain.name, iova, size, pages: count, invalidation: policy });
    if (policy === 'strict') {
      const dropped = this.iotlb.invalidatePages(domain.id, first, count);
      if (this.trace.enabled) {
        this.trace.emit({ type: 'iommu.invalidate', scope: 'page', domain: domain.name, iova: first * PAGE_SIZE, pages: count, dropped, cause: 'unmap' });
      }
      this.invalidateAts(domain, first * PAGE_SIZE, count * PAGE_SIZE);
    } else {
      this.flushQueueOf(domain).queue(first, count);
    }
    return unmapped;
  }

  /**
   * iommu_dma_get_msi_page: maps the 4 KiB page holding an MSI doorbell
   * write-only (IOMMU_WRITE | IOMMU_MMIO) at `iova` (default MSI_IOVA_BASE,
   * the SW_MSI window VFIO uses); returns the IOVA the device must write.
   */
  mapMsiDoorbell(domainRef: Domain | string, doorbell: number, iova = MSI_IOVA_BASE): number {
    if (iova % PAGE_SIZE !== 0) throw new IommuError('IOMMU_MAP', `MSI IOVA ${formatAddress(iova)} must be 4 KiB aligned`);
    const page = doorbell - (doorbell % PAGE_SIZE);
    this.map(domainRef, iova, page, PAGE_SIZE, 'w');
    return iova + (doorbell % PAGE_SIZE);
  }

  /** Explicit IOTLB invalidation: one domain (domain-selective) or everything (global). Returns entries dropped. */
  invalidateIotlb(domainRef?: Domain | string): number {
    const domain = domainRef === undefined ? null : this.resolve(domainRef);
    const dropped = domain === null ? this.iotlb.invalidateAll() : this.iotlb.invalidateDomain(domain.id);
    if (this.trace.enabled) {
      this.trace.emit({ type: 'iommu.invalidate', scope: domain === null ? 'global' : 'domain', domain: domain?.name ?? null, iova: null, pages: null, dropped, cause: 'explicit' });
    }
    return dropped;
  }

  /** Sends ATS invalidate-all requests to the device TLBs of one domain or of every domain. */
  invalidateDeviceTlbs(domainRef?: Domain | string): void {
    const domains = domainRef === undefined ? [...this.domains.values()] : [this.resolve(domainRef)];
    for (const domain of domains) this.invalidateAts(domain, null, null);
  }

  /** The deferred flush queue of a domain, if it has one. */
  flushQueue(domainRef: Domain | string): FlushQueue | undefined {
    return this.flushQueues.get(this.resolve(domainRef));
  }

  /** FlushTarget: fq_flush_iotlb → flush_iotlb_all for the domain, device TLBs included. */
  flushDomain(domain: Domain, trigger: FlushTrigger, queued: number, pages: number): void {
    if (this.trace.enabled) this.trace.emit({ type: 'iommu.flush', domain: domain.name, trigger, queued, pages });
    const dropped = this.iotlb.invalidateDomain(domain.id);
    if (this.trace.enabled) {
      this.trace.emit({ type: 'iommu.invalidate', scope: 'domain', domain: domain.name, iova: null, pages: null, dropped, cause: 'flush-queue' });
    }
    this.invalidateAts(domain, null, null);
  }

  /** Appends to the fault log (called by the translation pipeline). */
  recordFault(tlp: Tlp, spec: FaultSpec, access: IommuAccess, domain: Domain | null): void {
    this.faultLog.push({
      time: this.kernel.now,
      tlp: tlp.id,
      model: this.config.model,
      requesterId: tlp.requesterId,
      requester: formatRid(tlp.requesterId),
      address: tlp.address,
      access,
      at: tlp.at,
      code: spec.code!,
      name: spec.name,
      reason: spec.reason,
      domain: domain?.name ?? null,
    });
  }

  private resolve(domainRef: Domain | string): Domain {
    if (typeof domainRef === 'string') return this.domain(domainRef);
    if (domainRef.owner !== this) throw new IommuError('IOMMU_DOMAIN', `domain '${domainRef.name}' belongs to another IOMMU`);
    return domainRef;
  }

  private flushQueueOf(domain: Domain): FlushQueue {
    let queue = this.flushQueues.get(domain);
    if (queue === undefined) {
      queue = new FlushQueue(domain, this.config.flushQueueSize, this.config.flushTimeoutNs, this.kernel, this);
      this.flushQueues.set(domain, queue);
    }
    return queue;
  }

  private leave(ctx: IommuContext): void {
    const domain = ctx.domain;
    domain.attached.delete(ctx.rid);
    if (domain.mode !== 'paging') return;
    const dropped = this.iotlb.invalidateDomain(domain.id);
    if (this.trace.enabled) {
      this.trace.emit({ type: 'iommu.invalidate', scope: 'domain', domain: domain.name, iova: null, pages: null, dropped, cause: 'attach' });
    }
    if (ctx.deviceTlb) this.sendAtsInvalidate(ctx.rid, null, null);
  }

  /** VT-d §4.3, §6.5.2.5: device-TLB invalidation to every ATS function attached to the domain. */
  private invalidateAts(domain: Domain, iova: number | null, size: number | null): void {
    if (!domain.deviceTlb) return;
    for (const rid of domain.attached) this.sendAtsInvalidate(rid, iova, size);
  }

  private sendAtsInvalidate(rid: RequesterId, iova: number | null, size: number | null): void {
    const fabric = this.fabric;
    const fn = fabric?.byRid.get(rid);
    // ATS is a PCI Express capability: aliases and conventional PCI devices have no ATC.
    if (fabric === null || fn === undefined || (fn.kind !== 'endpoint' && fn.kind !== 'rciep')) return;
    const request: AtsInvalidateRequest = { kind: 'ats-invalidate', iova, size };
    const msg = fabric.hostIssue({ type: 'Msg', routing: 'by-id', targetId: rid, address: iova ?? 0, length: 0 });
    msg.attachment = request;
    if (this.trace.enabled) this.trace.emit({ type: 'ats.invalidate', tlp: msg.id, target: formatRid(rid), iova, size });
  }
}

/**
 * Attaches every requester ID the function's DMA may carry (its own and
 * each PCIe-to-PCI bridge alias above it, Linux pci_for_each_dma_alias;
 * VT-d 5.10 §3.12.1) to `domain`, on the domain's IOMMU. Returns the IDs.
 */
export function attachDevice(fabric: Fabric, fnId: string, domain: Domain, options: AttachOptions = {}): RequesterId[] {
  const iommu = domain.owner;
  if (!(iommu instanceof Iommu)) throw new IommuError('IOMMU_DOMAIN', `domain '${domain.name}' has no IOMMU`);
  const rids = dmaAliases(fabric, fnId);
  for (const rid of rids) iommu.attach(rid, domain, options);
  return rids;
}
