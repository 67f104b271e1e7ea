/**
 * Routing nodes: components joined by links with latency (SST-style). A TLP
 * moves between nodes only as a kernel event, one per hop; each node decides
 * on what arrives and either hands it on or ends it.
 */
import type { EventHandler } from '../sim/kernel.ts';
import type { Outcome, Tlp, TlpTarget } from '../pcie/tlp.ts';
import type { HopDecision } from './events.ts';
import type { Bar, PciFunction } from './function.ts';
import type { Claims } from './bus.ts';

const NO_CLAIMS: Claims = { ranges: [], rids: [], buses: [] };

/** What nodes need from the fabric that owns them. */
export interface FabricCore {
  /** Records a decision and moves the TLP to `to` after the hop's latency. */
  send(tlp: Tlp, from: Node, to: Node, decision: HopDecision, rule: string): void;
  /** Records a decision that does not move the TLP (aliasing, translation). */
  note(tlp: Tlp, at: Node | string, decision: HopDecision, rule: string, detail?: string): void;
  /** Ends the TLP with its one terminal outcome. */
  end(tlp: Tlp, outcome: Outcome, reason: string, at: Node | string, rule: string, target?: EndTarget | null, faultCode?: number | null): void;
  /** A memory request reached a BAR: writes are delivered, reads completed and answered. */
  deliverToBar(tlp: Tlp, bar: Bar, at: Node, rule: string): void;
  /** A memory request reached host memory: writes are delivered, reads completed and answered. */
  deliverToMemory(tlp: Tlp, region: EndTarget, root: Node): void;
  /** A configuration request reached its function (`address` is the register offset). */
  deliverConfig(tlp: Tlp, fn: PciFunction, at: Node): void;
  /**
   * Sends the completion for a served non-posted request from its completer
   * (`node`, and its function when a device) back towards the requester.
   */
  answer(request: Tlp, node: Node, fn: PciFunction | null, data?: number, attachment?: object | null): Tlp;
  /** A completion reached the function it was addressed to. */
  deliverCompletion(tlp: Tlp, fn: PciFunction, at: Node): void;
  /** Hop limit: a TLP that exceeds it is a routing loop, ended loudly. */
  readonly maxHops: number;
}

/** Anything that can consume a TLP and be named in traces and verdicts. */
export type EndTarget = TlpTarget;

export abstract class Node implements EventHandler<Tlp> {
  /** The neighbour towards the root complex. */
  up: Node | null = null;
  /**
   * This node's place in its neighbours' arbitration: TLPs that reach a node
   * in the same nanosecond from different links are taken lowest rank first
   * (0 everywhere unless arbitration is seeded), FIFO within a link.
   */
  rank = 0;
  /** With link jitter: the latest arrival time scheduled on each link from here (a link never reorders). */
  lastArrival: Map<Node, number> | null = null;

  constructor(
    readonly name: string,
    protected readonly core: FabricCore,
    /** ns for the hop between this node and `up`. */
    readonly upLatency: number,
  ) {}

  handle(tlp: Tlp): void {
    if (++tlp.hops > this.core.maxHops) {
      this.core.end(tlp, 'unsupported-request', 'route.loop', this, `more than ${this.core.maxHops} hops: the topology routes this TLP in a loop`);
      return;
    }
    this.receive(tlp, tlp.from as Node | null);
  }

  /** A TLP arrived from `from` (null when one of this node's own functions issued it). */
  abstract receive(tlp: Tlp, from: Node | null): void;

  /** The addresses, requester IDs and buses this node answers for on its parent's bus. */
  claims(): Claims {
    return NO_CLAIMS;
  }

  /** Index in a peer's ACS egress control vector; -1 when no vector bit names this node. */
  get portNumber(): number {
    return -1;
  }

  /** Latency of one hop from this node to a neighbour. */
  latencyTo(to: Node): number {
    return to === this.up ? this.upLatency : to.upLatency;
  }
}
