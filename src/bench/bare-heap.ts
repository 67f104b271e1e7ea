/**
 * The baseline: a textbook binary min-heap of event objects and a loop that
 * pops and dispatches them, with no tlplab code. Benchmarks run the same
 * workload on it and on the kernel, in the same process, and report the ratio.
 */

export interface BareEvent<P = number> {
  time: number;
  seq: number;
  payload: P;
}

export class BareHeap<P = number> {
  private readonly items: BareEvent<P>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, payload: P): void {
    const item = { time, seq: this.seq++, payload };
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): BareEvent<P> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && less(items[child + 1]!, items[child]!)) child++;
      if (!less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function less<P>(a: BareEvent<P>, b: BareEvent<P>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
