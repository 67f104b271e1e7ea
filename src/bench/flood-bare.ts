/**
 * Figure 2: the flood workload on a bare binary-heap loop with no tlplab
 * code — the baseline the kernel, fabric and IOMMU are compared with in the
 * same process. It makes the same decisions as tlplab, written the shortest
 * way: nodes are integer indices into typed arrays, dispatch is a switch,
 * events are the textbook heap's objects (bare-heap.ts).
 *
 * Work per TLP, as in tlplab: the endpoint's own-BAR check when it posts;
 * at each downstream and root port ACS SV (requester bus within
 * secondary..subordinate), the port's own window (same-link check), a
 * binary-search peer decode on the port's bus and RR; at the switch
 * upstream port its window; at the root complex the interrupt-window and
 * page-crossing checks, the context (Map by requester ID), an LRU IOTLB
 * (512 entries, refreshed on hit), the page table (Map by page) on a
 * miss, the permission, a fault record on a fault, and a binary-search
 * memory decode on success.
 */
import { performance } from 'node:perf_hooks';
import { BareHeap } from './bare-heap.ts';
import {
  checkFlood,
  floodAddress,
  FLOOD_HOP_NS,
  FLOOD_INTERVAL_NS,
  FLOOD_MAPPED_BYTES,
  FLOOD_PAGE_SIZE,
  FLOOD_PORTS_PER_SWITCH,
  FLOOD_RAM_BASE,
  type FloodShape,
} from './flood-shape.ts';
import type { FloodRun } from './flood-tlplab.ts';

const PORT = 0;
const UPSTREAM = 1;
const ROOT = 2;
const SV = 1;
const RR = 4;
const INJECT = -1;
const IOTLB_CAPACITY = 512;
const MMIO_BASE = 0xc000_0000;
const BAR_SIZE = 0x4000;
const INTERRUPT_BASE = 0xfee0_0000;
const INTERRUPT_END = 0xfef0_0000;

class BareTlp {
  hops = 0;
  redirected = false;
  constructor(
    public rid: number,
    public address: number,
    /** Node the TLP arrives at next. */
    public node: number,
  ) {}
}

interface PageEntry {
  readonly hpaPage: number;
  readonly perm: number;
}

interface FaultEntry {
  readonly time: number;
  readonly rid: number;
  readonly address: number;
  readonly code: number;
}

/** Sorted, non-overlapping ranges → node index; -1 when none. */
class Decode {
  readonly bases: number[] = [];
  readonly ends: number[] = [];
  readonly nodes: number[] = [];
  add(base: number, end: number, node: number): void {
    this.bases.push(base);
    this.ends.push(end);
    this.nodes.push(node);
  }
  find(address: number): number {
    const bases = this.bases;
    let lo = 0;
    let hi = bases.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bases[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && address < this.ends[hi]! ? this.nodes[hi]! : -1;
  }
}

/**
 * An LRU cache of page entries: Map key → slot, recency as a linked list of
 * slots in typed arrays (slot 0 is the sentinel). The same algorithm a
 * careful hand-written loop would use, so the baseline is not slowed by a
 * naive LRU.
 */
class BareLru {
  private readonly slotOf = new Map<number, number>();
  private readonly keyAt: Float64Array;
  private readonly entryAt: (PageEntry | undefined)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private used = 0;

  constructor(private readonly capacity: number) {
    this.keyAt = new Float64Array(capacity + 1);
    this.entryAt = new Array<PageEntry | undefined>(capacity + 1).fill(undefined);
    this.prev = new Int32Array(capacity + 1);
    this.next = new Int32Array(capacity + 1);
  }

  get(key: number): PageEntry | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    this.unlink(slot);
    this.linkLast(slot);
    return this.entryAt[slot];
  }

  /** Fills a missing key, reusing the least recently used slot when full. */
  fill(key: number, entry: PageEntry): void {
    let slot: number;
    if (this.used < this.capacity) slot = ++this.used;
    else {
      slot = this.next[0]!;
      this.slotOf.delete(this.keyAt[slot]!);
      this.unlink(slot);
    }
    this.keyAt[slot] = key;
    this.entryAt[slot] = entry;
    this.slotOf.set(key, slot);
    this.linkLast(slot);
  }

  private unlink(slot: number): void {
    const prev = this.prev[slot]!;
    const next = this.next[slot]!;
    this.next[prev] = next;
    this.prev[next] = prev;
  }

  private linkLast(slot: number): void {
    const last = this.prev[0]!;
    this.next[last] = slot;
    this.prev[slot] = last;
    this.next[slot] = 0;
    this.prev[0] = slot;
  }
}

/** The flood machine as arrays: ⌈endpoints/16⌉ root ports, each with a switch, one endpoint per DSP. */
class BareMachine {
  readonly kind: number[] = [];
  readonly up: number[] = [];
  readonly secondary: number[] = [];
  readonly subordinate: number[] = [];
  readonly acs: number[] = [];
  readonly windowBase: number[] = [];
  readonly windowEnd: number[] = [];
  /** The bus each port sits on, for peer decode. */
  readonly bus: Decode[] = [];
  readonly rootBus = new Decode();
  readonly endpointRid: number[] = [];
  readonly endpointBar: number[] = [];
  readonly endpointPort: number[] = [];
  readonly contexts = new Map<number, { readonly id: number; readonly pages: Map<number, PageEntry> }>();
  readonly memory = new Decode();
  readonly root: number;

  constructor(endpoints: number) {
    this.root = this.node(ROOT, -1, 0, 0, 0, 0, 0, this.rootBus);
    let bus = 0;
    for (let s = 0; s * FLOOD_PORTS_PER_SWITCH < endpoints; s++) {
      const first = s * FLOOD_PORTS_PER_SWITCH;
      const count = Math.min(FLOOD_PORTS_PER_SWITCH, endpoints - first);
      const base = MMIO_BASE + first * BAR_SIZE;
      const end = base + count * BAR_SIZE;
      const rpBus = ++bus;
      const internal = ++bus;
      const rp = this.node(PORT, this.root, rpBus, rpBus + 1 + count, SV | RR | 8 | 16, base, end, this.rootBus);
      this.rootBus.add(base, end, rp);
      const switchBus = new Decode();
      const usp = this.node(UPSTREAM, rp, internal, internal + count, 0, base, end, this.rootBus);
      for (let p = 0; p < count; p++) {
        const k = first + p;
        const linkBus = ++bus;
        const barBase = base + p * BAR_SIZE;
        const dp = this.node(PORT, usp, linkBus, linkBus, SV | RR | 8 | 16, barBase, barBase + BAR_SIZE, switchBus);
        switchBus.add(barBase, barBase + BAR_SIZE, dp);
        this.endpointRid.push(linkBus << 8);
        this.endpointBar.push(barBase);
        this.endpointPort.push(dp);
        const hpa = FLOOD_RAM_BASE + k * FLOOD_MAPPED_BYTES;
        this.memory.add(hpa, hpa + FLOOD_MAPPED_BYTES, k);
        const pages = new Map<number, PageEntry>();
        for (let page = 0; page < FLOOD_MAPPED_BYTES / FLOOD_PAGE_SIZE; page++) pages.set(page, { hpaPage: hpa / FLOOD_PAGE_SIZE + page, perm: 3 });
        this.contexts.set(linkBus << 8, { id: k + 1, pages });
      }
    }
  }

  private node(kind: number, up: number, secondary: number, subordinate: number, acs: number, windowBase: number, windowEnd: number, bus: Decode): number {
    this.kind.push(kind);
    this.up.push(up);
    this.secondary.push(secondary);
    this.subordinate.push(subordinate);
    this.acs.push(acs);
    this.windowBase.push(windowBase);
    this.windowEnd.push(windowEnd);
    this.bus.push(bus);
    return this.kind.length - 1;
  }
}

/** Runs the flood on the bare loop; checks the counts like the tlplab run (throws FloodMismatchError). */
export function runFloodBare(shape: FloodShape): FloodRun {
  const buildStart = performance.now();
  const m = new BareMachine(shape.endpoints);
  const heap = new BareHeap<BareTlp>();
  const iotlb = new BareLru(IOTLB_CAPACITY);
  const faults: FaultEntry[] = [];
  const tick = new BareTlp(0, 0, INJECT);
  let delivered = 0;
  let faulted = 0;
  let other = 0;
  let hops = 0;
  let next = 0;
  if (shape.tlps > 0) heap.push(0, tick);
  const start = performance.now();
  for (let event = heap.pop(); event !== undefined; event = heap.pop()) {
    const now = event.time;
    const tlp = event.payload;
    const n = tlp.node;
    if (n === INJECT) {
      const address = floodAddress(next);
      for (let k = 0; k < shape.endpoints; k++) {
        const bar = m.endpointBar[k]!;
        if (address >= bar && address < bar + BAR_SIZE) other++; // own BAR: not in this workload
        else heap.push(now + FLOOD_HOP_NS, new BareTlp(m.endpointRid[k]!, address, m.endpointPort[k]!));
      }
      if (++next < shape.tlps) heap.push(now + FLOOD_INTERVAL_NS, tick);
      continue;
    }
    hops++;
    tlp.hops++;
    const address = tlp.address;
    switch (m.kind[n]) {
      case PORT: {
        const bus = tlp.rid >> 8;
        const acs = m.acs[n]!;
        if ((acs & SV) !== 0 && (bus < m.secondary[n]! || bus > m.subordinate[n]!)) {
          other++;
          continue;
        }
        if (address >= m.windowBase[n]! && address < m.windowEnd[n]!) {
          other++; // same link: UF / reflect, not in this workload
          continue;
        }
        const peer = m.bus[n]!.find(address);
        if (peer >= 0 && peer !== n) {
          if ((acs & RR) === 0) {
            tlp.node = peer;
            heap.push(now + FLOOD_HOP_NS, tlp);
            continue;
          }
          tlp.redirected = true;
        }
        tlp.node = m.up[n]!;
        heap.push(now + FLOOD_HOP_NS, tlp);
        continue;
      }
      case UPSTREAM:
        if (!tlp.redirected && address >= m.windowBase[n]! && address < m.windowEnd[n]!) {
          other++;
          continue;
        }
        tlp.node = m.up[n]!;
        heap.push(now + FLOOD_HOP_NS, tlp);
        continue;
      default: {
        if (address >= INTERRUPT_BASE && address < INTERRUPT_END) {
          other++;
          continue;
        }
        if ((address % FLOOD_PAGE_SIZE) + 4 > FLOOD_PAGE_SIZE) {
          other++;
          continue;
        }
        const ctx = m.contexts.get(tlp.rid);
        if (ctx === undefined) {
          faults.push({ time: now, rid: tlp.rid, address, code: 0x2 });
          faulted++;
          continue;
        }
        const page = Math.floor(address / FLOOD_PAGE_SIZE);
        const key = ctx.id * 2 ** 36 + page;
        let entry = iotlb.get(key);
        if (entry === undefined) {
          entry = ctx.pages.get(page);
          if (entry === undefined) {
            faults.push({ time: now, rid: tlp.rid, address, code: 0x6 });
            faulted++;
            continue;
          }
          iotlb.fill(key, entry);
        }
        if ((entry.perm & 2) === 0) {
          faults.push({ time: now, rid: tlp.rid, address, code: 0x5 });
          faulted++;
          continue;
        }
        const hpa = entry.hpaPage * FLOOD_PAGE_SIZE + (address % FLOOD_PAGE_SIZE);
        if (m.memory.find(hpa) >= 0) delivered++;
        else other++;
      }
    }
  }
  const runMs = performance.now() - start;
  const run: FloodRun = { delivered, faulted, hops, runMs, buildMs: start - buildStart, faultsLogged: faults.length };
  checkFlood('bare flood', shape, { ...run, other });
  return run;
}
