/**
 * IOMMU domains: what the context of each attached requester ID points to.
 * A paging domain holds a page table of 4 KiB entries with read/write
 * permission (VT-d 5.10 §3.7 second-stage tables; Linux iommu_map). Mapping
 * is page-granular: a buffer that does not fill its pages exposes the rest
 * of them (dma-iommu.c iommu_dma_map_page maps iova_align(size + offset)).
 * `lookup` is the page table now, which is what the host grants; the IOTLB
 * may still hold translations the table no longer has.
 */
import type { RequesterId } from '../pcie/bdf.ts';
import { formatAddress } from '../pcie/range.ts';
import { IommuError, PAGE_SIZE, type InvalidationPolicy } from './config.ts';
import { PageTable } from './page-table.ts';

export type DomainMode = 'blocked' | 'identity' | 'paging';
export const DOMAIN_MODES: readonly DomainMode[] = ['blocked', 'identity', 'paging'];

export type Perm = 'r' | 'w' | 'rw';

export const PERM_R = 1;
export const PERM_W = 2;

export function permBits(perm: Perm): number {
  return (perm.includes('r') ? PERM_R : 0) | (perm.includes('w') ? PERM_W : 0);
}

export function permName(bits: number): Perm | null {
  if (bits === (PERM_R | PERM_W)) return 'rw';
  if (bits === PERM_R) return 'r';
  if (bits === PERM_W) return 'w';
  return null;
}

export type { PageEntry } from './page-table.ts';

/** What the page table grants for one 4 KiB page. */
export interface PageMapping {
  readonly iova: number;
  readonly hpa: number;
  readonly perm: Perm;
}

/** A buffer as the host asked for it (byte-exact), as opposed to the pages that cover it. */
export interface MappedBuffer {
  readonly iova: number;
  readonly hpa: number;
  readonly size: number;
  readonly perm: Perm;
}

export interface DomainOptions {
  /** The context allows device-TLB use (VT-d context TT=01b, AMD DTE.I, SMMU STE.EATS). */
  readonly deviceTlb?: boolean;
  /** Overrides the IOMMU's policy (Linux forces strict for VFIO and untrusted devices). */
  readonly invalidation?: InvalidationPolicy;
  /**
   * A quarantine domain (Xen dom_io): unmapped IOVAs fault as quarantined,
   * or with a scratch page (its host-physical page address) land there.
   */
  readonly quarantine?: { readonly scratchPage: number | null };
}

/** The pages [first, first + count) that a byte range touches. */
export function pageSpan(iova: number, size: number): { first: number; count: number } {
  const first = Math.floor(iova / PAGE_SIZE);
  const last = Math.floor((iova + size - 1) / PAGE_SIZE);
  return { first, count: last - first + 1 };
}

export class Domain {
  readonly pages = new PageTable();
  readonly buffers: MappedBuffer[] = [];
  /** Requester IDs whose context points here. */
  readonly attached = new Set<RequesterId>();
  readonly deviceTlb: boolean;
  readonly quarantine: { readonly scratchPage: number | null } | null;

  constructor(
    /** Domain ID: tags IOTLB entries (VT-d §6.2.1 DID, AMD DomainID, SMMU ASID/VMID). */
    readonly id: number,
    readonly name: string,
    readonly mode: DomainMode,
    readonly invalidation: InvalidationPolicy,
    /** The IOMMU that owns the domain (typed by it). */
    readonly owner: object,
    options: DomainOptions = {},
  ) {
    this.deviceTlb = options.deviceTlb ?? false;
    this.quarantine = options.quarantine ?? null;
  }

  /** The page table's view of `iova` now; undefined when nothing is granted. */
  lookup(iova: number): PageMapping | undefined {
    const page = Math.floor(iova / PAGE_SIZE);
    if (this.mode === 'identity') return { iova: page * PAGE_SIZE, hpa: page * PAGE_SIZE, perm: 'rw' };
    const entry = this.mode === 'paging' ? this.pages.get(page) : undefined;
    if (entry === undefined) return undefined;
    return { iova: page * PAGE_SIZE, hpa: entry.hpaPage * PAGE_SIZE, perm: permName(entry.perm)! };
  }

  /** The buffer the host mapped that holds `iova`, if any (sub-page exposure: a mapped page may hold none). */
  bufferAt(iova: number): MappedBuffer | undefined {
    return this.buffers.find((b) => iova >= b.iova && iova < b.iova + b.size);
  }

  /** Fills page-table entries for every page the range touches; returns how many. */
  map(iova: number, hpa: number, size: number, perm: Perm, addressWidth: number): number {
    this.requirePaging('map');
    if (!Number.isSafeInteger(size) || size <= 0) throw new IommuError('IOMMU_MAP', `map size must be a positive integer, got ${size}`);
    if (!Number.isSafeInteger(iova) || iova < 0 || !Number.isSafeInteger(hpa) || hpa < 0) {
      throw new IommuError('IOMMU_MAP', `map addresses must be non-negative integers, got iova ${iova} and hpa ${hpa}`);
    }
    if (iova % PAGE_SIZE !== hpa % PAGE_SIZE) {
      throw new IommuError('IOMMU_MAP', `iova ${formatAddress(iova)} and hpa ${formatAddress(hpa)} differ in their offset within a 4 KiB page; the IOMMU maps whole pages (Linux iommu_map rejects it)`);
    }
    if (iova + size > 2 ** addressWidth) {
      throw new IommuError('IOMMU_MAP', `iova range ends at ${formatAddress(iova + size)}, above the ${addressWidth}-bit domain address width`);
    }
    const bits = permBits(perm);
    if (bits === 0) throw new IommuError('IOMMU_MAP', `permission must be r, w or rw, got '${String(perm)}'`);
    const { first, count } = pageSpan(iova, size);
    const taken = this.pages.firstMappedIn(first, count);
    if (taken >= 0) {
      throw new IommuError('IOMMU_MAP', `domain '${this.name}': page ${formatAddress(taken * PAGE_SIZE)} is already mapped; unmap it first (Linux iommu_map returns -EEXIST)`);
    }
    this.pages.map(first, count, Math.floor(hpa / PAGE_SIZE), bits);
    this.buffers.push({ iova, hpa, size, perm });
    return count;
  }

  /** Clears the page-table entries the range touches; returns the page span and how many were present. */
  unmap(iova: number, size: number): { first: number; count: number; unmapped: number } {
    this.requirePaging('unmap');
    if (!Number.isSafeInteger(size) || size <= 0) throw new IommuError('IOMMU_UNMAP', `unmap size must be a positive integer, got ${size}`);
    const { first, count } = pageSpan(iova, size);
    const unmapped = this.pages.unmap(first, count);
    const start = first * PAGE_SIZE;
    const end = (first + count) * PAGE_SIZE;
    for (let i = this.buffers.length - 1; i >= 0; i--) {
      const b = this.buffers[i]!;
      if (b.iova < end && start < b.iova + b.size) this.buffers.splice(i, 1);
    }
    return { first, count, unmapped };
  }

  private requirePaging(what: string): void {
    if (this.mode !== 'paging') {
      throw new IommuError('IOMMU_NOT_PAGING', `cannot ${what} in domain '${this.name}': it is ${this.mode}, only paging domains have page tables`);
    }
  }
}
