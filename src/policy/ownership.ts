/**
 * Who owns what, over time (DESIGN.md §3): memory regions, BARs (and
 * sub-ranges of a BAR owned by someone else, such as a host driver's
 * migration registers in a guest device's BAR), and each function. It is
 * the fabric's Attribution: every byte span a TLP touches is cut at region,
 * BAR and sub-region boundaries and labelled with its owner *at the instant
 * the TLP lands* (the fabric asks when it ends the TLP), so an ending record
 * carries the owner of the moment.
 *
 * Owners change at host steps — a device assigned or released (its BARs
 * follow it), a region reassigned or freed back to the host's allocator, a
 * quarantine scratch page set aside — and each change is kept as a
 * timeline: the owner at time t is the last change at or before t. Host
 * steps run before traffic of the same nanosecond (Priority.Control), so a
 * TLP landing at the instant of a change sees the new owner, one landing a
 * nanosecond earlier the old one.
 */
import type { Attribution, ByteSpan } from '../fabric/ending.ts';
import { RangeIndex, type AddressRange } from '../pcie/range.ts';

export type Principal = string;

/** BAR sub-region label of a quarantine scratch page (Xen `iommu=quarantine=scratch-page`). */
export const SCRATCH_SUB = 'quarantine-scratch';

export interface Owned extends AddressRange {
  readonly name: string;
  readonly owner: Principal;
  readonly kind: 'memory' | 'bar';
  /** For a BAR piece: the BAR's name ("nic.bar0"); `name` is the sub-region's when it has one. */
  readonly bar: string | null;
}

export interface BarOwnership extends AddressRange {
  readonly name: string;
  readonly owner: Principal;
  /** The function whose BAR it is: the BAR's owner follows that function's owner over time. */
  readonly fn?: string;
  /** Sub-ranges (offsets into the BAR) owned by another principal; they keep their owner. */
  readonly regions: readonly { readonly name: string; readonly offset: number; readonly size: number; readonly owner: Principal }[];
}

/** A value that changes at instants: `at(t)` is the last value set at or before t. */
export class Timeline<T> {
  private readonly times: number[] = [-Infinity];
  private readonly values: T[];

  constructor(initial: T) {
    this.values = [initial];
  }

  /** Records a change at `time` (not before the last change; a second change at one instant replaces the first). */
  set(time: number, value: T): void {
    const last = this.times.length - 1;
    if (time < this.times[last]!) throw new RangeError(`a change at ${time} ns comes before the one at ${this.times[last]} ns`);
    if (time === this.times[last]) this.values[last] = value;
    else {
      this.times.push(time);
      this.values.push(value);
    }
  }

  at(time: number): T {
    let i = this.times.length - 1;
    while (i > 0 && this.times[i]! > time) i--;
    return this.values[i]!;
  }

  /** Every change after the initial value, in order. */
  changes(): { time: number; value: T }[] {
    return this.times.slice(1).map((time, i) => ({ time, value: this.values[i + 1]! }));
  }
}

interface MemoryPiece {
  readonly name: string;
  readonly owners: Timeline<Principal>;
}

interface BarPiece {
  readonly name: string;
  readonly bar: string;
  /** A sub-region's fixed owner; null: the BAR's function's owner. */
  readonly fixed: Principal | null;
  readonly fallback: Principal;
  readonly fn: string | undefined;
}

/** A stretch of memory owned by nobody from `from` on: its contents are no principal's data. */
interface Sink {
  readonly name: string;
  readonly from: number;
}

export class Ownership implements Attribution {
  private readonly memory = new RangeIndex<MemoryPiece>();
  private readonly regions = new Map<string, MemoryPiece>();
  private readonly bars = new RangeIndex<BarPiece>();
  private readonly sinks = new RangeIndex<Sink>();
  private readonly functionOwners = new Map<string, Timeline<Principal | null>>();

  constructor(
    memory: readonly (AddressRange & { readonly name: string; readonly owner: Principal })[],
    bars: readonly BarOwnership[],
    /** Owner of each function, by id (at time 0). */
    functions: ReadonlyMap<string, Principal>,
    /** The simulated clock: Attribution calls (made when a TLP lands) read the owners of this instant. */
    private readonly clock: { readonly now: number } = { now: 0 },
  ) {
    for (const m of memory) {
      const piece = { name: m.name, owners: new Timeline(m.owner) };
      this.memory.add(m, piece);
      this.regions.set(m.name, piece);
    }
    for (const [id, owner] of functions) this.functionOwners.set(id, new Timeline<Principal | null>(owner));
    for (const bar of bars) for (const piece of splitBar(bar)) this.bars.add(piece, piece);
  }

  /** Whose programming a function runs (DeviceControl); unset or null: its owner. */
  actors: ((id: string) => Principal | null) | null = null;

  /** Attribution: whom the function's TLPs act for, fixed on each when it is issued. */
  actorOf(id: string): Principal | null {
    return this.actors?.(id) ?? this.ownerOfFunction(id);
  }

  // Changes (host steps).

  /** The function (and its BARs, but not sub-regions others keep) belongs to `owner` from `time`. */
  assignFunction(id: string, owner: Principal, time: number): void {
    const timeline = this.functionOwners.get(id);
    if (timeline === undefined) this.functionOwners.set(id, withChange(null, time, owner));
    else timeline.set(time, owner);
  }

  /** The memory region belongs to `owner` from `time` (reassigned; `free` is a reassignment to the host's allocator). */
  reassignMemory(region: string, owner: Principal, time: number): void {
    const piece = this.regions.get(region);
    if (piece === undefined) throw new RangeError(`no memory region '${region}'`);
    piece.owners.set(time, owner);
  }

  /** [base, base+size) holds nobody's data from `time` (a quarantine scratch page). */
  addSink(range: AddressRange, name: string, time: number): void {
    this.sinks.add(range, { name, from: time });
  }

  // Queries at an instant.

  ownerOfFunctionAt(id: string, time: number): Principal | null {
    return this.functionOwners.get(id)?.at(time) ?? null;
  }

  ownerOfRegionAt(region: string, time: number): Principal | null {
    return this.regions.get(region)?.owners.at(time) ?? null;
  }

  /** The owned range holding `address` at `time` (memory, or a BAR piece), or undefined (an unowned hole). */
  at(address: number, time = this.clock.now): Owned | undefined {
    const range = this.memory.rangeAt(address);
    if (range !== undefined) {
      const piece = this.memory.find(address)!;
      return { ...range, name: piece.name, owner: piece.owners.at(time), kind: 'memory', bar: null };
    }
    const barRange = this.bars.rangeAt(address);
    if (barRange === undefined) return undefined;
    const piece = this.bars.find(address)!;
    return { ...barRange, name: piece.name, owner: this.barOwner(piece, time), kind: 'bar', bar: piece.bar };
  }

  memorySpansAt(time: number, base: number, length: number): ByteSpan[] {
    const spans: ByteSpan[] = [];
    this.memory.pieces(base, length, (b, l, piece) => {
      if (piece === undefined) return spans.push({ base: b, length: l, kind: 'unclaimed', region: null, sub: null, owner: null });
      const owner = piece.owners.at(time);
      if (this.sinks.size === 0) return spans.push({ base: b, length: l, kind: 'memory', region: piece.name, sub: null, owner });
      this.sinks.pieces(b, l, (sb, sl, sink) => {
        const active = sink !== undefined && sink.from <= time;
        const last = spans[spans.length - 1];
        // A sink not yet set aside cuts nothing: the stretch stays one span with the region's owner.
        if (!active && last !== undefined && last.region === piece.name && last.sub === null && last.base + last.length === sb) spans[spans.length - 1] = { ...last, length: last.length + sl };
        else spans.push(active ? { base: sb, length: sl, kind: 'memory', region: piece.name, sub: SCRATCH_SUB, owner: null } : { base: sb, length: sl, kind: 'memory', region: piece.name, sub: null, owner });
      });
    });
    return spans;
  }

  barSpansAt(time: number, bar: { readonly name: string; readonly base: number; readonly size: number }, base: number, length: number): ByteSpan[] {
    const spans: ByteSpan[] = [];
    this.bars.pieces(base, length, (b, l, owned) => {
      const piece = owned !== undefined && owned.bar === bar.name ? owned : undefined;
      spans.push({ base: b, length: l, kind: 'bar', region: bar.name, sub: piece === undefined || piece.name === bar.name ? null : piece.name, owner: piece === undefined ? null : this.barOwner(piece, time) });
    });
    return spans;
  }

  // Attribution: the fabric asks when a TLP lands, i.e. now.

  ownerOfFunction(id: string): Principal | null {
    return this.ownerOfFunctionAt(id, this.clock.now);
  }

  memorySpans(base: number, length: number): ByteSpan[] {
    return this.memorySpansAt(this.clock.now, base, length);
  }

  barSpans(bar: { readonly name: string; readonly base: number; readonly size: number }, base: number, length: number): ByteSpan[] {
    return this.barSpansAt(this.clock.now, bar, base, length);
  }

  private barOwner(piece: BarPiece, time: number): Principal {
    if (piece.fixed !== null) return piece.fixed;
    if (piece.fn === undefined) return piece.fallback;
    return this.ownerOfFunctionAt(piece.fn, time) ?? piece.fallback;
  }
}

function withChange(initial: Principal | null, time: number, value: Principal): Timeline<Principal | null> {
  const timeline = new Timeline<Principal | null>(initial);
  timeline.set(time, value);
  return timeline;
}

/** A BAR cut into consecutive pieces: the BAR's own (following its function) and each sub-region (fixed owner). */
function splitBar(bar: BarOwnership): (BarPiece & AddressRange)[] {
  const regions = [...bar.regions].sort((a, b) => a.offset - b.offset);
  const pieces: (BarPiece & AddressRange)[] = [];
  const own = (offset: number, size: number) => pieces.push({ name: bar.name, bar: bar.name, fixed: null, fallback: bar.owner, fn: bar.fn, base: bar.base + offset, size });
  let cursor = 0;
  for (const region of regions) {
    if (region.offset > cursor) own(cursor, region.offset - cursor);
    pieces.push({ name: region.name, bar: bar.name, fixed: region.owner, fallback: region.owner, fn: undefined, base: bar.base + region.offset, size: region.size });
    cursor = region.offset + region.size;
  }
  if (cursor < bar.size) own(cursor, bar.size - cursor);
  return pieces;
}
