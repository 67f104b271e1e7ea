/**
 * Bridges: root ports and switch downstream ports (which enforce ACS on what
 * comes up their link, PCIe 6.0 §6.12.1.1), switch upstream ports (which
 * decode the switch's internal bus) and bridges to conventional PCI
 * (PCIe-to-PCI bridges and PCI-to-PCI bridges), which take ownership of the
 * transactions from the devices behind them.
 */
import { busOf, requesterId } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import {
  checkSource,
  memoryTargetRuling,
  p2pCompletionRuling,
  p2pRequestRuling,
  sameLinkRuling,
  unclaimedRuling,
  type P2pDecision,
  type Ruling,
} from './acs-rules.ts';
import { BusDecode, type Claims, type OnConflict } from './bus.ts';
import { DeviceNode } from './device.ts';
import type { Bar, PciFunction } from './function.ts';
import { Node, type FabricCore } from './node.ts';
import { ROUTE } from './routing-rules.ts';

/** The bus a downstream port sits on: a switch's internal bus, or the root complex. */
export interface PeerBus {
  /** The port or device on this bus that claims the address (may be the asking port). */
  peerFor(address: number): Node | undefined;
  /** The port or device on this bus that leads to the requester ID. */
  peerForRid(rid: number): Node | undefined;
  /** The downstream port on this bus whose own Memory BAR holds the address (§6.12.1.1 DSP Memory Target Access). */
  portBarAt(address: number): PortNode | undefined;
  /** A BAR of the switch's upstream port holding the address (USP Memory Target Access); none at the root complex. */
  upstreamBarAt(address: number): Bar | undefined;
  /** True when the address lies in the upstream port's window but no port below claims it (Unclaimed Request). */
  unclaimedAt(address: number): boolean;
}

/** The downstream port whose own BAR (not a window) holds the address, among a bus's members. */
export function portBarIn(decode: BusDecode<Node>, address: number): PortNode | undefined {
  const member = decode.at(address);
  return member instanceof PortNode && member.fn.bars.length > 0 && member.fn.barAt(address) !== undefined ? member : undefined;
}

/** A bridge function's claims on its primary bus: windows and BARs by address, itself and its bus range by ID. */
export function bridgeClaims(fn: PciFunction): Claims {
  const { memory, prefetchable } = fn.windows;
  return {
    ranges: [...(memory ? [memory] : []), ...(prefetchable ? [prefetchable] : []), ...fn.bars],
    rids: [fn.rid],
    buses: fn.buses ? [fn.buses] : [],
  };
}

/** Puts a member below the node that owns `decode` (a root complex or switch internal bus; a port learns its peers). */
export function attachTo(bus: PeerBus & Node, decode: BusDecode<Node>, member: Node): void {
  member.up = bus;
  if (member instanceof PortNode) member.peers = bus;
  decode.add(member);
}

/** Delivers config, memory and completions addressed to a bridge function itself. */
function consumedByBridge(core: FabricCore, node: Node, fn: PciFunction, tlp: Tlp): boolean {
  switch (tlp.type) {
    case 'CfgRd':
    case 'CfgWr':
      if (tlp.targetId !== fn.rid) return false;
      core.deliverConfig(tlp, fn, node);
      return true;
    case 'MemRd':
    case 'MemWr': {
      if (fn.bars.length === 0) return false;
      const bar = fn.barAt(tlp.address);
      if (bar === undefined) return false;
      core.deliverToBar(tlp, bar, node, ROUTE.bar);
      return true;
    }
    case 'Cpl':
    case 'CplD':
      if (tlp.targetId !== fn.rid) return false;
      core.deliverCompletion(tlp, fn, node);
      return true;
    default:
      return false;
  }
}

/** A root port or switch downstream port: the place where ACS is enforced. */
export class PortNode extends Node {
  /** The device, switch or bridge on the link below. */
  down: Node | null = null;
  /** The link below is up (false: its device was removed or is not yet hot-plugged). */
  linkUp = true;
  peers!: PeerBus;

  constructor(
    readonly fn: PciFunction,
    core: FabricCore,
    upLatency: number,
  ) {
    super(fn.id, core, upLatency);
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from !== null && from === this.down) this.fromBelow(tlp);
    else this.fromAbove(tlp);
  }

  private fromAbove(tlp: Tlp): void {
    if (consumedByBridge(this.core, this, this.fn, tlp)) return;
    if (this.down === null) return this.core.end(tlp, 'unsupported-request', 'route.no-device', this, ROUTE.emptyLink);
    if (!this.linkUp) return this.core.end(tlp, 'unsupported-request', 'route.no-device', this, ROUTE.linkDown);
    this.core.send(tlp, this, this.down, 'down', ROUTE.down);
  }

  private fromBelow(tlp: Tlp): void {
    const fn = this.fn;
    switch (tlp.type) {
      case 'CfgRd':
      case 'CfgWr':
        return this.core.end(tlp, 'unsupported-request', 'route.config-from-below', this, ROUTE.configFromBelow);
      case 'MemRd':
      case 'MemWr': {
        const refusal = checkSource(fn.acs, busOf(tlp.requesterId), fn.buses!, tlp.at);
        if (refusal !== null) return this.core.end(tlp, 'blocked', refusal.reason, this, refusal.rule);
        const address = tlp.address;
        const portBar = this.peers.portBarAt(address);
        if (portBar !== undefined) return this.toPortBar(tlp, portBar, memoryTargetRuling(fn.acs, 'dsp'));
        if (fn.claims(address)) return this.sameLink(tlp);
        const uspBar = this.peers.upstreamBarAt(address);
        if (uspBar !== undefined) return this.toPortBar(tlp, this.up!, memoryTargetRuling(fn.acs, 'usp'));
        const peer = this.peers.peerFor(address);
        if (peer !== undefined && peer !== this) return this.toPeer(tlp, peer, p2pRequestRuling(fn.acs, tlp.at, peer.portNumber));
        if (this.peers.unclaimedAt(address)) return this.unclaimed(tlp);
        return this.sendUp(tlp);
      }
      case 'IORd':
      case 'IOWr': {
        const refusal = checkSource(fn.acs, busOf(tlp.requesterId), fn.buses!, tlp.at, true);
        if (refusal !== null) return this.core.end(tlp, 'blocked', refusal.reason, this, refusal.rule);
        return this.sendUp(tlp);
      }
      case 'Cpl':
      case 'CplD': {
        if (fn.claimsBus(busOf(tlp.targetId))) return this.sameLink(tlp);
        const peer = this.peers.peerForRid(tlp.targetId);
        if (peer === this) return void consumedByBridge(this.core, this, fn, tlp);
        if (peer !== undefined) return this.toPeer(tlp, peer, p2pCompletionRuling(fn.acs));
        return this.sendUp(tlp);
      }
      case 'Msg': {
        const peer = tlp.routing === 'by-id' ? this.peers.peerForRid(tlp.targetId) : undefined;
        if (peer !== undefined && peer !== this) return this.core.send(tlp, this, peer, 'p2p-direct', ROUTE.message);
        return this.sendUp(tlp);
      }
    }
  }

  override get portNumber(): number {
    return this.fn.portNumber;
  }

  override claims(): Claims {
    return bridgeClaims(this.fn);
  }

  private toPeer(tlp: Tlp, peer: Node, ruling: Ruling<P2pDecision>): void {
    if (ruling.decision === 'direct') return this.core.send(tlp, this, peer, 'p2p-direct', ruling.rule);
    if (ruling.decision === 'block') return this.core.end(tlp, 'blocked', 'acs.egress-control', this, ruling.rule);
    this.redirect(tlp, ruling.rule);
  }

  /** A request to a port's own BAR: this port's, a peer's, or the switch upstream port's (Memory Target Access). */
  private toPortBar(tlp: Tlp, port: Node, ruling: Ruling<P2pDecision>): void {
    if (ruling.decision === 'block') return this.core.end(tlp, 'blocked', 'acs.memory-target', this, ruling.rule);
    if (ruling.decision === 'redirect') return this.redirect(tlp, ruling.rule);
    if (port === this) {
      this.core.note(tlp, this, 'p2p-direct', ruling.rule);
      return void consumedByBridge(this.core, this, this.fn, tlp);
    }
    this.core.send(tlp, this, port, 'p2p-direct', ruling.rule);
  }

  /** In the switch's upstream window, claimed by no downstream port: UR unless Unclaimed Request Redirect. */
  private unclaimed(tlp: Tlp): void {
    const ruling = unclaimedRuling(this.fn.acs);
    if (ruling.decision === 'redirect') return this.redirect(tlp, ruling.rule);
    this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ruling.rule);
  }

  private redirect(tlp: Tlp, rule: string): void {
    tlp.redirected = true;
    this.core.send(tlp, this, this.up!, 'redirect-up', rule);
  }

  /** Normal routing would send the TLP back down the link it came from (ACS UF decides). */
  private sameLink(tlp: Tlp): void {
    const ruling = sameLinkRuling(this.fn.acs);
    if (ruling.decision === 'upstream') this.core.send(tlp, this, this.up!, 'upstream-forward', ruling.rule);
    else this.core.send(tlp, this, this.down!, 'reflect-down', ruling.rule);
  }

  private sendUp(tlp: Tlp): void {
    this.core.send(tlp, this, this.up!, 'up', tlp.redirected ? ROUTE.redirectedUp : ROUTE.up);
  }
}

/**
 * A bridge function with a bus behind it (a switch's internal bus, a
 * conventional PCI bus): what sits on the bus is found by its decode.
 */
abstract class BusBridgeNode extends Node implements PeerBus {
  protected readonly decode: BusDecode<Node>;

  constructor(
    readonly fn: PciFunction,
    core: FabricCore,
    upLatency: number,
    onConflict: OnConflict,
    what: string,
  ) {
    super(fn.id, core, upLatency);
    this.decode = new BusDecode(what, onConflict);
  }

  override claims(): Claims {
    return bridgeClaims(this.fn);
  }

  peerFor(address: number): Node | undefined {
    return this.decode.at(address);
  }

  peerForRid(rid: number): Node | undefined {
    return this.decode.forRid(rid);
  }

  abstract portBarAt(address: number): PortNode | undefined;
  abstract upstreamBarAt(address: number): Bar | undefined;
  abstract unclaimedAt(address: number): boolean;
}

/** A switch upstream port and the internal bus its downstream ports sit on. */
export class SwitchUpstreamNode extends BusBridgeNode {
  constructor(fn: PciFunction, core: FabricCore, upLatency: number, onConflict: OnConflict) {
    super(fn, core, upLatency, onConflict, `the internal bus of ${fn.id}`);
  }

  /** Attaches a downstream port (or, as firmware built it, any function on the internal bus). */
  attach(member: Node): void {
    attachTo(this, this.decode, member);
  }

  portBarAt(address: number): PortNode | undefined {
    return portBarIn(this.decode, address);
  }

  upstreamBarAt(address: number): Bar | undefined {
    return this.fn.bars.length === 0 ? undefined : this.fn.barAt(address);
  }

  unclaimedAt(address: number): boolean {
    return this.fn.claims(address);
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from === this.up) return this.fromAbove(tlp);
    // From a downstream port: it already decided the TLP is not for a peer.
    if ((tlp.type === 'MemRd' || tlp.type === 'MemWr') && !tlp.redirected) {
      const bar = this.upstreamBarAt(tlp.address);
      if (bar !== undefined) return this.core.deliverToBar(tlp, bar, this, ROUTE.bar);
      if (this.fn.claims(tlp.address)) return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.hole);
    }
    this.core.send(tlp, this, this.up!, 'up', tlp.redirected ? ROUTE.redirectedUp : ROUTE.up);
  }

  private fromAbove(tlp: Tlp): void {
    if (consumedByBridge(this.core, this, this.fn, tlp)) return;
    const byAddress = tlp.type === 'MemRd' || tlp.type === 'MemWr';
    const port = byAddress ? this.decode.at(tlp.address) : this.decode.forRid(tlp.targetId);
    if (port === undefined) {
      return this.core.end(tlp, 'unsupported-request', byAddress ? 'route.no-target' : 'route.no-function', this, byAddress ? ROUTE.hole : ROUTE.noId);
    }
    this.core.send(tlp, this, port, 'down', ROUTE.toPort);
  }
}

/**
 * A bridge to a conventional PCI bus and the bus behind it. Upstream it
 * takes ownership of the transaction: a PCIe-to-PCI bridge tags it with
 * its alias (secondary bus, 00.0; PCIe-to-PCI Bridge r1.0 §2.3), a
 * PCI-to-PCI bridge without a PCIe capability with its own requester ID
 * (Linux pci_for_each_dma_alias), so the IOMMU sees every device behind it
 * as one requester. On the bus itself a target claims a transaction before
 * the bridge sees it (PCI Local Bus 3.0 §3.2).
 */
export class PciBridgeNode extends BusBridgeNode {
  readonly alias: number;

  constructor(fn: PciFunction, core: FabricCore, upLatency: number, onConflict: OnConflict) {
    super(fn, core, upLatency, onConflict, `the PCI bus behind ${fn.id}`);
    this.alias = fn.kind === 'pcie-pci-bridge' ? requesterId(fn.buses!.secondary, 0, 0) : fn.rid;
  }

  attach(member: Node): void {
    member.up = this;
    if (member instanceof DeviceNode) member.pciBus = this;
    this.decode.add(member);
  }

  /** A conventional PCI bus has no ACS: nothing on it is a port with Memory Target Access. */
  portBarAt(): PortNode | undefined {
    return undefined;
  }

  upstreamBarAt(): Bar | undefined {
    return undefined;
  }

  unclaimedAt(): boolean {
    return false;
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from === this.up) return this.fromAbove(tlp);
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr') {
      // A bridge below forwarded it onto this bus: a peer here may claim it first.
      const peer = this.decode.at(tlp.address);
      if (peer !== undefined && peer !== from) return this.core.send(tlp, this, peer, 'p2p-direct', ROUTE.pciSharedBus);
    }
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr' || tlp.type === 'Msg') {
      tlp.requesterId = this.alias;
      this.core.note(tlp, this, 'alias', this.fn.kind === 'pcie-pci-bridge' ? ROUTE.pciAlias : ROUTE.pciBridgeOwnership);
      if (tlp.type !== 'Msg' && this.fn.claims(tlp.address)) {
        return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.hole);
      }
    }
    this.core.send(tlp, this, this.up!, 'up', ROUTE.up);
  }

  private fromAbove(tlp: Tlp): void {
    if (consumedByBridge(this.core, this, this.fn, tlp)) return;
    let member: Node | undefined;
    let rule: string = ROUTE.down;
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr') {
      member = this.decode.at(tlp.address);
    } else if ((tlp.type === 'Cpl' || tlp.type === 'CplD') && tlp.request !== null && tlp.targetId === tlp.request.requesterId && (member = this.issuerBelow(tlp.request.issuer as Node | null)) !== undefined) {
      // The completion carries the ID this bridge (or one above it) put on the request.
      rule = ROUTE.pciCompletionReturn;
    } else {
      member = this.decode.forRid(tlp.targetId);
    }
    if (member === undefined) return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.noId);
    this.core.send(tlp, this, member, 'down', rule);
  }

  /** The member of this bus that is, or leads to, the node that issued a request. */
  private issuerBelow(issuer: Node | null): Node | undefined {
    for (let node = issuer; node !== null; node = node.up) if (node.up === this) return node;
    return undefined;
  }
}
