/**
 * Binary min-heap of events keyed (time, priority, rank, sequence).
 *
 * The key is split over two float64 lanes: `time` (integer ns) and
 * `order` = priority * 2^46 + rank * 2^40 + sequence (52 bits, exact in a
 * float64). Comparing (time, order) therefore orders by time, then
 * priority, then rank (a caller's tie-breaker, 0 by default), then
 * insertion: remaining ties are first-in-first-out and a run repeats
 * exactly. Parallel arrays instead of one object per entry keep the hot
 * path free of allocation (DESIGN.md §1).
 */

const SEQUENCE_BITS = 2 ** 40;
const RANK_BITS = 2 ** 6;
export const MAX_PRIORITY = 63;
export const MAX_RANK = RANK_BITS - 1;
const INITIAL_CAPACITY = 1024;

/*
 * The heap orders only numbers: (time, order, slot) in typed arrays. The
 * handler and payload of an event sit in `slot`, written once on push and
 * read once on pop, so sifting moves no object references: no GC write
 * barrier per level (the profile of the flood benchmark showed heap moves
 * of object arrays among the kernel's top costs).
 */
export class EventQueue<H, P> {
  private times = new Float64Array(INITIAL_CAPACITY);
  private orders = new Float64Array(INITIAL_CAPACITY);
  private slots = new Int32Array(INITIAL_CAPACITY);
  private handlers: (H | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private payloads: (P | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  /** Free slots, a stack; slots below `count + freeCount` have been used. */
  private free = new Int32Array(INITIAL_CAPACITY);
  private freeCount = 0;
  private count = 0;
  private sequence = 0;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.times[0]!;
  }

  push(time: number, priority: number, handler: H, payload: P, rank = 0): void {
    if (this.sequence >= SEQUENCE_BITS) throw new RangeError('event sequence exhausted (2^40 events)');
    if (this.count === this.times.length) this.grow();
    const order = (priority * RANK_BITS + rank) * SEQUENCE_BITS + this.sequence++;
    // A free slot, else the next never-used one (used slots = count + freeCount ≤ capacity).
    const slot = this.freeCount > 0 ? this.free[--this.freeCount]! : this.count + this.freeCount;
    this.handlers[slot] = handler;
    this.payloads[slot] = payload;
    // Sift up: move parents down until the place for the new key is found.
    let i = this.count++;
    const times = this.times;
    const orders = this.orders;
    const slots = this.slots;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && orders[parent]! < order)) break;
      times[i] = pt;
      orders[i] = orders[parent]!;
      slots[i] = slots[parent]!;
      i = parent;
    }
    times[i] = time;
    orders[i] = order;
    slots[i] = slot;
  }

  /** Removes the earliest event, leaving it readable through the `popped*` fields. */
  pop(): boolean {
    if (this.count === 0) return false;
    const times = this.times;
    const orders = this.orders;
    const slots = this.slots;
    const top = slots[0]!;
    this.poppedTime = times[0]!;
    this.poppedHandler = this.handlers[top] as H;
    this.poppedPayload = this.payloads[top] as P;
    this.handlers[top] = undefined;
    this.payloads[top] = undefined;
    this.free[this.freeCount++] = top;
    const last = --this.count;
    if (last > 0) {
      // Sift down the former last entry from the root.
      const time = times[last]!;
      const order = orders[last]!;
      const slot = slots[last]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        const right = child + 1;
        if (right < last && (times[right]! < times[child]! || (times[right] === times[child] && orders[right]! < orders[child]!))) {
          child = right;
        }
        const ct = times[child]!;
        if (ct > time || (ct === time && orders[child]! > order)) break;
        times[i] = ct;
        orders[i] = orders[child]!;
        slots[i] = slots[child]!;
        i = child;
      }
      times[i] = time;
      orders[i] = order;
      slots[i] = slot;
    }
    return true;
  }

  poppedTime = 0;
  poppedHandler: H | undefined = undefined;
  poppedPayload: P | undefined = undefined;

  clear(): void {
    this.handlers.fill(undefined);
    this.payloads.fill(undefined);
    this.count = 0;
    this.freeCount = 0;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const widen = <A extends Float64Array | Int32Array>(from: A, to: A): A => (to.set(from), to);
    this.times = widen(this.times, new Float64Array(capacity));
    this.orders = widen(this.orders, new Float64Array(capacity));
    this.slots = widen(this.slots, new Int32Array(capacity));
    this.free = widen(this.free, new Int32Array(capacity));
    for (let i = this.handlers.length; i < capacity; i++) {
      this.handlers.push(undefined);
      this.payloads.push(undefined);
    }
  }
}
