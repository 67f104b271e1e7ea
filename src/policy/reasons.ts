/**
 * Endings the host decides before any TLP exists (a user's access VFIO or
 * xen-pciback refuses, a group Linux will not assign), and the verdict's
 * own stop: a read whose data went to someone other than the attacker.
 */
import { defineReasons } from '../pcie/reasons.ts';

export const HOST_REASONS = defineReasons({
  'vfio.not-owner': {
    outcome: 'blocked',
    title: 'a user reaches only the config space and BARs of devices it holds through VFIO',
    source: 'Linux drivers/vfio/pci/vfio_pci_core.c (vfio_pci_core_read/write work on the opened device\'s regions only)',
  },
  'vfio.region-not-mapped': {
    outcome: 'blocked',
    title: 'a sub-range of the BAR kept by the host is not mapped to the user',
    source: 'Linux drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (hisi_acc_pci_rw_access_check, mmap override)',
  },
  'vfio.msix-table-protected': {
    outcome: 'blocked',
    title: 'vfio-pci virtualizes the MSI-X table: user writes to it through the BAR are dropped',
    source: 'Linux drivers/vfio/pci/vfio_pci_rdwr.c (msix table region), vfio_pci_core.c',
  },
  'pciback.msi-read-only': {
    outcome: 'blocked',
    title: 'xen-pciback drops a guest\'s write to MSI address/data/mask (only Enable may change)',
    source: 'Linux drivers/xen/xen-pciback/conf_space.c, conf_space_capability.c (msi_msix_flags_write)',
  },
  'gate.vfio-viability': {
    outcome: 'blocked',
    title: 'VFIO refuses the assignment: the IOMMU group is not viable for the user',
    source: 'Linux drivers/vfio/group.c (vfio_group_viable), drivers/iommu/iommu.c (iommu_group_claim_dma_owner)',
  },
  'gate.isolated-msi': {
    outcome: 'blocked',
    title: 'VFIO refuses the assignment: interrupts are not isolated and allow_unsafe_interrupts is off',
    source: 'Linux drivers/vfio/vfio_iommu_type1.c (vfio_iommu_type1_attach_group, iommu_group_has_isolated_msi)',
  },
  'gate.rmrr': {
    outcome: 'blocked',
    title: 'VFIO refuses the device: firmware requires it to keep a 1:1 mapping (a non-relaxable RMRR or IVMD)',
    source: 'Linux drivers/iommu/iommu.c __iommu_device_set_domain (require_direct: "Firmware has requested this device have a 1:1 IOMMU mapping"); before 6.x intel_iommu_attach_device ("Device is ineligible for IOMMU domain attach due to platform RMRR requirement"); intel/iommu.c device_rmrr_is_relaxable',
  },
  'vfio.iova-reserved': {
    outcome: 'blocked',
    title: 'VFIO refuses a user mapping over a reserved IOVA range (MSI window, RMRR, IVMD, reserved)',
    source: 'Linux drivers/vfio/vfio_iommu_type1.c vfio_dma_do_map (vfio_iommu_iova_dma_valid), vfio_iommu_resv_exclude; iommu_get_resv_regions',
  },
  'xen.scratch-page': {
    outcome: 'delivered',
    title: 'a quarantined device\'s DMA landed in its scratch page, which holds nobody\'s data',
    source: 'Xen iommu=quarantine=scratch-page (xen/drivers/passthrough/vtd/iommu.c intel_iommu_quarantine_init, fill_qpt); docs/misc/xen-command-line.pandoc',
  },
  'read.data-elsewhere': {
    outcome: 'completed',
    title: 'the read completed, but its data went to another requester (the forged ID) or nowhere',
    source: 'PCIe 6.0 §2.2.9: a completion is routed to the Requester ID of its request',
  },
});
