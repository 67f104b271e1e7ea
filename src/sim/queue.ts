/**
 * Binary min-heap of events keyed (time, priority, sequence).
 *
 * The key is split over two float64 lanes: `time` (integer ns) and
 * `order` = priority * 2^40 + sequence. Comparing (time, order) therefore
 * orders by time, then priority, then insertion: ties are first-in-first-out
 * and a run repeats exactly. Parallel arrays instead of one object per entry
 * keep the hot path free of allocation (DESIGN.md §1).
 */

const SEQUENCE_BITS = 2 ** 40;
export const MAX_PRIORITY = 4095;

export class EventQueue<H, P> {
  private times = new Float64Array(1024);
  private orders = new Float64Array(1024);
  private handlers: (H | undefined)[] = new Array(1024);
  private payloads: (P | undefined)[] = new Array(1024);
  private count = 0;
  private sequence = 0;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.times[0]!;
  }

  push(time: number, priority: number, handler: H, payload: P): void {
    if (this.sequence >= SEQUENCE_BITS) throw new RangeError('event sequence exhausted (2^40 events)');
    if (this.count === this.times.length) this.grow();
    const order = priority * SEQUENCE_BITS + this.sequence++;
    // Sift up: move parents down until the slot for the new key is found.
    let i = this.count++;
    const times = this.times;
    const orders = this.orders;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && orders[parent]! < order)) break;
      this.move(parent, i);
      i = parent;
    }
    times[i] = time;
    orders[i] = order;
    this.handlers[i] = handler;
    this.payloads[i] = payload;
  }

  /** Removes the earliest event, leaving it readable through the `popped*` fields. */
  pop(): boolean {
    if (this.count === 0) return false;
    this.poppedTime = this.times[0]!;
    this.poppedHandler = this.handlers[0] as H;
    this.poppedPayload = this.payloads[0] as P;
    const last = --this.count;
    const time = this.times[last]!;
    const order = this.orders[last]!;
    const handler = this.handlers[last];
    const payload = this.payloads[last];
    this.handlers[last] = undefined;
    this.payloads[last] = undefined;
    if (last > 0) {
      // Sift down the former last entry from the root.
      const times = this.times;
      const orders = this.orders;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        const right = child + 1;
        if (
          right < last &&
          (times[right]! < times[child]! || (times[right] === times[child] && orders[right]! < orders[child]!))
        ) {
          child = right;
        }
        const ct = times[child]!;
        if (ct > time || (ct === time && orders[child]! > order)) break;
        this.move(child, i);
        i = child;
      }
      times[i] = time;
      orders[i] = order;
      this.handlers[i] = handler;
      this.payloads[i] = payload;
    }
    return true;
  }

  poppedTime = 0;
  poppedHandler: H | undefined = undefined;
  poppedPayload: P | undefined = undefined;

  clear(): void {
    this.handlers.fill(undefined, 0, this.count);
    this.payloads.fill(undefined, 0, this.count);
    this.count = 0;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.orders[to] = this.orders[from]!;
    this.handlers[to] = this.handlers[from];
    this.payloads[to] = this.payloads[from];
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    times.set(this.times);
    const orders = new Float64Array(capacity);
    orders.set(this.orders);
    this.times = times;
    this.orders = orders;
    this.handlers.length = capacity;
    this.payloads.length = capacity;
  }
}
