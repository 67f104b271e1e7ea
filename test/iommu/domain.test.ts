/** Domains and page tables: page-granular mapping (Linux iommu_map, dma-iommu.c iommu_dma_map_page). */
import { describe, expect, it } from 'vitest';
import { Domain, pageSpan } from '../../src/iommu/domain.ts';
import { IommuError } from '../../src/iommu/config.ts';

const paging = () => new Domain(1, 'd', 'paging', 'strict', {});

describe('Domain page table (VT-d 5.10 §3.7; Linux iommu_map)', () => {
  it.each([
    [0x1000, 0x1000, { first: 1, count: 1 }],
    [0x1800, 0x100, { first: 1, count: 1 }],
    [0x1ff0, 0x20, { first: 1, count: 2 }],
    [0x1000, 0x2001, { first: 1, count: 3 }],
  ])('pageSpan(%i, %i): every 4 KiB page the range touches', (iova, size, span) => {
    expect(pageSpan(iova, size)).toEqual(span);
  });

  it('maps whole pages: a 256-byte buffer exposes its whole page (sub-page exposure)', () => {
    const d = paging();
    expect(d.map(0x10_1800, 0x4000_1800, 0x100, 'rw', 48)).toBe(1);
    expect(d.lookup(0x10_1000)).toEqual({ iova: 0x10_1000, hpa: 0x4000_1000, perm: 'rw' });
    expect(d.lookup(0x10_1fff)?.hpa).toBe(0x4000_1000);
    expect(d.bufferAt(0x10_1800)).toMatchObject({ size: 0x100 });
    expect(d.bufferAt(0x10_1000)).toBeUndefined(); // granted by the page, not part of the buffer
  });

  it.each([
    ['offsets differ within the page', () => paging().map(0x1000, 0x2800, 0x100, 'r', 48)],
    ['beyond the address width', () => paging().map(2 ** 39 - 0x1000, 0x1000, 0x2000, 'r', 39)],
    ['empty size', () => paging().map(0x1000, 0x1000, 0, 'r', 48)],
    ['already mapped (iommu_map -EEXIST)', () => {
      const d = paging();
      d.map(0x1000, 0x1000, 0x1000, 'r', 48);
      d.map(0x1800, 0x5800, 0x10, 'r', 48);
    }],
    ['map into an identity domain', () => new Domain(2, 'id', 'identity', 'strict', {}).map(0, 0, 0x1000, 'r', 48)],
  ])('rejects %s with an IommuError', (_case, act) => {
    expect(act).toThrow(IommuError);
  });

  it('unmap clears every touched page and reports how many were mapped', () => {
    const d = paging();
    d.map(0x1000, 0x9000, 0x2000, 'r', 48);
    expect(d.unmap(0x1800, 0x2000)).toEqual({ first: 1, count: 3, unmapped: 2 });
    expect(d.lookup(0x1000)).toBeUndefined();
    expect(d.buffers).toEqual([]);
  });

  it.each([
    ['identity', { iova: 0x5000, hpa: 0x5000, perm: 'rw' }],
    ['blocked', undefined],
  ] as const)('%s domain lookup', (mode, expected) => {
    expect(new Domain(3, mode, mode, 'strict', {}).lookup(0x5123)).toEqual(expected);
  });
});
