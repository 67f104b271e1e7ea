/**
 * Port modules, in the shape of SST-core's portModule.h: a module attached
 * to a node's ingress or egress sees every TLP arriving at or leaving that
 * node, and may pass it (changed or not: requester ID, address, data, AT),
 * drop it — which ends it through the fabric's one ending point, with a
 * registered reason — or inject new TLPs on the same link. A hostile
 * switch that forges requester IDs, a replaying interposer, a filter: they
 * plug in here instead of as special cases in routing.
 *
 * Cost when nothing is attached: the fabric checks one boolean per hop
 * (Fabric.send), as it does for tracing.
 */
import type { EventHandler } from '../sim/kernel.ts';
import type { Tlp, TlpFields } from '../pcie/tlp.ts';
import type { Node } from './node.ts';

export type PortSide = 'ingress' | 'egress';

/** What a module may do with the TLP in hand. */
export interface PortContext {
  /** The node the module sits on. */
  readonly node: string;
  readonly side: PortSide;
  /** Egress: the node the TLP is leaving for; ingress: the node it came from (null: from one of this node's own functions). */
  readonly peer: string | null;
  /** Simulated time, ns. */
  readonly now: number;
  /** Ends the TLP here: `reason` must be registered with outcome `blocked` (fabric reasons: tap.dropped). */
  drop(reason: string, rule: string): void;
  /**
   * Puts a new TLP on the same link, in the same direction, `delay` ns from
   * now: `origin` names the function it is attributed to, `principal` who it
   * acts for (the attacker behind an interposer).
   */
  inject(init: TlpFields & { readonly origin: string; readonly principal: string | null }, delay?: number): Tlp;
  /** Records what the module did to the TLP in its trace (a `tap` hop). */
  note(rule: string, detail?: string): void;
}

export interface PortModule {
  readonly name: string;
  /** Sees one TLP; returns after passing it (possibly changed) or dropping it. */
  onTlp(tlp: Tlp, ctx: PortContext): void;
}

/** The modules on one node, by side. */
export interface PortTaps {
  readonly ingress: PortModule[];
  readonly egress: PortModule[];
  /** Kernel handler that runs the ingress modules before the node sees the TLP. */
  readonly gate: EventHandler<Tlp>;
}

/** What the fabric lends the modules. */
export interface TapHost {
  end(tlp: Tlp, reason: string, at: Node, rule: string): void;
  inject(at: Node, side: PortSide, toward: Node, from: Node | null, init: TlpFields & { readonly origin: string; readonly principal: string | null }, delay: number): Tlp;
  note(tlp: Tlp, at: Node, rule: string, detail?: string): void;
  now(): number;
}

/**
 * Runs `modules` on a TLP in order; false once one has dropped it (the
 * rest do not see it). A module that ends the TLP any other way than
 * `drop` is a bug: the fabric's double-ending check would say so.
 */
export function runModules(host: TapHost, modules: readonly PortModule[], tlp: Tlp, node: Node, side: PortSide, toward: Node, from: Node | null): boolean {
  for (const module of modules) {
    let dropped = false;
    const ctx: PortContext = {
      node: node.name,
      side,
      peer: side === 'egress' ? toward.name : (from?.name ?? null),
      now: host.now(),
      drop(reason, rule) {
        if (dropped) return;
        dropped = true;
        host.end(tlp, reason, node, `${module.name}: ${rule}`);
      },
      inject: (init, delay = 0) => host.inject(node, side, toward, from, init, delay),
      note: (rule, detail) => host.note(tlp, node, `${module.name}: ${rule}`, detail),
    };
    module.onTlp(tlp, ctx);
    if (dropped || tlp.outcome !== null) return false;
  }
  return true;
}
