/**
 * The endings DMA remapping decides. A fault's code is the same on every
 * model (`iommu.<condition>`); its number and name per model live in
 * faults.ts and travel in the ending's faultCode and rule.
 */
import { defineReasons } from '../pcie/reasons.ts';

const FAULT_SOURCE = 'VT-d 5.10 §7.1.3 Table 30; AMD IOMMU 48882 event log; SMMUv3 IHI 0070 §7.3';

export const IOMMU_REASONS = defineReasons({
  'iommu.root-not-present': { outcome: 'faulted', title: 'no root entry for the requester\'s bus', source: `${FAULT_SOURCE} (VT-d LRT.2)` },
  'iommu.context-not-present': { outcome: 'faulted', title: 'no context (device table entry, STE) for the requester ID', source: `${FAULT_SOURCE} (VT-d LCT.2)` },
  'iommu.blocked-domain': { outcome: 'faulted', title: 'the requester is attached to a blocking domain', source: `${FAULT_SOURCE}; Linux blocking domain (device_block_translation, make_clear_dte, arm_smmu_make_abort_ste)` },
  'iommu.address-width': { outcome: 'faulted', title: 'input address above the domain\'s address width', source: `${FAULT_SOURCE} (VT-d LGN.1.1)` },
  'iommu.no-mapping': { outcome: 'faulted', title: 'no mapping for the IOVA', source: `${FAULT_SOURCE} (VT-d LGN.2/LGN.3)` },
  'iommu.write-denied': { outcome: 'faulted', title: 'write to a page mapped without write permission', source: `${FAULT_SOURCE} (VT-d LGN.2)` },
  'iommu.read-denied': { outcome: 'faulted', title: 'read from a page mapped without read permission', source: `${FAULT_SOURCE} (VT-d LGN.3)` },
  'iommu.translation-request-blocked': { outcome: 'faulted', title: 'ATS translation request from a device its context does not let use a device TLB', source: `${FAULT_SOURCE} (VT-d LCT.5, §9.3)` },
  'iommu.translated-request-blocked': { outcome: 'faulted', title: 'AT=translated request from a device its context does not let use a device TLB', source: `${FAULT_SOURCE} (VT-d LCT.5, §4.2.5)` },
  'iommu.interrupt-range-output': { outcome: 'faulted', title: 'translation output in the interrupt range FEEx_xxxxh', source: 'VT-d 5.10 §3.15 and §7.1.3 Table 30 LGN.4' },
  'iommu.interrupt-range-illegal': { outcome: 'faulted', title: 'read, atomic or non-DWORD write to the interrupt range', source: 'VT-d 5.10 §3.15, §5.1.4.1 Table 15 (29h); AMD-Vi INVALID_DEVICE_REQUEST' },
  'iommu.pasid-unsupported': { outcome: 'faulted', title: 'PASID-prefixed request the context cannot process', source: `${FAULT_SOURCE} (VT-d RTA.2)` },
  'iommu.reserved-range': { outcome: 'faulted', title: 'request to a reserved address range', source: 'AMD IOMMU 48882 §2.1.2 Table 3 (HyperTransport range); Linux amd_iommu_get_resv_regions' },
  'iommu.quarantined': { outcome: 'faulted', title: 'the device is quarantined: its DMA reaches nothing but its RMRRs', source: 'Xen xen/drivers/passthrough/pci.c deassign_device (iommu=quarantine, XSA-302); vtd/iommu.c reassign_device_ownership, intel_iommu_quarantine_init' },
  'iommu.pre-boot-blocked': { outcome: 'faulted', title: 'pre-boot DMA protection: the firmware\'s IOMMU tables block the request', source: 'EDK2 IntelSiliconPkg IntelVTdDxe (PcdVTdPolicyPropertyMask); ACPI DMAR DMA_CTRL_PLATFORM_OPT_IN_FLAG (Linux dmar_platform_optin)' },
  'iommu.crosses-page': { outcome: 'blocked', title: 'request crossing a 4 KiB boundary (malformed)', source: 'PCIe 6.0 §2.2.7; VT-d 5.10 §3.13' },
  'iommu.zlr-interrupt-range': { outcome: 'completed', title: 'zero-length read to the interrupt range completes without remapping', source: 'VT-d 5.10 §3.15' },
  'iommu.translated-interrupt-range': { outcome: 'unsupported-request', title: 'AT=translated request to the interrupt range FEEx_xxxxh (VT-d: UR)', source: 'VT-d 4.1 §3.15 ("Translated requests with an address in the interrupt address range are treated as Unsupported Request")' },
  'iommu.remapping-disabled': { outcome: 'unsupported-request', title: 'translation request or translated request while DMA remapping is off', source: 'VT-d 5.10 §4.2.1' },
  'ats.malformed': { outcome: 'unsupported-request', title: 'memory write with AT = translation request', source: 'VT-d 5.10 §4.2.1; PCIe 6.0 §10.2.2' },
  'ats.translated': { outcome: 'completed', title: 'ATS translation request answered', source: 'VT-d 5.10 §4.2.3; PCIe 6.0 §10.2.3' },
});
