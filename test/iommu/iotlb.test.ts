/** IOTLB: bounded, LRU, tagged by domain ID and page (VT-d 5.10 §6.2.1, §6.2.4). */
import { describe, expect, it } from 'vitest';
import { Iotlb } from '../../src/iommu/iotlb.ts';

describe('Iotlb (VT-d 5.10 §6.2.4)', () => {
  it('evicts the least recently used entry when full', () => {
    const tlb = new Iotlb(2);
    tlb.insert(1, 10, 100, 3, 0);
    tlb.insert(1, 11, 101, 3, 0);
    expect(tlb.get(1, 10)).toBeDefined(); // 10 is now most recently used
    const victim = tlb.insert(1, 12, 102, 3, 0);
    expect(victim?.page).toBe(11);
    expect(tlb.peek(1, 11)).toBeUndefined();
    expect(tlb.list().map((e) => e.page)).toEqual([10, 12]);
    expect(tlb.evictions).toBe(1);
  });

  it('peek does not refresh recency', () => {
    const tlb = new Iotlb(2);
    tlb.insert(1, 10, 100, 3, 0);
    tlb.insert(1, 11, 101, 3, 0);
    tlb.peek(1, 10);
    expect(tlb.insert(1, 12, 102, 3, 0)?.page).toBe(10);
  });

  it('tags entries by domain (§6.2.1): the same page in two domains is two entries', () => {
    const tlb = new Iotlb(8);
    tlb.insert(1, 5, 100, 3, 0);
    tlb.insert(2, 5, 200, 1, 0);
    expect(tlb.get(1, 5)?.hpaPage).toBe(100);
    expect(tlb.get(2, 5)?.hpaPage).toBe(200);
    expect(tlb.get(3, 5)).toBeUndefined();
    expect([tlb.hits, tlb.misses]).toEqual([2, 1]);
  });

  it.each([
    ['page-selective', (t: Iotlb) => t.invalidatePages(1, 5, 2), 2, [[1, 7], [2, 5]]],
    ['domain-selective', (t: Iotlb) => t.invalidateDomain(1), 3, [[2, 5]]],
    ['global', (t: Iotlb) => t.invalidateAll(), 4, []],
  ] as const)('%s invalidation (§6.5.2.3) drops exactly its entries', (_name, invalidate, dropped, left) => {
    const tlb = new Iotlb(8);
    for (const [d, p] of [[1, 5], [1, 6], [1, 7], [2, 5]] as const) tlb.insert(d, p, p, 3, 0);
    expect(invalidate(tlb)).toBe(dropped);
    expect(tlb.list().map((e) => [e.domainId, e.page])).toEqual(left);
  });

  it('keeps 48-bit IOVAs of different domains apart (packed keys do not collide)', () => {
    const tlb = new Iotlb(4);
    const top = 2 ** 36 - 1;
    tlb.insert(1, top, 1, 3, 0);
    tlb.insert(2, 0, 2, 3, 0);
    expect(tlb.peek(1, top)?.hpaPage).toBe(1);
    expect(tlb.peek(2, 0)?.hpaPage).toBe(2);
  });
});
