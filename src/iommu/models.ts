/**
 * Where the three IOMMUs differ, as data. Everything not listed here
 * (contexts per requester ID, 4 KiB page tables, the IOTLB, strict or
 * deferred invalidation) is shared. Fault codes live in faults.ts.
 */
import type { AddressRange } from '../pcie/range.ts';
import { AMD_HT_RESERVED, type IommuModel } from './config.ts';

export interface ModelProfile {
  readonly model: IommuModel;
  /**
   * How untranslated requests without PASID to FEEx_xxxxh are recognised as
   * interrupts: only single-DWORD writes (VT-d), any posted write (AMD-Vi),
   * or not at all (SMMUv3: MSIs are ordinary writes to a doorbell).
   */
  readonly interruptWindow: 'dword-write' | 'posted-write' | null;
  /** Untranslated ranges the IOMMU refuses outright (AMD HyperTransport). */
  readonly reserved: AddressRange | null;
  /** VT-d root entries exist per bus; a bus with none faults LRT.2 instead of LCT.2. */
  readonly rootEntries: boolean;
  /** Output addresses in FEEx_xxxxh are blocked after translation (VT-d LGN.4). */
  readonly blocksInterruptOutput: boolean;
  /**
   * An AT=translated request to FEEx_xxxxh: handled as an interrupt request
   * whatever AT says (AMD-Vi §2.1.4.2), an Unsupported Request (VT-d §3.15),
   * or an ordinary write decoded as it is (SMMUv3: no interrupt window).
   */
  readonly translatedInterruptWindow: 'interrupt' | 'unsupported-request' | 'decode';
  /** ATS translation requests to FEEx_xxxxh get the special answer S.1 (VT-d Table 30). */
  readonly atsInterruptWindow: boolean;
  /** ATS on a requester with no usable context: 'context' faults as not present, 'device-tlb' as device TLB disabled. */
  readonly atsWithoutContext: 'context' | 'device-tlb';
  /** An identity domain may still allow a device TLB (only AMD-Vi: DTE Mode 0 with I = 1). */
  readonly identityDeviceTlb: boolean;
  /** AT = translated while remapping is off: 'ur' (VT-d §4.2.1) or 'pass' (no translation agent). */
  readonly translatedWhenOff: 'ur' | 'pass';
  /** The context field that permits device TLBs, and the one that suppresses fault recording. */
  readonly deviceTlbField: string;
  readonly fpdField: string;
  readonly rules: ModelRules;
}

export interface ModelRules {
  readonly walk: string;
  readonly iotlb: string;
  readonly stale: string;
  readonly identity: string;
  readonly translated: string;
  readonly off: string;
  readonly offAts: string;
  readonly atsAnswer: string;
  readonly interruptWindow: string;
}

const VTD: ModelProfile = {
  model: 'vtd',
  interruptWindow: 'dword-write',
  reserved: null,
  rootEntries: true,
  blocksInterruptOutput: true,
  translatedInterruptWindow: 'unsupported-request',
  atsInterruptWindow: true,
  atsWithoutContext: 'context',
  identityDeviceTlb: false,
  translatedWhenOff: 'ur',
  deviceTlbField: 'context TT=01b',
  fpdField: 'context FPD',
  rules: {
    walk: 'VT-d 5.10 §3.4.2, §3.7: legacy-mode context → second-stage page walk',
    iotlb: 'VT-d 5.10 §6.2.4: translation from the IOTLB (tagged by domain ID, §6.2.1)',
    stale: 'VT-d 5.10 §3.7.1, §6.2.4: IOTLB entry used after its page-table entry was cleared, before invalidation (Linux deferred flush: dma-iommu.c queue_iova)',
    identity: 'VT-d 5.10 §3.9: pass-through context (TT=10b): output address = input address, no permission check',
    translated: 'VT-d 5.10 §4.2.5: translated request with TT=01b bypasses translation; the address is decoded as is',
    off: 'VT-d 5.10 §11.4.4.2 (GSTS.TES=0): DMA remapping off, the address is decoded as is',
    offAts: 'VT-d 5.10 §4.2.1: with remapping disabled (TES=0), requests with AT ≠ 00b are Unsupported Requests',
    atsAnswer: 'VT-d 5.10 §4.2.3: translation request answered from the context and second-stage tables (Table 30: faults answer R=W=0)',
    interruptWindow: 'VT-d 5.10 §3.15: single-DWORD write without PASID to FEEx_xxxxh is an interrupt request, not DMA-remapped',
  },
};

const AMD: ModelProfile = {
  model: 'amd-vi',
  interruptWindow: 'posted-write',
  reserved: AMD_HT_RESERVED,
  rootEntries: false,
  blocksInterruptOutput: false,
  translatedInterruptWindow: 'interrupt',
  atsInterruptWindow: false,
  atsWithoutContext: 'device-tlb',
  identityDeviceTlb: true,
  translatedWhenOff: 'pass',
  deviceTlbField: 'DTE.I',
  fpdField: 'DTE.SA',
  rules: {
    walk: 'AMD IOMMU spec 48882 §2.2.2-2.2.3: device table entry → I/O page table walk',
    iotlb: 'AMD IOMMU spec 48882: translation from the IOMMU TLB (tagged by DTE.DomainID)',
    stale: 'AMD IOMMU spec 48882 INVALIDATE_IOMMU_PAGES not yet issued: cached translation used after its PTE was cleared (Linux deferred flush: dma-iommu.c queue_iova)',
    identity: 'AMD IOMMU spec 48882 §2.2.2: DTE Mode = 0, translation disabled, access controlled by DTE.IR/IW (Linux identity domain)',
    translated: 'AMD IOMMU spec 48882: pretranslated request from a device with DTE.I = 1 is not translated',
    off: 'AMD IOMMU spec 48882 (IommuEn = 0): addresses are forwarded untranslated',
    offAts: 'AMD IOMMU spec 48882 (IommuEn = 0): no translation agent answers ATS translation requests (UR)',
    atsAnswer: 'AMD IOMMU spec 48882 §2.1.3.2: ATS translation request answered from the I/O page tables (faults answer R=W=0, no event)',
    interruptWindow: 'AMD IOMMU spec 48882 §2.1.4.2 and §2.2.5: a write to FEE0_0000h-FEEF_FFFFh goes to interrupt remapping, not address translation (translated or untranslated: AT is ignored)',
  },
};

const SMMU: ModelProfile = {
  model: 'smmuv3',
  interruptWindow: null,
  reserved: null,
  rootEntries: false,
  blocksInterruptOutput: false,
  translatedInterruptWindow: 'decode',
  atsInterruptWindow: false,
  atsWithoutContext: 'context',
  identityDeviceTlb: false,
  translatedWhenOff: 'pass',
  deviceTlbField: 'STE.EATS',
  fpdField: 'CD.R=0',
  rules: {
    walk: 'SMMUv3 (IHI 0070): STE → context descriptor → stage-1 table walk (Linux DMA domains use stage 1)',
    iotlb: 'SMMUv3 (IHI 0070): translation from the SMMU TLB (tagged by ASID/VMID)',
    stale: 'SMMUv3 (IHI 0070): TLB entry used before CMD_TLBI_NH_VA + CMD_SYNC (Linux deferred flush: dma-iommu.c queue_iova)',
    identity: 'SMMUv3 (IHI 0070) §5.2: STE.Config = bypass, the address is not translated (Linux arm_smmu_make_bypass_ste)',
    translated: 'SMMUv3 (IHI 0070) §3.9.1: translated transaction on a stream with STE.EATS = 1 skips translation',
    off: 'SMMUv3 (IHI 0070) SMMU_CR0.SMMUEN = 0 with SMMU_GBPA bypass: the address is not translated',
    offAts: 'SMMUv3 (IHI 0070) §3.9.1.2: with the SMMU disabled, ATS translation requests are answered UR',
    atsAnswer: 'SMMUv3 (IHI 0070) §3.9.1.1: ATS translation request answered from the stage-1 tables (faults answer R=W=0)',
    interruptWindow: 'SMMUv3 has no interrupt window: MSIs are translated writes to a doorbell (Linux iommu_dma_get_msi_page)',
  },
};

export const PROFILES: Record<IommuModel, ModelProfile> = { vtd: VTD, 'amd-vi': AMD, smmuv3: SMMU };

export const SHARED_RULES = {
  untranslatedRange: 'address consumed before translation (an MSI doorbell upstream of the IOMMU): decoded untranslated',
  crossesPage: 'PCIe 6.0 §2.2.7 and VT-d 5.10 §3.13: a request crossing a 4 KiB boundary is malformed; the platform blocks it',
  atsWrite: 'VT-d 5.10 §4.2.1 and PCIe 6.0 §10.2.2: a memory write with AT = translation request is an Unsupported Request',
  translatedWindowUr: 'VT-d 4.1 §3.15: translated requests with an address in the interrupt address range are treated as Unsupported Request (UR); they are neither DMA nor interrupts',
  zlrWindow: 'VT-d 5.10 §3.15: a zero-length read without PASID to FEEx_xxxxh bypasses remapping and completes (data obfuscated)',
  atsWindow: 'VT-d 5.10 §7.1.3 Table 30 S.1: translation request to FEEx_xxxxh answered W=U=1, R=0 (untranslated access only)',
  atsAddressWidth: 'VT-d 5.10 §7.1.3 Table 30 LGN.1.1: translation request beyond the address width answered R=W=U=S=0',
  scratchPage: 'Xen iommu=quarantine=scratch-page (xen/drivers/passthrough/vtd/iommu.c intel_iommu_quarantine_init, fill_qpt): every IOVA of a quarantined device maps to its own scratch page',
} as const;
