/** Address ranges and a sorted, non-overlapping range index with binary-search lookup. */

export interface AddressRange {
  readonly base: number;
  readonly size: number;
}

export function rangeContains(range: AddressRange, address: number, length = 1): boolean {
  return address >= range.base && address + length <= range.base + range.size;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export function formatAddress(address: number): string {
  return `0x${address.toString(16)}`;
}

export function formatRange(range: AddressRange): string {
  return `[${formatAddress(range.base)}-${formatAddress(range.base + range.size - 1)}]`;
}

/**
 * Non-overlapping ranges, each with a value, sorted by base.
 * `find` is O(log n) and allocation-free: it sits on the routing hot path.
 */
export class RangeIndex<T> {
  private bases: number[] = [];
  private ends: number[] = [];
  private values: T[] = [];

  get size(): number {
    return this.values.length;
  }

  /** Adds a range; throws if it overlaps one already present. */
  add(range: AddressRange, value: T): void {
    if (range.size <= 0) throw new RangeError(`empty range at ${formatAddress(range.base)}`);
    const end = range.base + range.size;
    let at = this.bases.length;
    while (at > 0 && this.bases[at - 1]! > range.base) at--;
    if ((at > 0 && this.ends[at - 1]! > range.base) || (at < this.bases.length && this.bases[at]! < end)) {
      throw new RangeError(`range ${formatRange(range)} overlaps an existing range`);
    }
    this.bases.splice(at, 0, range.base);
    this.ends.splice(at, 0, end);
    this.values.splice(at, 0, value);
  }

  /** The value whose range holds `address`, or undefined. */
  find(address: number): T | undefined {
    const at = this.indexOf(address);
    return at < 0 ? undefined : this.values[at];
  }

  /** The range holding `address`, or undefined. */
  rangeAt(address: number): AddressRange | undefined {
    const at = this.indexOf(address);
    return at < 0 ? undefined : { base: this.bases[at]!, size: this.ends[at]! - this.bases[at]! };
  }

  /**
   * Cuts [base, base+length) at every range boundary and calls `visit` for
   * each piece in order, with the range's value or undefined for a hole.
   */
  pieces(base: number, length: number, visit: (base: number, length: number, value: T | undefined) => void): void {
    const end = base + length;
    // First range ending after `base`.
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= base) lo = mid + 1;
      else hi = mid;
    }
    let cursor = base;
    for (let i = lo; i < this.bases.length && cursor < end; i++) {
      const from = Math.max(this.bases[i]!, cursor);
      if (from >= end) break;
      if (from > cursor) visit(cursor, from - cursor, undefined);
      const to = Math.min(this.ends[i]!, end);
      visit(from, to - from, this.values[i]);
      cursor = to;
    }
    if (cursor < end) visit(cursor, end - cursor, undefined);
  }

  private indexOf(address: number): number {
    const bases = this.bases;
    let lo = 0;
    let hi = bases.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bases[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && address < this.ends[hi]! ? hi : -1;
  }

  *entries(): IterableIterator<[AddressRange, T]> {
    for (let i = 0; i < this.values.length; i++) {
      yield [{ base: this.bases[i]!, size: this.ends[i]! - this.bases[i]! }, this.values[i]!];
    }
  }
}
