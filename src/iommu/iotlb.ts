/**
 * The IOTLB: a bounded cache of 4 KiB translations tagged by domain ID and
 * page (VT-d 5.10 §6.2.1 tagging, §6.2.4 IOTLB). Entries keep the
 * permissions they were filled with, and the hardware may use them until
 * software invalidates them (§3.7.1: "hardware might not use that change
 * for a subsequent access"), so an entry whose page-table entry is gone
 * still translates: the stale window. Replacement is least-recently-used,
 * or a seeded random choice (`victim`) where a scenario asks for it.
 *
 * Hot path: one Map lookup keyed by a number, no allocation on a hit; a
 * fill allocates only its entry.
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

/** Slot 0 is the recency list's sentinel: next[0] is the least recently used slot, prev[0] the most. */
const HEAD = 0;

/*
 * Recency is a doubly linked list of slot numbers in typed arrays, beside a
 * Map from key to slot: a hit relinks two slots instead of deleting and
 * re-inserting a Map entry, and eviction takes next[HEAD] instead of
 * allocating a Map iterator (the flood benchmark's profile had both among
 * the IOMMU's top costs).
 */
export class Iotlb {
  private readonly slotOf = new Map<number, number>();
  private entryAt: (IotlbEntry | undefined)[] = [undefined];
  private keyAt = new Float64Array(1);
  private prev = new Int32Array(1);
  private next = new Int32Array(1);
  private readonly freeSlots: number[] = [];
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(
    readonly capacity: number,
    /** Picks the index of the entry to evict among `size` (random replacement); null: least recently used. */
    private readonly victim: ((size: number) => number) | null = null,
  ) {}

  get size(): number {
    return this.slotOf.size;
  }

  /** Looks up and marks most recently used; counts a hit or a miss. */
  get(domainId: number, page: number): IotlbEntry | undefined {
    const slot = this.slotOf.get(keyOf(domainId, page));
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.unlink(slot);
    this.linkLast(slot);
    return this.entryAt[slot];
  }

  /** Looks up without touching recency or counters (for observers such as the verdict engine). */
  peek(domainId: number, page: number): IotlbEntry | undefined {
    const slot = this.slotOf.get(keyOf(domainId, page));
    return slot === undefined ? undefined : this.entryAt[slot];
  }

  /** Fills an entry, evicting the least recently used one when full; returns the victim. */
  insert(domainId: number, page: number, hpaPage: number, perm: number, now: number): IotlbEntry | null {
    const key = keyOf(domainId, page);
    const existing = this.slotOf.get(key);
    if (existing !== undefined) this.drop(existing);
    let victim: IotlbEntry | null = null;
    if (this.slotOf.size >= this.capacity && this.next[HEAD] !== HEAD) {
      // Random replacement walks the map on eviction only; the hit path stays one lookup.
      const out = this.victim === null ? this.next[HEAD]! : [...this.slotOf.values()][this.victim(this.slotOf.size)]!;
      victim = this.entryAt[out]!;
      this.drop(out);
      this.evictions++;
    }
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.newSlot();
    this.entryAt[slot] = { domainId, page, hpaPage, perm, filledAt: now };
    this.keyAt[slot] = key;
    this.slotOf.set(key, slot);
    this.linkLast(slot);
    return victim;
  }

  /** Page-selective invalidation (VT-d §6.5.2.3 granularity PSI); returns entries dropped. */
  invalidatePages(domainId: number, first: number, count: number): number {
    let dropped = 0;
    if (count <= this.slotOf.size) {
      for (let page = first; page < first + count; page++) {
        const slot = this.slotOf.get(keyOf(domainId, page));
        if (slot === undefined) continue;
        this.drop(slot);
        dropped++;
      }
      return dropped;
    }
    for (const slot of [...this.slotOf.values()]) {
      const entry = this.entryAt[slot]!;
      if (entry.domainId === domainId && entry.page >= first && entry.page < first + count) {
        this.drop(slot);
        dropped++;
      }
    }
    return dropped;
  }

  /** Domain-selective invalidation (Linux flush_iotlb_all for one domain); returns entries dropped. */
  invalidateDomain(domainId: number): number {
    let dropped = 0;
    for (const slot of [...this.slotOf.values()]) {
      if (this.entryAt[slot]!.domainId === domainId) {
        this.drop(slot);
        dropped++;
      }
    }
    return dropped;
  }

  /** Global invalidation; returns entries dropped. */
  invalidateAll(): number {
    const dropped = this.slotOf.size;
    for (const slot of [...this.slotOf.values()]) this.drop(slot);
    return dropped;
  }

  /** Entries from least to most recently used (for tests and reports). */
  list(): IotlbEntry[] {
    const entries: IotlbEntry[] = [];
    for (let slot = this.next[HEAD]!; slot !== HEAD; slot = this.next[slot]!) entries.push(this.entryAt[slot]!);
    return entries;
  }

  private drop(slot: number): void {
    this.slotOf.delete(this.keyAt[slot]!);
    this.unlink(slot);
    this.entryAt[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private unlink(slot: number): void {
    const prev = this.prev[slot]!;
    const next = this.next[slot]!;
    this.next[prev] = next;
    this.prev[next] = prev;
  }

  private linkLast(slot: number): void {
    const last = this.prev[HEAD]!;
    this.next[last] = slot;
    this.prev[slot] = last;
    this.next[slot] = HEAD;
    this.prev[HEAD] = slot;
  }

  /** A never-used slot; the arrays double as the cache fills up to its capacity. */
  private newSlot(): number {
    const slot = this.entryAt.length;
    if (slot === this.keyAt.length) {
      const size = slot * 2;
      const keyAt = new Float64Array(size);
      keyAt.set(this.keyAt);
      const prev = new Int32Array(size);
      prev.set(this.prev);
      const next = new Int32Array(size);
      next.set(this.next);
      this.keyAt = keyAt;
      this.prev = prev;
      this.next = next;
    }
    this.entryAt.push(undefined);
    return slot;
  }
}
