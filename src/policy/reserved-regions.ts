/**
 * Reserved IOVA regions of a device, as iommu_get_resv_regions reports them
 * (drivers/iommu/iommu.c), and what Linux, VFIO and Xen do with them:
 *  - VT-d RMRRs (intel/iommu.c intel_iommu_get_resv_regions): memory the
 *    firmware keeps using through the device (legacy USB emulation,
 *    graphics stolen memory, management controllers). IOMMU_RESV_DIRECT,
 *    or DIRECT_RELAXABLE for USB and display devices
 *    (device_rmrr_is_relaxable: "not actively used post boot").
 *  - AMD-Vi IVMD unity-map blocks (amd/iommu.c amd_iommu_get_resv_regions):
 *    IOMMU_RESV_DIRECT with the block's IR/IW permissions, never relaxable.
 *  - The MSI window: x86 0xFEE0_0000–0xFEEF_FFFF (IOMMU_RESV_MSI, both Intel
 *    and AMD; AMD adds the HyperTransport range as IOMMU_RESV_RESERVED);
 *    Arm SMMUs a software MSI window at MSI_IOVA_BASE (IOMMU_RESV_SW_MSI).
 * Linux maps DIRECT and DIRECT_RELAXABLE 1:1 in a DMA default domain
 * (iommu_create_device_direct_mappings) and refuses to leave a device
 * with a DIRECT region without that mapping — so VFIO cannot take it
 * (__iommu_device_set_domain, require_direct; intel_iommu_attach_device
 * before). VFIO excludes every region but DIRECT_RELAXABLE from the user's
 * IOVA space (vfio_iommu_resv_exclude) and refuses maps there
 * (vfio_iommu_iova_dma_valid). Xen identity-maps a device's RMRRs into
 * whatever domain it is assigned to, guest or quarantine
 * (vtd/iommu.c intel_iommu_assign_device, intel_iommu_quarantine_init).
 */
import { AMD_HT_RESERVED, INTERRUPT_WINDOW, MSI_IOVA_BASE } from '../iommu/config.ts';
import type { AddressRange } from '../pcie/range.ts';

export type ResvType = 'direct' | 'direct-relaxable' | 'msi' | 'sw-msi' | 'reserved';

export interface ResvRegion extends AddressRange {
  readonly type: ResvType;
  readonly perm: 'r' | 'w' | 'rw';
  /** Where it comes from ("RMRR usb-legacy", "MSI window"). */
  readonly source: string;
  /** The memory region it covers, for RMRR and IVMD. */
  readonly region: string | null;
}

export interface FirmwareRange extends AddressRange {
  readonly kind: 'rmrr' | 'ivmd';
  readonly region: string;
  readonly devices: readonly string[];
  readonly perm: 'r' | 'w' | 'rw';
}

/** drivers/iommu/dma-iommu.c MSI_IOVA_BASE / MSI_IOVA_LENGTH (1 MiB). */
const SW_MSI: AddressRange = { base: MSI_IOVA_BASE, size: 0x10_0000 };

export type DeviceClass = 'usb' | 'display' | 'network' | 'storage' | 'other';

/**
 * The class Linux's tests see in a 24-bit class code: IS_USB_DEVICE is
 * class >> 8 == PCI_CLASS_SERIAL_USB (0x0c03), IS_GFX_DEVICE class >> 16 ==
 * PCI_BASE_CLASS_DISPLAY (0x03) (drivers/iommu/intel/iommu.c); network
 * 0x02 and mass storage 0x01 are base classes (include/linux/pci_ids.h).
 */
export function deviceClassOf(code: number): DeviceClass {
  if (code >> 8 === 0x0c03) return 'usb';
  switch (code >> 16) {
    case 0x03:
      return 'display';
    case 0x02:
      return 'network';
    case 0x01:
      return 'storage';
    default:
      return 'other';
  }
}

/** device_rmrr_is_relaxable: IS_USB_DEVICE || IS_GFX_DEVICE. */
export function rmrrRelaxable(cls: DeviceClass | null): boolean {
  return cls === 'usb' || cls === 'display';
}

/** iommu_get_resv_regions for one device. */
export function deviceResvRegions(model: 'vtd' | 'amd-vi' | 'smmuv3' | 'none', device: { readonly id: string; readonly class: DeviceClass | null }, firmware: readonly FirmwareRange[]): ResvRegion[] {
  const regions: ResvRegion[] = [];
  for (const f of firmware) {
    if (!f.devices.includes(device.id)) continue;
    const relaxable = f.kind === 'rmrr' && rmrrRelaxable(device.class);
    regions.push({ base: f.base, size: f.size, type: relaxable ? 'direct-relaxable' : 'direct', perm: f.kind === 'rmrr' ? 'rw' : f.perm, source: `${f.kind.toUpperCase()} ${f.region}`, region: f.region });
  }
  if (model === 'vtd' || model === 'amd-vi') regions.push({ ...INTERRUPT_WINDOW, type: 'msi', perm: 'w', source: 'MSI window (IOMMU_RESV_MSI)', region: null });
  if (model === 'amd-vi') regions.push({ ...AMD_HT_RESERVED, type: 'reserved', perm: 'rw', source: 'HyperTransport range (IOMMU_RESV_RESERVED)', region: null });
  if (model === 'smmuv3') regions.push({ ...SW_MSI, type: 'sw-msi', perm: 'w', source: 'software MSI window (IOMMU_RESV_SW_MSI)', region: null });
  return regions;
}

/** The regions a DMA domain maps 1:1 for the device (iommu_create_device_direct_mappings). */
export function directMappings(regions: readonly ResvRegion[]): ResvRegion[] {
  return regions.filter((r) => r.type === 'direct' || r.type === 'direct-relaxable');
}

/** dev->iommu->require_direct: some region must stay mapped 1:1 whatever the domain. */
export function requiresDirect(regions: readonly ResvRegion[]): ResvRegion | null {
  return regions.find((r) => r.type === 'direct') ?? null;
}

/** The region a VFIO user mapping [iova, iova+size) may not touch, if any (vfio_iommu_resv_exclude keeps relaxable ones usable). */
export function reservedForUser(regions: readonly ResvRegion[], iova: number, size: number): ResvRegion | null {
  return regions.find((r) => r.type !== 'direct-relaxable' && iova < r.base + r.size && r.base < iova + size) ?? null;
}
