/**
 * Linux's policy for devices behind external-facing ports (Thunderbolt,
 * USB4, ExpressCard), as the kernel applies it:
 *  - drivers/pci/pci-acpi.c pci_acpi_set_external_facing: a root port whose
 *    ACPI _DSD says "ExternalFacingPort" is `external_facing`;
 *  - drivers/pci/probe.c set_pcie_untrusted: a device is `untrusted` when
 *    its upstream bridge is untrusted or external-facing (5.4–6.x; 6.19
 *    narrows the x86 case to tunnelled devices, arch_pci_dev_is_removable,
 *    which exempts a discrete Thunderbolt controller's own switch — not
 *    modelled: everything below the port is untrusted);
 *  - drivers/iommu/iommu.c iommu_get_default_domain_type (formerly
 *    iommu_get_def_domain_type): an untrusted device gets a DMA domain even
 *    with iommu=pt, never DMA_FQ — strict invalidation; a driver or sysfs
 *    asking for identity is refused ("Device is not trusted, but driver is
 *    overriding group … refusing to probe");
 *  - drivers/pci/ats.c pci_ats_supported: false for untrusted devices, so
 *    ATS is never enabled and their context never allows a device TLB;
 *  - drivers/iommu/dma-iommu.c dev_use_swiotlb / iommu_dma_map_phys
 *    (iommu_dma_map_page before 6.16): a buffer whose start or size is not
 *    granule-aligned is bounced through swiotlb, the slot's padding zeroed
 *    (iommu_dma_map_swiotlb), so the device sees no neighbouring data;
 *  - drivers/iommu/intel/iommu.c platform_optin_force_iommu: with the DMAR
 *    platform opt-in flag (DMA_CTRL_PLATFORM_OPT_IN_FLAG, dmar_platform_optin)
 *    and an external-facing port, the IOMMU is forced on even with
 *    intel_iommu=off, trusted devices then defaulting to identity;
 *  - drivers/thunderbolt/nhi.c nhi_check_iommu (domain.c shows it as
 *    iommu_dma_protection): 1 when some external-facing port's device has
 *    IOMMU_CAP_PRE_BOOT_PROTECTION (= dmar_platform_optin on Intel) — what
 *    boltd trusts to authorise PCIe tunnels without asking.
 */

export interface PortTopology {
  /** Each function's upstream bridge (its parent port or bridge), null on the root bus. */
  parentOf(id: string): string | null;
  externalFacing(id: string): boolean;
}

/** Every function below an external-facing port (set_pcie_untrusted, applied down the tree). */
export function untrustedFunctions(ids: Iterable<string>, topology: PortTopology): Set<string> {
  const untrusted = new Set<string>();
  const memo = new Map<string, boolean>();
  const below = (id: string): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const parent = topology.parentOf(id);
    const result = parent !== null && (topology.externalFacing(parent) || below(parent));
    memo.set(id, result);
    return result;
  };
  for (const id of ids) if (below(id)) untrusted.add(id);
  return untrusted;
}

export type DefaultDomain = { readonly mode: 'paging' | 'identity'; readonly strict: boolean };

/**
 * The default domain Linux gives a device: the kernel default (DMA, or
 * identity with iommu=pt), DMA and strict for an untrusted one.
 */
export function defaultDomain(untrusted: boolean, kernelDefault: 'dma' | 'identity', strictByDefault: boolean): DefaultDomain {
  if (untrusted) return { mode: 'paging', strict: true };
  return kernelDefault === 'identity' ? { mode: 'identity', strict: true } : { mode: 'paging', strict: strictByDefault };
}

/** platform_optin_force_iommu: the OS turns DMA remapping on although told not to. */
export function optInForcesIommu(dmarOptIn: boolean, hasExternalFacing: boolean): boolean {
  return dmarOptIn && hasExternalFacing;
}

/** nhi_check_iommu: the Thunderbolt domain's iommu_dma_protection attribute. */
export function thunderboltDmaProtection(hasExternalFacing: boolean, dmarOptIn: boolean, iommuEnabled: boolean): boolean {
  return hasExternalFacing && dmarOptIn && iommuEnabled;
}

/**
 * iova_unaligned(phys, size) in iommu_dma_map_phys: an untrusted device's
 * buffer is bounced when its start or its size is not a multiple of the
 * IOVA granule (4 KiB here).
 */
export function needsBounce(untrusted: boolean, hpa: number, size: number, granule = 4096): boolean {
  return untrusted && (hpa % granule !== 0 || size % granule !== 0);
}
