/**
 * DMA ownership, VFIO group viability and the isolated-MSI gate, as pure
 * decisions with reasons.
 *
 * Viability: vfio_group_viable() / vfio_dev_viable() (drivers/vfio/vfio.c
 * up to v5.18) let a group be used only if every device is unbound, bound to
 * a VFIO driver, or bound to a driver on vfio_driver_allowed() (pci-stub,
 * pcieport); since v5.19 the same rule is iommu_group_claim_dma_owner()
 * (drivers/iommu/iommu.c): it fails with -EBUSY while any device in the
 * group is bound to a kernel driver that uses the DMA API
 * (pci_dma_configure() took DMA ownership for it), and bridges bound to
 * pcieport set driver_managed_dma so they do not block.
 *
 * MSI: iommu_group_has_isolated_msi() / msi_device_has_isolated_msi()
 * (kernel/irq/msi.c): interrupts are isolated when the IOMMU remaps them
 * with source-ID validation (IRQ_DOMAIN_FLAG_ISOLATED_MSI on Intel/AMD
 * interrupt remapping) or the MSI controller is a GICv3 ITS
 * (MSI_FLAG_ISOLATED_MSI, per-DeviceID tables). Otherwise vfio refuses the
 * group unless vfio_iommu_type1.allow_unsafe_interrupts=1.
 */
import type { IommuGroup } from './group-result.ts';

export type DmaOwner =
  | { readonly kind: 'none' }
  | { readonly kind: 'kernel'; readonly driver: string }
  | { readonly kind: 'user'; readonly principal: string };

export interface GroupMember {
  readonly device: string;
  readonly owner: DmaOwner;
  /** A PCI bridge/port: its pcieport driver does not take DMA ownership (driver_managed_dma). */
  readonly bridge: boolean;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
  /** Kernel function the rule follows. */
  readonly rule: string;
}

/** Can `principal` be given the whole group? */
export function groupViableFor(principal: string, members: readonly GroupMember[]): Decision {
  const rule = 'iommu_group_claim_dma_owner() / vfio_group_viable()';
  for (const m of members) {
    if (m.owner.kind === 'user' && m.owner.principal !== principal) {
      return { allowed: false, reason: `${m.device} is already owned by ${m.owner.principal}`, rule };
    }
    if (m.owner.kind === 'kernel' && !m.bridge) {
      return { allowed: false, reason: `${m.device} is bound to kernel driver ${m.owner.driver}, which uses the DMA API (-EBUSY)`, rule };
    }
  }
  return { allowed: true, reason: `every device in the group is unbound, a bridge, or already ${principal}'s`, rule };
}

export interface InterruptIsolation {
  /** x86: interrupt remapping on (Intel VT-d IR or AMD-Vi). */
  readonly remapping: boolean;
  /** Source-ID validation (off with intremap=nosid). */
  readonly sourceIdValidation: boolean;
  readonly msiController: 'x86' | 'gicv2m' | 'gicv3-its';
  /** vfio_iommu_type1 allow_unsafe_interrupts=1. */
  readonly allowUnsafeInterrupts: boolean;
}

/**
 * Isolated-MSI gate of vfio_iommu_type1_attach_group(), as Linux decides it:
 * intel_setup_irq_remapping() (and AMD's amd_iommu_create_irq_domain())
 * flag the remapping domain IRQ_DOMAIN_FLAG_ISOLATED_MSI whether or not
 * intremap=nosid turned source-ID validation off, so Linux lets the group
 * through in that case too — although any device can then use any IRTE
 * (the verdict shows it). `isolated` is the hardware truth; `allowed` is
 * what the kernel does.
 */
export function msiGate(config: InterruptIsolation): Decision & { isolated: boolean } {
  const rule = 'iommu_group_has_isolated_msi() (MSI_FLAG_ISOLATED_MSI / IRQ_DOMAIN_FLAG_ISOLATED_MSI)';
  const its = config.msiController === 'gicv3-its';
  const x86 = config.msiController === 'x86';
  const isolated = its || (x86 && config.remapping && config.sourceIdValidation);
  const linuxIsolated = its || (x86 && config.remapping);
  const why = its
    ? 'a GICv3 ITS looks every MSI up by the DeviceID of its sender'
    : config.msiController === 'gicv2m'
      ? 'a GICv2m doorbell carries no device identity: any device can raise any SPI in its frame'
      : !config.remapping
        ? 'interrupt remapping is off: a DMA write to 0xFEEx_xxxx is delivered as an interrupt'
        : !config.sourceIdValidation
          ? 'interrupt remapping without source-ID validation (intremap=nosid, SVT=00): any device can use any IRTE, yet Linux still flags the domain ISOLATED_MSI'
          : 'interrupt remapping validates the source ID of each interrupt';
  if (linuxIsolated) return { isolated, allowed: true, reason: why, rule };
  if (config.allowUnsafeInterrupts) return { isolated, allowed: true, reason: `${why}; allowed by allow_unsafe_interrupts=1`, rule };
  return { isolated, allowed: false, reason: `${why}; vfio refuses the group without allow_unsafe_interrupts=1`, rule };
}

/** Both gates for assigning a group to a user. */
export function canAssign(principal: string, group: IommuGroup, members: readonly GroupMember[], interrupts: InterruptIsolation): Decision {
  const missing = group.devices.filter((d) => !members.some((m) => m.device === d));
  if (missing.length > 0) return { allowed: false, reason: `no ownership given for ${missing.join(', ')}`, rule: 'group membership' };
  const viable = groupViableFor(principal, members);
  if (!viable.allowed) return viable;
  return msiGate(interrupts);
}
