/**
 * Fault conditions and how each model reports them. The condition (and the
 * TLP's reason, `iommu.<condition>`) is the same on every model; the code,
 * name and whether fault-processing-disable may suppress it follow the
 * model's own documents:
 * - VT-d 5.10 §7.1.3 Table 30 (non-recoverable fault reason codes, the
 *   "Qualified" column) and §5.1.4.1 Table 15 (fault 29h); the same numbers
 *   as QEMU VTD_FR_* and VirtualBox VTDATFAULT_*.
 * - AMD-Vi event log codes (AMD IOMMU spec 48882; Linux EVENT_TYPE_* in
 *   amd_iommu_types.h); DTE.SA suppresses IO_PAGE_FAULT only.
 * - SMMUv3 event IDs (IHI 0070 §7.3; Linux arm-smmu-v3.h); CD.R = 0 stops
 *   recording of translation and permission faults; an STE with
 *   Config = abort ends traffic with no event at all.
 */
import type { RequesterId } from '../pcie/bdf.ts';
import type { AddressType } from '../pcie/tlp.ts';
import { IommuError, type IommuModel } from './config.ts';

export type FaultCondition =
  | 'root-not-present'
  | 'context-not-present'
  | 'blocked-domain'
  | 'address-width'
  | 'no-mapping'
  | 'write-denied'
  | 'read-denied'
  | 'translation-request-blocked'
  | 'translated-request-blocked'
  | 'interrupt-range-output'
  | 'interrupt-range-illegal'
  | 'pasid-unsupported'
  | 'reserved-range'
  | 'quarantined'
  | 'pre-boot-blocked';

/** What a request asked for: DMA read or write, or an ATS translation. */
export type IommuAccess = 'read' | 'write' | 'translation-request';

export interface FaultSpec {
  /** Reason code / event ID; null when the hardware records nothing. */
  readonly code: number | null;
  /** The model's own name: "LCT.2", "IO_PAGE_FAULT", "F_PERMISSION". */
  readonly name: string;
  /** Stable TLP reason, the same on every model. */
  readonly reason: string;
  /** Suppressed from the log by the context's fault-processing-disable (VT-d FPD, AMD DTE.SA, SMMU CD.R=0). */
  readonly qualified: boolean;
  readonly rule: string;
}

/** One entry of the fault log (VT-d fault recording registers, AMD event log, SMMU event queue). */
export interface FaultRecord {
  readonly time: number;
  readonly tlp: number;
  readonly model: IommuModel;
  readonly requesterId: RequesterId;
  /** "03:00.0" */
  readonly requester: string;
  /** Address as the request carried it (IOVA for untranslated requests). */
  readonly address: number;
  readonly access: IommuAccess;
  readonly at: AddressType;
  readonly code: number;
  readonly name: string;
  readonly reason: string;
  readonly domain: string | null;
}

type Entry = FaultSpec | { readonly read: FaultSpec; readonly write: FaultSpec };
type Table = Partial<Record<FaultCondition, Entry>>;

function spec(condition: FaultCondition, code: number | null, name: string, qualified: boolean, rule: string): FaultSpec {
  return { code, name, reason: `iommu.${condition}`, qualified, rule };
}

const T30 = 'VT-d 5.10 §7.1.3 Table 30';

const VTD: Table = {
  'root-not-present': spec('root-not-present', 0x1, 'LRT.2', false, `${T30} LRT.2: root entry for the requester's bus not present (Linux allocates a bus's context table on first attach)`),
  'context-not-present': spec('context-not-present', 0x2, 'LCT.2', true, `${T30} LCT.2: context entry not present`),
  'blocked-domain': spec('blocked-domain', 0x2, 'LCT.2', true, `${T30} LCT.2: blocking domain (Linux device_block_translation clears the context entry)`),
  'address-width': spec('address-width', 0x4, 'LGN.1.1', true, `${T30} LGN.1.1: input address above 2^AGAW - 1`),
  'no-mapping': {
    read: spec('no-mapping', 0x6, 'LGN.3', true, `${T30} LGN.3: second-stage entry not present (R=W=0), read lacks read permission (QEMU vtd_iova_to_slpte)`),
    write: spec('no-mapping', 0x5, 'LGN.2', true, `${T30} LGN.2: second-stage entry not present (R=W=0), write lacks write permission (QEMU vtd_iova_to_slpte)`),
  },
  'write-denied': spec('write-denied', 0x5, 'LGN.2', true, `${T30} LGN.2 and §3.7.1: write to a page without write permission`),
  'read-denied': spec('read-denied', 0x6, 'LGN.3', true, `${T30} LGN.3 and §3.7.1: read from a page without read permission`),
  'translation-request-blocked': spec('translation-request-blocked', 0xd, 'LCT.5', true, `${T30} LCT.5 and §9.3: context TT ≠ 01b blocks translation requests (UR)`),
  'translated-request-blocked': spec('translated-request-blocked', 0xd, 'LCT.5', true, `${T30} LCT.5 and §4.2.5: context TT ≠ 01b blocks translated requests (UR)`),
  'interrupt-range-output': spec('interrupt-range-output', 0xe, 'LGN.4', true, `${T30} LGN.4 and §3.15: output address in the interrupt range FEEx_xxxxh`),
  'interrupt-range-illegal': spec('interrupt-range-illegal', 0x29, 'IR.29h', false, 'VT-d 5.10 §3.15 and §5.1.4.1 Table 15 (29h): read, atomic or non-DWORD write without PASID to FEEx_xxxxh is illegal (UR)'),
  'pasid-unsupported': spec('pasid-unsupported', 0x31, 'RTA.2', false, `${T30} RTA.2: legacy mode (TTM=00b) cannot process requests with PASID (UR)`),
  quarantined: spec('quarantined', 0x2, 'LCT.2', true, `${T30} LCT.2: Xen quarantine (iommu=quarantine): deassign_device moves the device to dom_io, whose context is cleared unless it has RMRRs (reassign_device_ownership, QUARANTINE_SKIP; XSA-302)`),
  'pre-boot-blocked': {
    read: spec('pre-boot-blocked', 0x6, 'LGN.3', true, `${T30} LGN.3: pre-boot DMA protection: the firmware's second-level tables map only the buffers its own drivers asked for (EDK2 IntelVTdDxe)`),
    write: spec('pre-boot-blocked', 0x5, 'LGN.2', true, `${T30} LGN.2: pre-boot DMA protection: the firmware's second-level tables map only the buffers its own drivers asked for (EDK2 IntelVTdDxe)`),
  },
};

const AMD_PF = 'AMD IOMMU spec 48882 IO_PAGE_FAULT event (DTE.SA suppresses it)';
const AMD_IDR = 'AMD IOMMU spec 48882 INVALID_DEVICE_REQUEST event';

const AMD: Table = {
  'root-not-present': spec('root-not-present', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: default DTE V=1 TV=1 IR=IW=0 (Linux init_device_table_dma)`),
  'context-not-present': spec('context-not-present', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: default DTE V=1 TV=1 IR=IW=0 (Linux init_device_table_dma)`),
  'blocked-domain': spec('blocked-domain', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: blocked DTE V=1 TV=1 IR=IW=0 (Linux make_clear_dte)`),
  'address-width': spec('address-width', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: address beyond the DTE paging mode`),
  'no-mapping': spec('no-mapping', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: PTE.PR = 0`),
  'write-denied': spec('write-denied', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: PTE.IW = 0 (permission)`),
  'read-denied': spec('read-denied', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: PTE.IR = 0 (permission)`),
  'translation-request-blocked': spec('translation-request-blocked', 0x8, 'INVALID_DEVICE_REQUEST', false, `${AMD_IDR}: ATS translation request with DTE.I = 0`),
  'translated-request-blocked': spec('translated-request-blocked', 0x8, 'INVALID_DEVICE_REQUEST', false, `${AMD_IDR}: pretranslated transaction from a device with DTE.I = 0`),
  'interrupt-range-illegal': spec('interrupt-range-illegal', 0x8, 'INVALID_DEVICE_REQUEST', false, `${AMD_IDR}: read or non-posted write in the interrupt address range`),
  'pasid-unsupported': spec('pasid-unsupported', 0x8, 'INVALID_DEVICE_REQUEST', false, `${AMD_IDR}: PASID-prefixed request with DTE.GV = 0 (modelled; no guest tables)`),
  'reserved-range': spec('reserved-range', 0x8, 'INVALID_DEVICE_REQUEST', false, `${AMD_IDR}: HyperTransport reserved range (§2.1.2 Table 3; Linux reserves it, amd_iommu_get_resv_regions)`),
  quarantined: spec('quarantined', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: Xen quarantine (iommu=quarantine): the device's DTE points at dom_io's empty tables (amd_iommu_quarantine_init; XSA-302)`),
  'pre-boot-blocked': spec('pre-boot-blocked', 0x2, 'IO_PAGE_FAULT', true, `${AMD_PF}: pre-boot DMA protection: the firmware's tables map none of this device's addresses`),
};

const SMMU_ABORT = 'SMMUv3 (IHI 0070) §5.2 STE.Config = 0b000 abort: transaction aborted, no event recorded';

const SMMU: Table = {
  'root-not-present': spec('root-not-present', null, 'STE.abort', false, `${SMMU_ABORT} (Linux arm_smmu_init_initial_stes with disable_bypass)`),
  'context-not-present': spec('context-not-present', null, 'STE.abort', false, `${SMMU_ABORT} (Linux arm_smmu_init_initial_stes with disable_bypass)`),
  'blocked-domain': spec('blocked-domain', null, 'STE.abort', false, `${SMMU_ABORT} (Linux arm_smmu_make_abort_ste)`),
  'address-width': spec('address-width', 0x10, 'F_TRANSLATION', true, 'SMMUv3 §7.3 F_TRANSLATION: input address outside the stage-1 range (CD.R=0 suppresses)'),
  'no-mapping': spec('no-mapping', 0x10, 'F_TRANSLATION', true, 'SMMUv3 §7.3 F_TRANSLATION: no valid translation table descriptor (CD.R=0 suppresses)'),
  'write-denied': spec('write-denied', 0x13, 'F_PERMISSION', true, 'SMMUv3 §7.3 F_PERMISSION: write to a read-only page (CD.R=0 suppresses)'),
  'read-denied': spec('read-denied', 0x13, 'F_PERMISSION', true, 'SMMUv3 §7.3 F_PERMISSION: read from a page without read permission (CD.R=0 suppresses)'),
  'translation-request-blocked': spec('translation-request-blocked', 0x05, 'F_BAD_ATS_TREQ', false, 'SMMUv3 §3.9.1.1 and §7.3 F_BAD_ATS_TREQ: ATS translation request with STE.EATS = 0 (UR)'),
  'translated-request-blocked': spec('translated-request-blocked', 0x07, 'F_TRANSL_FORBIDDEN', false, 'SMMUv3 §3.9.1.1 and §7.3 F_TRANSL_FORBIDDEN: translated transaction with STE.EATS = 0 (CR0.ATSCHK = 1)'),
  'pasid-unsupported': spec('pasid-unsupported', 0x08, 'C_BAD_SUBSTREAMID', false, 'SMMUv3 §7.3 C_BAD_SUBSTREAMID: SubstreamID with STE.S1CDMax = 0'),
  quarantined: spec('quarantined', null, 'STE.abort', false, `${SMMU_ABORT} (a quarantined device)`),
  'pre-boot-blocked': spec('pre-boot-blocked', null, 'STE.abort', false, `${SMMU_ABORT} (firmware's pre-boot tables)`),
};

const TABLES: Record<IommuModel, Table> = { vtd: VTD, 'amd-vi': AMD, smmuv3: SMMU };

/** How `model` reports `condition` for an access (resolved once per fault; the entries are shared constants). */
export function faultSpec(model: IommuModel, condition: FaultCondition, access: IommuAccess): FaultSpec {
  const entry = TABLES[model][condition];
  if (entry === undefined) throw new IommuError('IOMMU_INTERNAL', `no ${model} fault for condition '${condition}'`);
  if ('read' in entry) return access === 'write' ? entry.write : entry.read;
  return entry;
}
