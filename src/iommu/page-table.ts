/**
 * A domain's page table: 4 KiB entries (host page + permission), stored as
 * sorted extents of consecutive pages so that mapping a guest's whole RAM
 * (a gigabyte is 262 144 entries) costs one extent, not one object per page.
 * Behaviour is per page, as the hardware's: `get` answers for one page,
 * `unmap` splits extents.
 */

/** A page-table entry: host-physical page number and permission bits. */
export interface PageEntry {
  readonly hpaPage: number;
  readonly perm: number;
}

export class PageTable {
  private readonly firsts: number[] = [];
  private readonly counts: number[] = [];
  private readonly hpas: number[] = [];
  private readonly perms: number[] = [];
  private pages = 0;
  private readonly scratch = { hpaPage: 0, perm: 0 };

  /** Mapped pages. */
  get size(): number {
    return this.pages;
  }

  /**
   * The entry for `page`, or undefined. The object is reused by the next
   * call (the translation hot path allocates nothing): read it at once.
   */
  get(page: number): PageEntry | undefined {
    const i = this.extentOf(page);
    if (i < 0) return undefined;
    this.scratch.hpaPage = this.hpas[i]! + (page - this.firsts[i]!);
    this.scratch.perm = this.perms[i]!;
    return this.scratch;
  }

  has(page: number): boolean {
    return this.extentOf(page) >= 0;
  }

  /** The first mapped page in [first, first + count), or -1. */
  firstMappedIn(first: number, count: number): number {
    const at = this.upperBound(first) - 1;
    if (at >= 0 && this.firsts[at]! + this.counts[at]! > first) return first;
    const next = at + 1;
    return next < this.firsts.length && this.firsts[next]! < first + count ? this.firsts[next]! : -1;
  }

  /** Maps [first, first + count) to consecutive host pages; the range must be unmapped. */
  map(first: number, count: number, hpaFirst: number, perm: number): void {
    const at = this.upperBound(first);
    this.firsts.splice(at, 0, first);
    this.counts.splice(at, 0, count);
    this.hpas.splice(at, 0, hpaFirst);
    this.perms.splice(at, 0, perm);
    this.pages += count;
  }

  /** Clears every entry in [first, first + count); returns how many were present. */
  unmap(first: number, count: number): number {
    const end = first + count;
    let removed = 0;
    for (let i = Math.max(0, this.upperBound(first) - 1); i < this.firsts.length && this.firsts[i]! < end; ) {
      const eFirst = this.firsts[i]!;
      const eEnd = eFirst + this.counts[i]!;
      if (eEnd <= first) {
        i++;
        continue;
      }
      const cutFirst = Math.max(eFirst, first);
      const cutEnd = Math.min(eEnd, end);
      removed += cutEnd - cutFirst;
      const pieces: [number, number, number][] = [];
      if (eFirst < cutFirst) pieces.push([eFirst, cutFirst - eFirst, this.hpas[i]!]);
      if (cutEnd < eEnd) pieces.push([cutEnd, eEnd - cutEnd, this.hpas[i]! + (cutEnd - eFirst)]);
      const perm = this.perms[i]!;
      this.firsts.splice(i, 1, ...pieces.map((p) => p[0]));
      this.counts.splice(i, 1, ...pieces.map((p) => p[1]));
      this.hpas.splice(i, 1, ...pieces.map((p) => p[2]));
      this.perms.splice(i, 1, ...pieces.map(() => perm));
      i += pieces.length;
    }
    this.pages -= removed;
    return removed;
  }

  /** Index of the extent holding `page`, or -1. */
  private extentOf(page: number): number {
    const at = this.upperBound(page) - 1;
    return at >= 0 && page < this.firsts[at]! + this.counts[at]! ? at : -1;
  }

  /** Index of the first extent starting after `page`. */
  private upperBound(page: number): number {
    const firsts = this.firsts;
    let lo = 0;
    let hi = firsts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (firsts[mid]! <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
