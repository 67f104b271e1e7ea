/**
 * The per-TLP path through the IOMMU, in the order the hardware applies it:
 * ranges consumed before translation; remapping off; ATS translation
 * requests; PASID (legacy mode has none); the x86 interrupt window and
 * AMD's reserved range; the context of the requester ID; then by domain
 * mode: blocked, identity, or a page walk through the IOTLB. Every TLP
 * leaves either ended (fault, block, completion) or handed to
 * `root.decode` with its host-physical address, which goes wherever it
 * decodes (memory, a platform target, a peer BAR: VT-d 5.10 §3.17).
 *
 * Hot path: no closures and no allocation except on faults and when
 * tracing; fault specs and rules are shared constants.
 */
import './reasons.ts';
import type { RootComplex } from '../fabric/root-complex.ts';
import { busOf, formatRid } from '../pcie/bdf.ts';
import { rangeContains } from '../pcie/range.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { AtsTranslationCompletion } from './ats.ts';
import { INTERRUPT_WINDOW, PAGE_SIZE } from './config.ts';
import { PERM_R, PERM_W, permName, type Domain } from './domain.ts';
import type { TranslationSource } from './events.ts';
import { faultSpec, type FaultCondition, type IommuAccess } from './faults.ts';
import type { Iommu, IommuContext } from './iommu.ts';
import { SHARED_RULES, type ModelProfile } from './models.ts';

const WINDOW_BASE = INTERRUPT_WINDOW.base;
const WINDOW_END = INTERRUPT_WINDOW.base + INTERRUPT_WINDOW.size;

function inInterruptWindow(address: number): boolean {
  return address >= WINDOW_BASE && address < WINDOW_END;
}

export class TranslationPipeline {
  private readonly profile: ModelProfile;

  constructor(private readonly iommu: Iommu) {
    this.profile = iommu.profile;
  }

  handle(tlp: Tlp, root: RootComplex): void {
    const iommu = this.iommu;
    const address = tlp.address;
    const at = tlp.at;
    if (at !== 'translation-request' && iommu.untranslated.size > 0 && iommu.untranslated.find(address) !== undefined) {
      return this.pass(tlp, root, address, null, null, 'untranslated-range', SHARED_RULES.untranslatedRange);
    }
    if (iommu.translation === 'off') return this.remappingOff(tlp, root);
    if (iommu.translation === 'firmware' && !(at === 'untranslated' && this.profile.interruptWindow !== null && inInterruptWindow(address))) {
      return this.fault(tlp, root, 'pre-boot-blocked', tlp.type === 'MemWr' ? 'write' : at === 'translation-request' ? 'translation-request' : 'read', null);
    }
    if (at === 'translation-request') return this.translationRequest(tlp, root);
    const access: IommuAccess = tlp.type === 'MemWr' ? 'write' : 'read';
    if (tlp.pasid !== null) return this.fault(tlp, root, 'pasid-unsupported', access, iommu.context(tlp.requesterId) ?? null);
    if (at === 'translated' && inInterruptWindow(address)) {
      // AMD-Vi §2.1.4.2: the interrupt range goes to interrupt remapping, "the transaction attribute of
      // pretranslated or untranslated is ignored"; VT-d §3.15: "Translated requests with an address in the
      // interrupt address range are treated as Unsupported Request (UR)".
      if (this.profile.translatedInterruptWindow === 'interrupt') return this.interruptWindow(tlp, root, access);
      if (this.profile.translatedInterruptWindow === 'unsupported-request') {
        root.note(tlp, 'translate', SHARED_RULES.translatedWindowUr);
        return root.finish(tlp, 'unsupported-request', 'iommu.translated-interrupt-range', SHARED_RULES.translatedWindowUr);
      }
    }
    if (at === 'untranslated') {
      if (this.profile.interruptWindow !== null && inInterruptWindow(address)) return this.interruptWindow(tlp, root, access);
      if (this.profile.reserved !== null && rangeContains(this.profile.reserved, address)) {
        return this.fault(tlp, root, 'reserved-range', access, iommu.context(tlp.requesterId) ?? null);
      }
    }
    if ((address % PAGE_SIZE) + (tlp.length > 0 ? tlp.length : 1) > PAGE_SIZE) {
      root.note(tlp, 'translate', SHARED_RULES.crossesPage);
      return root.finish(tlp, 'blocked', 'iommu.crosses-page', SHARED_RULES.crossesPage);
    }
    const ctx = iommu.context(tlp.requesterId);
    if (at === 'translated') return this.translated(tlp, root, ctx, access);
    if (ctx === undefined) return this.fault(tlp, root, this.notPresent(tlp), access, null);
    const domain = ctx.domain;
    if (domain.mode === 'blocked') return this.fault(tlp, root, 'blocked-domain', access, ctx);
    if (domain.mode === 'identity') return this.pass(tlp, root, address, domain, 'rw', 'identity', this.profile.rules.identity, access);
    this.walk(tlp, root, ctx, access);
  }

  /** Untranslated request through a paging domain: IOTLB, else page table; permissions; output checks. */
  private walk(tlp: Tlp, root: RootComplex, ctx: IommuContext, access: IommuAccess): void {
    const iommu = this.iommu;
    const domain = ctx.domain;
    const address = tlp.address;
    if (address >= iommu.addressLimit) return this.fault(tlp, root, 'address-width', access, ctx);
    const page = Math.floor(address / PAGE_SIZE);
    let hpaPage: number;
    let perm: number;
    let source: TranslationSource;
    const cached = iommu.iotlb.get(domain.id, page);
    if (cached !== undefined) {
      hpaPage = cached.hpaPage;
      perm = cached.perm;
      const current = domain.pages.get(page);
      source = current === undefined || current.hpaPage !== hpaPage || current.perm !== perm ? 'stale-iotlb' : 'iotlb';
    } else {
      const entry = domain.pages.get(page);
      if (entry === undefined) return domain.quarantine === null ? this.fault(tlp, root, 'no-mapping', access, ctx) : this.quarantined(tlp, root, ctx, access);
      hpaPage = entry.hpaPage;
      perm = entry.perm;
      source = 'walk';
      iommu.iotlb.insert(domain.id, page, hpaPage, perm, iommu.kernel.now);
    }
    if ((perm & (access === 'write' ? PERM_W : PERM_R)) === 0) {
      return this.fault(tlp, root, access === 'write' ? 'write-denied' : 'read-denied', access, ctx);
    }
    const hpa = hpaPage * PAGE_SIZE + (address % PAGE_SIZE);
    if (this.profile.blocksInterruptOutput && inInterruptWindow(hpa)) return this.fault(tlp, root, 'interrupt-range-output', access, ctx);
    const rules = this.profile.rules;
    const rule = source === 'walk' ? rules.walk : source === 'iotlb' ? rules.iotlb : rules.stale;
    this.pass(tlp, root, hpa, domain, permName(perm), source, rule, access);
  }

  /**
   * A quarantined device's DMA (Xen iommu=quarantine, XSA-302): its
   * quarantine tables hold only its RMRRs; anything else faults (basic) or
   * lands in its scratch page (scratch-page: intel_iommu_quarantine_init
   * fill_qpt points every level at one page).
   */
  private quarantined(tlp: Tlp, root: RootComplex, ctx: IommuContext, access: IommuAccess): void {
    const q = ctx.domain.quarantine!;
    if (q.scratchPage === null) return this.fault(tlp, root, 'quarantined', access, ctx);
    this.pass(tlp, root, q.scratchPage + (tlp.address % PAGE_SIZE), ctx.domain, 'rw', 'quarantine-scratch', SHARED_RULES.scratchPage, access);
  }

  /** AT = translated: passes untranslated when the context allows a device TLB (VT-d §4.2.5). */
  private translated(tlp: Tlp, root: RootComplex, ctx: IommuContext | undefined, access: IommuAccess): void {
    if (ctx === undefined || ctx.domain.mode === 'blocked') {
      const condition: FaultCondition =
        this.profile.atsWithoutContext === 'device-tlb' ? 'translated-request-blocked' : ctx === undefined ? this.notPresent(tlp) : 'blocked-domain';
      return this.fault(tlp, root, condition, access, ctx ?? null);
    }
    if (!ctx.deviceTlb) return this.fault(tlp, root, 'translated-request-blocked', access, ctx);
    this.pass(tlp, root, tlp.address, ctx.domain, null, 'translated', this.profile.rules.translated, access);
  }

  /** FEEx_xxxxh without PASID, untranslated (VT-d 5.10 §3.15; AMD-Vi interrupt requests, translated or not). */
  private interruptWindow(tlp: Tlp, root: RootComplex, access: IommuAccess): void {
    const rule = this.profile.rules.interruptWindow;
    if (tlp.type === 'MemWr' && (this.profile.interruptWindow === 'posted-write' || tlp.length === 4)) {
      return this.pass(tlp, root, tlp.address, null, null, 'interrupt-window', rule, access);
    }
    if (tlp.type === 'MemRd' && tlp.length === 0 && this.profile.interruptWindow === 'dword-write') {
      root.note(tlp, 'translate', SHARED_RULES.zlrWindow);
      root.completeRequest(tlp, 'iommu.zlr-interrupt-range', SHARED_RULES.zlrWindow, null, 0);
      return;
    }
    this.fault(tlp, root, 'interrupt-range-illegal', access, this.iommu.context(tlp.requesterId) ?? null);
  }

  /** ATS translation request (VT-d 5.10 §4.2.3): answered from the tables, or refused. */
  private translationRequest(tlp: Tlp, root: RootComplex): void {
    if (tlp.type !== 'MemRd') {
      root.note(tlp, 'translate', SHARED_RULES.atsWrite);
      return root.finish(tlp, 'unsupported-request', 'ats.malformed', SHARED_RULES.atsWrite);
    }
    const access: IommuAccess = 'translation-request';
    const iommu = this.iommu;
    const ctx = iommu.context(tlp.requesterId);
    if (tlp.pasid !== null) return this.fault(tlp, root, 'pasid-unsupported', access, ctx ?? null);
    if (ctx === undefined || ctx.domain.mode === 'blocked') {
      const condition: FaultCondition =
        this.profile.atsWithoutContext === 'device-tlb' ? 'translation-request-blocked' : ctx === undefined ? this.notPresent(tlp) : 'blocked-domain';
      return this.fault(tlp, root, condition, access, ctx ?? null);
    }
    const domain = ctx.domain;
    if (!ctx.deviceTlb) return this.fault(tlp, root, 'translation-request-blocked', access, ctx);
    const iova = tlp.address - (tlp.address % PAGE_SIZE);
    if (this.profile.atsInterruptWindow && inInterruptWindow(iova)) {
      return this.answer(tlp, root, domain, iova, iova, false, true, true, false, SHARED_RULES.atsWindow);
    }
    if (iova >= iommu.addressLimit) return this.answer(tlp, root, domain, iova, 0, false, false, false, false, SHARED_RULES.atsAddressWidth);
    if (domain.mode === 'identity') return this.answer(tlp, root, domain, iova, iova, true, true, false, false, this.profile.rules.identity);
    const page = iova / PAGE_SIZE;
    let hpaPage = 0;
    let perm = 0;
    let stale = false;
    const cached = iommu.iotlb.get(domain.id, page);
    const current = domain.pages.get(page);
    if (cached !== undefined) {
      hpaPage = cached.hpaPage;
      perm = cached.perm;
      stale = current === undefined || current.hpaPage !== hpaPage || current.perm !== perm;
    } else if (current !== undefined) {
      hpaPage = current.hpaPage;
      perm = current.perm;
      iommu.iotlb.insert(domain.id, page, hpaPage, perm, iommu.kernel.now);
    }
    const hpa = hpaPage * PAGE_SIZE;
    if (perm !== 0 && this.profile.blocksInterruptOutput && inInterruptWindow(hpa)) {
      return this.fault(tlp, root, 'interrupt-range-output', access, ctx);
    }
    const rule = stale ? `${this.profile.rules.atsAnswer}; ${this.profile.rules.stale}` : this.profile.rules.atsAnswer;
    this.answer(tlp, root, domain, iova, hpa, (perm & PERM_R) !== 0, (perm & PERM_W) !== 0, false, stale, rule);
  }

  /** DMA remapping off: untranslated requests decode as is; ATS per the model. */
  private remappingOff(tlp: Tlp, root: RootComplex): void {
    const rules = this.profile.rules;
    if (tlp.at === 'translation-request' || (tlp.at === 'translated' && this.profile.translatedWhenOff === 'ur')) {
      root.note(tlp, 'translate', rules.offAts);
      return root.finish(tlp, 'unsupported-request', 'iommu.remapping-disabled', rules.offAts);
    }
    this.pass(tlp, root, tlp.address, null, null, 'remapping-off', rules.off, tlp.type === 'MemWr' ? 'write' : 'read');
  }

  /** VT-d: a bus whose root entry was never set faults LRT.2; otherwise the context is not present. */
  private notPresent(tlp: Tlp): FaultCondition {
    return this.profile.rootEntries && !this.iommu.rootEntryPresent(busOf(tlp.requesterId)) ? 'root-not-present' : 'context-not-present';
  }

  private pass(
    tlp: Tlp,
    root: RootComplex,
    hpa: number,
    domain: Domain | null,
    perm: ReturnType<typeof permName>,
    source: TranslationSource,
    rule: string,
    access: IommuAccess = tlp.type === 'MemWr' ? 'write' : 'read',
  ): void {
    const trace = this.iommu.trace;
    if (trace.enabled) {
      trace.emit({
        type: 'iommu.translate',
        tlp: tlp.id,
        model: this.iommu.config.model,
        requester: formatRid(tlp.requesterId),
        access,
        iova: tlp.address,
        hpa,
        domain: domain === null ? null : domain.name,
        perm,
        source,
        stale: source === 'stale-iotlb',
      });
      root.note(tlp, 'translate', rule, `${source} → 0x${hpa.toString(16)}`);
    }
    root.decode(tlp, hpa, rule);
  }

  private answer(
    tlp: Tlp,
    root: RootComplex,
    domain: Domain,
    iova: number,
    hpa: number,
    read: boolean,
    write: boolean,
    untranslatedOnly: boolean,
    stale: boolean,
    rule: string,
  ): void {
    const completion: AtsTranslationCompletion = { kind: 'ats-translation', iova, hpa, size: PAGE_SIZE, read, write, untranslatedOnly, domain: domain.name, stale };
    const trace = this.iommu.trace;
    if (trace.enabled) {
      trace.emit({ type: 'ats.translate', tlp: tlp.id, requester: formatRid(tlp.requesterId), iova, hpa, read, write, untranslatedOnly, domain: domain.name, stale });
    }
    root.note(tlp, 'translate', rule);
    root.completeRequest(tlp, 'ats.translated', rule, completion);
  }

  private fault(tlp: Tlp, root: RootComplex, condition: FaultCondition, access: IommuAccess, ctx: IommuContext | null): void {
    const iommu = this.iommu;
    const spec = faultSpec(iommu.config.model, condition, access);
    const domain = ctx === null ? null : ctx.domain;
    const recorded = spec.code !== null && !(spec.qualified && ctx !== null && ctx.faultProcessingDisable);
    if (recorded) iommu.recordFault(tlp, spec, access, domain);
    const trace = iommu.trace;
    if (trace.enabled) {
      trace.emit({
        type: 'iommu.fault',
        tlp: tlp.id,
        model: iommu.config.model,
        requester: formatRid(tlp.requesterId),
        access,
        iova: tlp.address,
        domain: domain === null ? null : domain.name,
        reason: spec.reason,
        code: spec.code,
        name: spec.name,
        recorded,
      });
    }
    root.note(tlp, 'translate', spec.rule, spec.name);
    root.finish(tlp, 'faulted', spec.reason, spec.rule, null, spec.code);
  }
}
