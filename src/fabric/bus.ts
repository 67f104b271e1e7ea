/**
 * One bus as its members decode it: the root complex's root buses, a
 * switch's internal bus, a conventional PCI bus behind a bridge, or the
 * functions of one multifunction device on a link. A member claims
 * addresses (its BARs; a bridge also its windows, PCI-to-PCI Bridge Arch.
 * 1.2 §4.1) and requester IDs (its own; a bridge also its bus range,
 * §3.2.5.3). Lookups are what routing needs on the hot path.
 */
import { busOf, type RequesterId } from '../pcie/bdf.ts';
import { formatRange, RangeIndex, type AddressRange } from '../pcie/range.ts';
import type { BusRange } from './topology.ts';

/** What a node answers for on the bus it sits on. */
export interface Claims {
  readonly ranges: readonly AddressRange[];
  readonly rids: readonly RequesterId[];
  readonly buses: readonly BusRange[];
}

export interface Claimant {
  readonly name: string;
  claims(): Claims;
}

/**
 * Two members claim the same addresses or buses. Enumerated machines never
 * do (resources.ts packs them apart), so there it is an error; a machine
 * taken as firmware assigned it may, and the first claimant keeps the range.
 */
export type OnConflict = (detail: string) => void;

export class BusDecode<N extends Claimant> {
  private readonly byAddress = new RangeIndex<N>();
  private readonly byBus: (N | undefined)[] = new Array(256);
  private readonly byRid = new Map<RequesterId, N>();

  constructor(
    readonly name: string,
    private readonly onConflict: OnConflict,
  ) {}

  add(member: N): void {
    const claims = member.claims();
    for (const range of claims.ranges) {
      const holder = this.byAddress.find(range.base) ?? this.byAddress.find(range.base + range.size - 1);
      try {
        this.byAddress.add(range, member);
      } catch {
        this.onConflict(`on ${this.name}, ${member.name} ${formatRange(range)} overlaps what ${holder?.name ?? 'another member'} decodes`);
      }
    }
    for (const rid of claims.rids) this.byRid.set(rid, member);
    for (const range of claims.buses) {
      for (let b = range.secondary; b <= range.subordinate && b < 256; b++) {
        const holder = this.byBus[b];
        if (holder !== undefined && holder !== member) this.onConflict(`on ${this.name}, bus ${b.toString(16).padStart(2, '0')} lies below both ${holder.name} and ${member.name}`);
        else this.byBus[b] = member;
      }
    }
  }

  /** The member that claims the address. */
  at(address: number): N | undefined {
    return this.byAddress.find(address);
  }

  /** The member that is, or leads to, the requester ID. */
  forRid(rid: RequesterId): N | undefined {
    return this.byRid.get(rid) ?? this.byBus[busOf(rid)];
  }
}
