/**
 * The root complex: the host bridge (00:00.0) with its root ports and
 * RCiEPs. A memory request arriving from below is handed to the
 * `HostBridge` — the IOMMU and interrupt hardware plug in there — which ends
 * it or calls `decode` with the (translated) address: host memory, a
 * platform target (the x86 interrupt window, an ARM MSI doorbell) or a BAR
 * below a root port, reached peer-to-peer through the root complex.
 */
import { requesterId } from '../pcie/bdf.ts';
import { RangeIndex, type AddressRange } from '../pcie/range.ts';
import type { Outcome, Tlp } from '../pcie/tlp.ts';
import type { HopDecision } from './events.ts';
import { BusDecode, type OnConflict } from './bus.ts';
import type { EffectSource } from './ending.ts';
import { Node, type EndTarget, type FabricCore } from './node.ts';
import type { Bar } from './function.ts';
import { attachTo, portBarIn, type PeerBus, type PortNode } from './ports.ts';
import { ROUTE } from './routing-rules.ts';

export interface MemoryRegion extends EndTarget, AddressRange {
  readonly kind: 'memory';
}

/** Something the root complex decodes that is neither memory nor a BAR. */
export interface AddressTarget extends EndTarget {
  /** Takes the request (at its decoded address) and must end it. */
  accept(tlp: Tlp, address: number, root: RootComplex): void;
}

/** What the host does with a memory request from below before decoding it. */
export interface HostBridge {
  readonly name: string;
  /** Must end the TLP or call `root.decode` with the address to decode. */
  upstreamRequest(tlp: Tlp, root: RootComplex): void;
}

/** No IOMMU: the bus address is the host-physical address. */
export const DIRECT_DECODE: HostBridge = {
  name: 'no-iommu',
  upstreamRequest(tlp, root) {
    root.decode(tlp, tlp.address, 'no IOMMU: the bus address is decoded as a host-physical address');
  },
};

/** The host as a requester and as the consumer of completions it asked for. */
export const HOST: EndTarget = { name: 'host' };

/** A completion's data reaching the host (a CPU's read): the host learnt it. */
const HOST_DATA: EndTarget & EffectSource = { name: 'host', effect: () => ({ kind: 'data', device: 'host', owner: 'host' }) };

export class RootComplex extends Node implements PeerBus {
  readonly rid: number;
  readonly memory = new RangeIndex<MemoryRegion>();
  readonly platform = new RangeIndex<AddressTarget>();
  hostBridge: HostBridge = DIRECT_DECODE;
  private readonly decodeDown: BusDecode<Node>;

  constructor(
    core: FabricCore,
    readonly rootBus: number,
    onConflict: OnConflict,
  ) {
    super('root-complex', core, 0);
    this.rid = requesterId(rootBus, 0, 0);
    this.decodeDown = new BusDecode('the root buses', onConflict);
  }

  /** A root port, RCiEP or other function on a root bus (any root bus: a host bridge may have several). */
  attach(member: Node): void {
    attachTo(this, this.decodeDown, member);
  }

  peerFor(address: number): Node | undefined {
    return this.decodeDown.at(address);
  }

  peerForRid(rid: number): Node | undefined {
    return this.decodeDown.forRid(rid);
  }

  /** Every root port's BARs are applicable to DSP Memory Target Access here (§6.12.1.1: the set is implementation specific). */
  portBarAt(address: number): PortNode | undefined {
    return portBarIn(this.decodeDown, address);
  }

  /** USP Memory Target Access and Unclaimed Request Redirect are not applicable to root ports (§6.12.1.1). */
  upstreamBarAt(): Bar | undefined {
    return undefined;
  }

  unclaimedAt(): boolean {
    return false;
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from === null) return this.fromHost(tlp);
    switch (tlp.type) {
      case 'MemRd':
      case 'MemWr':
        return this.hostBridge.upstreamRequest(tlp, this);
      case 'IORd':
      case 'IOWr':
        return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.noIoSpace);
      case 'CfgRd':
      case 'CfgWr':
        return this.core.end(tlp, 'unsupported-request', 'route.config-from-below', this, ROUTE.configFromBelow);
      case 'Cpl':
      case 'CplD':
        if (tlp.targetId === this.rid) return this.core.end(tlp, 'delivered', 'completion.delivered', this, ROUTE.hostDelivery, HOST_DATA);
        return this.routeById(tlp);
      case 'Msg':
        if (tlp.routing === 'by-id' && tlp.targetId !== this.rid) return this.routeById(tlp);
        return this.core.end(tlp, 'delivered', 'message.delivered', this, ROUTE.message, HOST);
    }
  }

  /**
   * Decodes a host-physical address for a request from below (after any
   * translation) and takes the request there.
   */
  decode(tlp: Tlp, address: number, why: string): void {
    tlp.address = address;
    const region = this.memory.find(address);
    if (region !== undefined) {
      this.core.note(tlp, this, 'decode', why, region.name);
      return this.core.deliverToMemory(tlp, region, this);
    }
    const target = this.platform.find(address);
    if (target !== undefined) {
      this.core.note(tlp, this, 'decode', why, target.name);
      return target.accept(tlp, address, this);
    }
    const node = this.decodeDown.at(address);
    if (node !== undefined) {
      this.core.note(tlp, this, 'decode', why, node.name);
      return this.core.send(tlp, this, node, 'down', ROUTE.rootP2p);
    }
    this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.rootNoTarget);
  }

  /** Ends a request at the root complex: a fault, a block, or delivery to a platform target. */
  finish(tlp: Tlp, outcome: Outcome, reason: string, rule: string, target: EndTarget | null = null, faultCode: number | null = null): void {
    this.core.end(tlp, outcome, reason, this, rule, target, faultCode);
  }

  /** Completes a non-posted request here (an ATS translation request) and sends the completion back. */
  completeRequest(tlp: Tlp, reason: string, rule: string, attachment: object | null, data = 0): Tlp {
    this.core.end(tlp, 'completed', reason, this, rule, HOST);
    return this.core.answer(tlp, this, null, data, attachment);
  }

  /** Records a decision taken at the root complex (translation, interrupt remapping) in the trace. */
  note(tlp: Tlp, decision: HopDecision, rule: string, detail?: string): void {
    this.core.note(tlp, this, decision, rule, detail);
  }

  /** Sends a completion or ID-routed message down towards its target. */
  routeById(tlp: Tlp): void {
    const node = this.peerForRid(tlp.targetId);
    if (node === undefined) return this.core.end(tlp, 'unsupported-request', 'route.no-function', this, ROUTE.noId);
    this.core.send(tlp, this, node, 'down', ROUTE.completion);
  }

  /** A request the host (a CPU) issues: MMIO by address, configuration by ID. */
  private fromHost(tlp: Tlp): void {
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr') {
      const region = this.memory.find(tlp.address);
      if (region !== undefined) return this.core.deliverToMemory(tlp, region, this);
      const node = this.decodeDown.at(tlp.address);
      if (node !== undefined) return this.core.send(tlp, this, node, 'down', ROUTE.down);
      return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.rootNoTarget);
    }
    this.routeById(tlp);
  }
}
