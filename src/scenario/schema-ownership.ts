/**
 * Scenario keys for time and ownership change (issue 17), kept apart from
 * schema.ts so the step and machine additions of other work merge cleanly:
 * host steps that hand devices over, reset them, plug and unplug them,
 * move memory between owners and walk the boot phases; the machine keys
 * they need (the host's hypervisor, Xen's quarantine and interrupt-table
 * options, firmware DMA protection, reserved regions, untrusted ports).
 * Structural only, like schema.ts: references and timing are checked by
 * normalize-ownership.ts, with positions.
 */
import { z } from 'zod';

const Name = z.string().min(1);
const Toggle = z.union([z.boolean(), z.enum(['on', 'off'])]).describe('on | off');

export const RESET_KINDS = ['flr', 'bus', 'none'] as const;
export const BOOT_PHASES = ['exit-boot-services', 'iommu-init'] as const;
export const DEVICE_CLASSES = ['usb', 'display', 'network', 'storage', 'other'] as const;

/** Device keys: where it sits (an external-facing port), whether it is there yet, what it is, how it resets. */
export const DEVICE_OWNERSHIP_KEYS = {
  /** A root port exposing PCIe outside the machine (ACPI _DSD ExternalFacingPort, Thunderbolt): devices below are untrusted. */
  'external-facing': z.boolean().optional(),
  /** false: absent at the start; a hot-plug step brings it up. */
  present: z.boolean().optional(),
  /**
   * The PCI class as Linux tests it (device_rmrr_is_relaxable: USB and display RMRRs are relaxable):
   * a name, or the 24-bit class code config space holds (e.g. 0x0c0330), from which the name follows.
   */
  class: z.union([z.enum(DEVICE_CLASSES), z.number().int().nonnegative(), z.string()]).optional(),
  /** The reset Linux's pci_reset_function finds first (reset_method): FLR, secondary bus reset, or none (-ENOTTY). */
  'reset-method': z.enum(RESET_KINDS).optional(),
};

/** Function keys of the same kind (a multifunction device's functions have a class and a reset method each). */
export const FUNCTION_OWNERSHIP_KEYS = {
  class: DEVICE_OWNERSHIP_KEYS.class,
  'reset-method': DEVICE_OWNERSHIP_KEYS['reset-method'],
};

/** Kernel keys: Linux's default domain type and the swiotlb bounce pool. */
export const KERNEL_OWNERSHIP_KEYS = {
  /** iommu.passthrough / iommu=pt: the default domain of trusted devices (untrusted ones always get dma). */
  'default-domain': z.enum(['dma', 'identity']).optional(),
  /** The memory region swiotlb bounces from (iommu_dma_map_phys bounces untrusted devices' sub-page buffers). */
  swiotlb: Name.optional(),
};

const Reserved = z.strictObject({
  /** rmrr: VT-d DMAR Reserved Memory Region Reporting; ivmd: AMD-Vi IVRS I/O Virtualization Memory Definition (unity map). */
  kind: z.enum(['rmrr', 'ivmd']),
  /** The memory region it covers (its owner is who the range belongs to, e.g. firmware). */
  region: Name,
  /** The device scope: devices that keep the 1:1 mapping whatever their domain. */
  devices: z.array(Name).min(1),
  /** IVMD permission (IR/IW flags); RMRRs are always read-write. */
  perm: z.enum(['r', 'w', 'rw']).optional(),
});

/** Machine keys: which host, Xen's options, firmware DMA protection, reserved regions. */
export const MACHINE_OWNERSHIP_KEYS = {
  /** Which host software hands devices over: Linux (VFIO) or Xen (deassign_device, pciback). */
  host: z.enum(['linux', 'xen']).optional(),
  xen: z
    .strictObject({
      /** iommu=quarantine: where deassigned devices go (off: back to dom0; basic: faults; scratch-page: a sink page). */
      quarantine: z.enum(['off', 'basic', 'scratch-page']).optional(),
      /** amd-iommu-perdev-intremap: one interrupt table per device (on) or one for the whole system (off; XSA-36). */
      'amd-iommu-perdev-intremap': Toggle.optional(),
      /** What deassigning leaves in AMD interrupt tables: entries cleared (fixed), or kept (before XSA-36). */
      'stale-irtes': z.enum(['cleared', 'kept']).optional(),
    })
    .optional(),
  firmware: z
    .strictObject({
      /** Pre-boot DMA protection: off; until ExitBootServices (EDK2 default); kept on until the OS takes over. */
      'dma-protection': z.enum(['off', 'boot-services', 'handover']).optional(),
      /** DMAR DMA_CTRL_PLATFORM_OPT_IN_FLAG: Linux forces the IOMMU on when external-facing ports exist. */
      'dmar-opt-in': Toggle.optional(),
    })
    .optional(),
  reserved: z.array(Reserved).optional(),
};

/** Host steps. */
export const OWNERSHIP_STEP_KEYS = {
  /** The device is given to a principal (vfio-pci / Xen assign_device), into `domain` or a fresh one. */
  assign: z.strictObject({ device: Name, to: Name, domain: Name.optional() }).optional(),
  /** The device goes back to the host (Linux: vfio_pci_core_disable, default domain; Xen: deassign_device). */
  release: z.strictObject({ device: Name, domain: Name.optional() }).optional(),
  /** pci_reset_function: save and disable, reset (FLR, secondary bus reset, or none), restore. */
  reset: z.strictObject({ device: Name, kind: z.enum(RESET_KINDS).optional() }).optional(),
  /** A memory region changes owner. */
  'reassign-memory': z.strictObject({ region: Name, to: Name }).optional(),
  /** A principal's region is returned to the host's allocator (and reused). */
  free: z.strictObject({ region: Name }).optional(),
  'hot-plug': z.strictObject({ device: Name }).optional(),
  'hot-unplug': z.strictObject({ device: Name }).optional(),
  /** A boot phase begins: the firmware exits boot services, or the OS initialises its IOMMU driver. */
  boot: z.enum(BOOT_PHASES).optional(),
};

export const OWNERSHIP_ACTIONS = Object.keys(OWNERSHIP_STEP_KEYS) as (keyof typeof OWNERSHIP_STEP_KEYS)[];
