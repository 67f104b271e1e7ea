/**
 * IOMMU configuration: which hardware is modelled and how the kernel drives
 * it. Defaults follow Linux's DMA API (drivers/iommu/dma-iommu.c): a flush
 * queue of IOVA_DEFAULT_FQ_SIZE entries drained after IOVA_DEFAULT_FQ_TIMEOUT
 * (10 ms) when invalidation is deferred.
 */
import type { AddressRange } from '../pcie/range.ts';

export type IommuModel = 'vtd' | 'amd-vi' | 'smmuv3';
export const IOMMU_MODELS: readonly IommuModel[] = ['vtd', 'amd-vi', 'smmuv3'];

/** strict: unmap invalidates before it returns; deferred: a flush queue does it later (Linux iommu.strict=0). */
export type InvalidationPolicy = 'strict' | 'deferred';

export interface IommuConfig {
  readonly model: IommuModel;
  /** Off: the bus address is the host-physical address (no translation agent). */
  readonly dmaRemapping: boolean;
  readonly invalidation: InvalidationPolicy;
  /** ns before a deferred flush queue is drained (Linux IOVA_DEFAULT_FQ_TIMEOUT = 10 ms). */
  readonly flushTimeoutNs: number;
  /** Ring size of a flush queue; it holds size-1 entries (Linux IOVA_DEFAULT_FQ_SIZE = 256, fq_full()). */
  readonly flushQueueSize: number;
  /** IOTLB entries (4 KiB translations). */
  readonly iotlbCapacity: number;
  /**
   * Which entry a full IOTLB gives up: least-recently-used, or one chosen by
   * the seeded RNG — VT-d 5.10 §6.2.4 leaves replacement to the
   * implementation, so a verdict that depends on it is a race.
   */
  readonly iotlbReplacement: 'lru' | 'random';
  /** Input address width of paging domains: 39 (3-level) or 48 (4-level, Linux's usual AGAW). */
  readonly addressWidth: 39 | 48;
  /** Ranges consumed before translation (an ARM MSI doorbell upstream of the SMMU). */
  readonly untranslated: readonly AddressRange[];
}

export type IommuConfigInput = Partial<IommuConfig> & { readonly model: IommuModel };

export const DEFAULT_IOMMU: Omit<IommuConfig, 'model'> = {
  dmaRemapping: true,
  invalidation: 'strict',
  flushTimeoutNs: 10_000_000,
  flushQueueSize: 256,
  iotlbCapacity: 512,
  iotlbReplacement: 'lru',
  addressWidth: 48,
  untranslated: [],
};

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

/** x86 interrupt address range FEEx_xxxxh (VT-d 5.10 §3.15; AMD IOMMU spec §2.2.5). */
export const INTERRUPT_WINDOW: AddressRange = { base: 0xfee0_0000, size: 0x10_0000 };

/** AMD HyperTransport reserved range FD_0000_0000h–FF_FFFF_FFFFh (AMD IOMMU spec §2.1.2 Table 3; Linux HT_RANGE_START/END). */
export const AMD_HT_RESERVED: AddressRange = { base: 0xfd_0000_0000, size: 0x3_0000_0000 };

/** IOVA of the MSI doorbell page in unmanaged domains (Linux MSI_IOVA_BASE, arm-smmu-v3; iommu_get_msi_cookie). */
export const MSI_IOVA_BASE = 0x800_0000;

export class IommuError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'IommuError';
  }
}

export function resolveIommuConfig(input: IommuConfigInput): IommuConfig {
  const config: IommuConfig = { ...DEFAULT_IOMMU, ...input };
  if (!IOMMU_MODELS.includes(config.model)) {
    throw new IommuError('IOMMU_CONFIG', `unknown IOMMU model '${String(config.model)}' (expected ${IOMMU_MODELS.join(', ')})`);
  }
  if (!Number.isSafeInteger(config.flushTimeoutNs) || config.flushTimeoutNs <= 0) {
    throw new IommuError('IOMMU_CONFIG', `flushTimeoutNs must be a positive integer of ns, got ${config.flushTimeoutNs}`);
  }
  if (!Number.isInteger(config.flushQueueSize) || config.flushQueueSize < 2) {
    throw new IommuError('IOMMU_CONFIG', `flushQueueSize must be an integer ≥ 2 (the ring keeps one slot free), got ${config.flushQueueSize}`);
  }
  if (!Number.isInteger(config.iotlbCapacity) || config.iotlbCapacity < 1) {
    throw new IommuError('IOMMU_CONFIG', `iotlbCapacity must be a positive integer, got ${config.iotlbCapacity}`);
  }
  if (config.addressWidth !== 39 && config.addressWidth !== 48) {
    throw new IommuError('IOMMU_CONFIG', `addressWidth must be 39 or 48, got ${String(config.addressWidth)}`);
  }
  return config;
}
