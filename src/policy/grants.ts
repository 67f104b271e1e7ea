/**
 * What the configuration intends a principal's devices to reach through the
 * IOMMU, over time (DESIGN.md §3): a host buffer mapped for a device's DMA
 * is a grant from `map` until `unmap`, byte for byte as the mapping was
 * asked for — not rounded to pages, so bytes that merely share a page with
 * a mapped buffer are not granted (sub-page exposure is a breach).
 */
import type { Principal } from './ownership.ts';

export type Access = 'read' | 'write';

export interface Grant {
  readonly domain: string;
  readonly principals: readonly Principal[];
  readonly iova: number;
  /** Host-physical target of the mapping. */
  readonly hpa: number;
  readonly size: number;
  readonly perm: 'r' | 'w' | 'rw';
  readonly from: number;
  /** End of the grant (the unmap's time); Infinity while mapped. */
  until: number;
}

export class GrantLedger {
  private readonly grants: Grant[] = [];

  get all(): readonly Grant[] {
    return this.grants;
  }

  map(domain: string, principals: readonly Principal[], mapping: { iova: number; hpa: number; size: number; perm: Grant['perm'] }, time: number): void {
    this.grants.push({ domain, principals, ...mapping, from: time, until: Infinity });
  }

  /** Ends the parts of grants in [iova, iova+size) at `time`; parts outside stay granted. */
  unmap(domain: string, iova: number, size: number, time: number): void {
    const end = iova + size;
    for (const grant of [...this.grants]) {
      if (grant.domain !== domain || grant.until <= time) continue;
      const gEnd = grant.iova + grant.size;
      if (gEnd <= iova || grant.iova >= end) continue;
      grant.until = time;
      if (grant.iova < iova) this.grants.push({ ...grant, size: iova - grant.iova, until: Infinity });
      if (gEnd > end) this.grants.push({ ...grant, iova: end, hpa: grant.hpa + (end - grant.iova), size: gEnd - end, until: Infinity });
    }
  }

  /**
   * A device of `principal` joins the domain at `time`: what the domain
   * maps then is granted to it too, from that instant (the grants held
   * before stay as they were).
   */
  share(domain: string, principal: Principal, time: number): void {
    for (const grant of [...this.grants]) {
      if (grant.domain !== domain || grant.until <= time || grant.principals.includes(principal)) continue;
      if (grant.from >= time) {
        this.grants[this.grants.indexOf(grant)] = { ...grant, principals: [...grant.principals, principal] };
        continue;
      }
      const until = grant.until;
      grant.until = time;
      this.grants.push({ ...grant, principals: [...grant.principals, principal], from: time, until });
    }
  }

  /**
   * The parts of [hpa, hpa+length) that no grant of `principal` covers for
   * `access` at `time`, in address order: a span across two grants both
   * held is covered; bytes beside a grant (sharing its page) are not.
   */
  uncovered(principal: Principal, hpa: number, length: number, access: Access, time: number): { base: number; length: number }[] {
    const needed = access === 'write' ? 'w' : 'r';
    const covering = this.grants
      .filter((g) => g.principals.includes(principal) && g.from <= time && time < g.until && g.perm.includes(needed) && g.hpa < hpa + length && hpa < g.hpa + g.size)
      .sort((a, b) => a.hpa - b.hpa);
    const holes: { base: number; length: number }[] = [];
    let cursor = hpa;
    const end = hpa + length;
    for (const g of covering) {
      if (g.hpa > cursor) holes.push({ base: cursor, length: Math.min(g.hpa, end) - cursor });
      cursor = Math.max(cursor, g.hpa + g.size);
      if (cursor >= end) break;
    }
    if (cursor < end) holes.push({ base: cursor, length: end - cursor });
    return holes;
  }
}
