/**
 * Who owns what (DESIGN.md §3): memory regions, BARs (and sub-ranges of a
 * BAR owned by someone else, such as a host driver's migration registers in
 * a guest device's BAR), and each function. It is the fabric's Attribution:
 * every byte span a TLP touches is cut at region, BAR and sub-region
 * boundaries and labelled with its owner in the TLP's ending record.
 */
import type { Attribution, ByteSpan } from '../fabric/ending.ts';
import { RangeIndex, type AddressRange } from '../pcie/range.ts';

export type Principal = string;

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
  /** Sub-ranges (offsets into the BAR) owned by another principal. */
  readonly regions: readonly { readonly name: string; readonly offset: number; readonly size: number; readonly owner: Principal }[];
}

export class Ownership implements Attribution {
  private readonly memory = new RangeIndex<Owned>();
  private readonly bars = new RangeIndex<Owned>();

  constructor(
    memory: readonly (AddressRange & { readonly name: string; readonly owner: Principal })[],
    bars: readonly BarOwnership[],
    /** Owner of each function, by id. */
    readonly functions: ReadonlyMap<string, Principal>,
  ) {
    for (const m of memory) this.memory.add(m, { ...m, kind: 'memory', bar: null });
    for (const bar of bars) for (const piece of splitBar(bar)) this.bars.add(piece, piece);
  }

  /** The owned range holding `address` (memory, or a BAR piece), or undefined (an unowned hole). */
  at(address: number): Owned | undefined {
    return this.memory.find(address) ?? this.bars.find(address);
  }

  ownerOfFunction(id: string): Principal | null {
    return this.functions.get(id) ?? null;
  }

  memorySpans(base: number, length: number): ByteSpan[] {
    const spans: ByteSpan[] = [];
    this.memory.pieces(base, length, (b, l, owned) =>
      spans.push(owned === undefined ? { base: b, length: l, kind: 'unclaimed', region: null, sub: null, owner: null } : { base: b, length: l, kind: 'memory', region: owned.name, sub: null, owner: owned.owner }),
    );
    return spans;
  }

  barSpans(bar: { readonly name: string; readonly base: number; readonly size: number }, base: number, length: number): ByteSpan[] {
    const spans: ByteSpan[] = [];
    this.bars.pieces(base, length, (b, l, owned) => {
      const piece = owned !== undefined && owned.bar === bar.name ? owned : undefined;
      spans.push({ base: b, length: l, kind: 'bar', region: bar.name, sub: piece === undefined || piece.name === bar.name ? null : piece.name, owner: piece?.owner ?? null });
    });
    return spans;
  }
}

/** A BAR cut into consecutive pieces, each with one owner. */
function splitBar(bar: BarOwnership): Owned[] {
  const regions = [...bar.regions].sort((a, b) => a.offset - b.offset);
  const pieces: Owned[] = [];
  const piece = (name: string, owner: Principal, offset: number, size: number): Owned => ({ name, owner, kind: 'bar', bar: bar.name, base: bar.base + offset, size });
  let cursor = 0;
  for (const region of regions) {
    if (region.offset > cursor) pieces.push(piece(bar.name, bar.owner, cursor, region.offset - cursor));
    pieces.push(piece(region.name, region.owner, region.offset, region.size));
    cursor = region.offset + region.size;
  }
  if (cursor < bar.size) pieces.push(piece(bar.name, bar.owner, cursor, bar.size - cursor));
  return pieces;
}
