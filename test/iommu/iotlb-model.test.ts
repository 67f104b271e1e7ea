/**
 * The IOTLB against the Map-based LRU it replaced (kept here as the
 * reference): any sequence of lookups, fills and invalidations gives the
 * same entries, victims, counters and recency order (VT-d 5.10 §6.2.4:
 * replacement is implementation-specific; tlplab's is least-recently-used).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Iotlb, type IotlbEntry } from '../../src/iommu/iotlb.ts';

const PAGE_SPACE = 2 ** 36;

/** The former implementation: a Map whose insertion order is the recency order. */
class MapLru {
  readonly entries = new Map<number, IotlbEntry>();
  hits = 0;
  misses = 0;
  evictions = 0;
  constructor(readonly capacity: number) {}
  get(d: number, p: number) {
    const key = d * PAGE_SPACE + p;
    const e = this.entries.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }
  peek(d: number, p: number) {
    return this.entries.get(d * PAGE_SPACE + p);
  }
  insert(d: number, p: number, hpaPage: number, perm: number, now: number) {
    const key = d * PAGE_SPACE + p;
    this.entries.delete(key);
    let victim: IotlbEntry | null = null;
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        victim = this.entries.get(oldest.value)!;
        this.entries.delete(oldest.value);
        this.evictions++;
      }
    }
    this.entries.set(key, { domainId: d, page: p, hpaPage, perm, filledAt: now });
    return victim;
  }
  invalidatePages(d: number, first: number, count: number) {
    let dropped = 0;
    for (const [key, e] of this.entries) {
      if (e.domainId === d && e.page >= first && e.page < first + count) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
  invalidateDomain(d: number) {
    return this.invalidatePages(d, 0, PAGE_SPACE);
  }
  invalidateAll() {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }
}

const dom = fc.integer({ min: 1, max: 3 });
const page = fc.integer({ min: 0, max: 12 });
const op = fc.oneof(
  fc.tuple(fc.constant('get' as const), dom, page),
  fc.tuple(fc.constant('peek' as const), dom, page),
  fc.tuple(fc.constant('insert' as const), dom, page),
  fc.tuple(fc.constant('insert' as const), dom, page),
  fc.tuple(fc.constant('pages' as const), dom, page),
  fc.tuple(fc.constant('domain' as const), dom, page),
  fc.tuple(fc.constant('all' as const), dom, page),
);

describe('Iotlb LRU (VT-d 5.10 §6.2.4) behaves as the Map-based LRU it replaced', () => {
  it('gives the same results, victims, counters and order for any operation sequence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const tlb = new Iotlb(capacity);
        const ref = new MapLru(capacity);
        ops.forEach(([kind, d, p], now) => {
          switch (kind) {
            case 'get':
              return expect(tlb.get(d, p)).toEqual(ref.get(d, p));
            case 'peek':
              return expect(tlb.peek(d, p)).toEqual(ref.peek(d, p));
            case 'insert':
              return expect(tlb.insert(d, p, p + 100 * d, 1 + (now % 3), now)).toEqual(ref.insert(d, p, p + 100 * d, 1 + (now % 3), now));
            case 'pages':
              return expect(tlb.invalidatePages(d, p, 1 + (now % 4))).toBe(ref.invalidatePages(d, p, 1 + (now % 4)));
            case 'domain':
              return expect(tlb.invalidateDomain(d)).toBe(ref.invalidateDomain(d));
            case 'all':
              if (now % 5 === 0) expect(tlb.invalidateAll()).toBe(ref.invalidateAll());
          }
        });
        expect(tlb.list()).toEqual([...ref.entries.values()]);
        expect([tlb.size, tlb.hits, tlb.misses, tlb.evictions]).toEqual([ref.entries.size, ref.hits, ref.misses, ref.evictions]);
      }),
    );
  });
});
