/**
 * Who owns what (DESIGN.md §3): memory regions, BARs (and sub-ranges of a
 * BAR owned by someone else, such as a host driver's migration registers in
 * a guest device's BAR), and each function. Verdicts ask "whose is this
 * address?" for every access that landed.
 */
import { RangeIndex, type AddressRange } from '../pcie/range.ts';

export type Principal = string;

export interface Owned extends AddressRange {
  readonly name: string;
  readonly owner: Principal;
  readonly kind: 'memory' | 'bar';
}

export interface BarOwnership extends AddressRange {
  readonly name: string;
  readonly owner: Principal;
  /** Sub-ranges (offsets into the BAR) owned by another principal. */
  readonly regions: readonly { readonly name: string; readonly offset: number; readonly size: number; readonly owner: Principal }[];
}

export class Ownership {
  private readonly ranges = new RangeIndex<Owned>();

  constructor(
    memory: readonly (AddressRange & { readonly name: string; readonly owner: Principal })[],
    bars: readonly BarOwnership[],
    /** Owner of each function, by id. */
    readonly functions: ReadonlyMap<string, Principal>,
  ) {
    for (const m of memory) this.ranges.add(m, { ...m, kind: 'memory' });
    for (const bar of bars) for (const piece of splitBar(bar)) this.ranges.add(piece, piece);
  }

  /** The owned range holding `address`, or undefined (an unowned hole). */
  at(address: number): Owned | undefined {
    return this.ranges.find(address);
  }

  ownerOfFunction(id: string): Principal | undefined {
    return this.functions.get(id);
  }
}

/** A BAR cut into consecutive pieces, each with one owner. */
function splitBar(bar: BarOwnership): Owned[] {
  const regions = [...bar.regions].sort((a, b) => a.offset - b.offset);
  const pieces: Owned[] = [];
  let cursor = 0;
  for (const region of regions) {
    if (region.offset > cursor) pieces.push({ name: bar.name, owner: bar.owner, kind: 'bar', base: bar.base + cursor, size: region.offset - cursor });
    pieces.push({ name: region.name, owner: region.owner, kind: 'bar', base: bar.base + region.offset, size: region.size });
    cursor = region.offset + region.size;
  }
  if (cursor < bar.size) pieces.push({ name: bar.name, owner: bar.owner, kind: 'bar', base: bar.base + cursor, size: bar.size - cursor });
  return pieces;
}
