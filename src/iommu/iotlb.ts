/**
 * The IOTLB: a bounded cache of 4 KiB translations tagged by domain ID and
 * page (VT-d 5.10 §6.2.1 tagging, §6.2.4 IOTLB). Entries keep the
 * permissions they were filled with, and the hardware may use them until
 * software invalidates them (§3.7.1: "hardware might not use that change
 * for a subsequent access"), so an entry whose page-table entry is gone
 * still translates: the stale window. Replacement is least-recently-used.
 *
 * Hot path: one Map lookup keyed by a number, no allocation on a hit.
 */

export interface IotlbEntry {
  readonly domainId: number;
  readonly page: number;
  readonly hpaPage: number;
  readonly perm: number;
  /** Simulated time the entry was filled. */
  readonly filledAt: number;
}

/** Page numbers stay below 2^36 (48-bit IOVAs), so (domain, page) packs into one safe integer. */
const PAGE_SPACE = 2 ** 36;

function keyOf(domainId: number, page: number): number {
  return domainId * PAGE_SPACE + page;
}

export class Iotlb {
  private readonly entries = new Map<number, IotlbEntry>();
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Looks up and marks most recently used; counts a hit or a miss. */
  get(domainId: number, page: number): IotlbEntry | undefined {
    const key = keyOf(domainId, page);
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Looks up without touching recency or counters (for observers such as the verdict engine). */
  peek(domainId: number, page: number): IotlbEntry | undefined {
    return this.entries.get(keyOf(domainId, page));
  }

  /** Fills an entry, evicting the least recently used one when full; returns the victim. */
  insert(domainId: number, page: number, hpaPage: number, perm: number, now: number): IotlbEntry | null {
    const key = keyOf(domainId, page);
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
    this.entries.set(key, { domainId, page, hpaPage, perm, filledAt: now });
    return victim;
  }

  /** Page-selective invalidation (VT-d §6.5.2.3 granularity PSI); returns entries dropped. */
  invalidatePages(domainId: number, first: number, count: number): number {
    let dropped = 0;
    if (count <= this.entries.size) {
      for (let page = first; page < first + count; page++) if (this.entries.delete(keyOf(domainId, page))) dropped++;
      return dropped;
    }
    for (const [key, entry] of this.entries) {
      if (entry.domainId === domainId && entry.page >= first && entry.page < first + count) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Domain-selective invalidation (Linux flush_iotlb_all for one domain); returns entries dropped. */
  invalidateDomain(domainId: number): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.domainId === domainId) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Global invalidation; returns entries dropped. */
  invalidateAll(): number {
    const dropped = this.entries.size;
    this.entries.clear();
    return dropped;
  }

  /** Entries from least to most recently used (for tests and reports). */
  list(): IotlbEntry[] {
    return [...this.entries.values()];
  }
}
