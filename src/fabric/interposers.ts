/**
 * Port modules an attacker plugs into a link (port-module.ts): a hostile
 * switch or interposer that rewrites the requester ID of what passes (after
 * the port that checked it: ACS Source Validation looks at the ID as it
 * arrives, PCIe 6.0 §6.12.1.1), one that drops what it sees, and one that
 * records writes and replays them later under the attacker's name.
 */
import type { RequesterId } from '../pcie/bdf.ts';
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp, TlpType } from '../pcie/tlp.ts';
import type { PortContext, PortModule } from './port-module.ts';
import { FABRIC_REASONS } from './reasons.ts';

/** Which TLPs a module acts on: by type, by the requester ID they carry. */
export interface TlpFilter {
  readonly types?: readonly TlpType[];
  readonly requester?: RequesterId;
}

function matches(filter: TlpFilter, tlp: Tlp): boolean {
  return (filter.types === undefined || filter.types.includes(tlp.type)) && (filter.requester === undefined || tlp.requesterId === filter.requester);
}

/** Rewrites the requester ID of matching requests (a completion is routed by its target, so requests only). */
export function forgeRequester(requester: RequesterId, filter: TlpFilter = { types: ['MemWr', 'MemRd'] }): PortModule {
  return {
    name: `forge requester ${formatRid(requester)}`,
    onTlp(tlp, ctx) {
      if (!matches(filter, tlp) || tlp.requesterId === requester) return;
      ctx.note(`requester ID ${formatRid(tlp.requesterId)} rewritten to ${formatRid(requester)}`);
      tlp.requesterId = requester;
    },
  };
}

/** Drops matching TLPs (a registered reason: tap.dropped). */
export function dropMatching(filter: TlpFilter): PortModule {
  return {
    name: 'drop',
    onTlp(tlp, ctx) {
      if (matches(filter, tlp)) ctx.drop(FABRIC_REASONS['tap.dropped'].code, `drops ${tlp.type}`);
    },
  };
}

/**
 * Records each matching write and puts a copy on the same link `delay` ns
 * later, acting for `principal` (the attacker behind it): a replay of the
 * host's own DMA after the host has moved on.
 */
export function replayer(delay: number, principal: string | null, filter: TlpFilter = { types: ['MemWr'] }, origin = 'interposer'): PortModule {
  return {
    name: `replay after ${delay} ns`,
    onTlp(tlp: Tlp, ctx: PortContext) {
      if (!matches(filter, tlp)) return;
      ctx.note(`copied for replay in ${delay} ns`);
      ctx.inject({ type: tlp.type, requesterId: tlp.requesterId, address: tlp.address, data: tlp.data, length: tlp.length, at: tlp.at, step: tlp.step, origin, principal }, delay);
    },
  };
}
