/**
 * Bridges: root ports and switch downstream ports (which enforce ACS on what
 * comes up their link, PCIe 6.0 §6.12.1.1), switch upstream ports (which
 * decode the switch's internal bus) and PCIe-to-PCI bridges (which alias
 * the conventional devices behind them).
 */
import { busOf, requesterId } from '../pcie/bdf.ts';
import { RangeIndex } from '../pcie/range.ts';
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
import type { DeviceNode } from './device.ts';
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

/** A bus's decoders: windows and BARs by address (for traffic from above), port BARs apart, ports by bus number. */
export interface BusDecode {
  readonly decode: RangeIndex<Node>;
  readonly portBars: RangeIndex<PortNode>;
  readonly byBus: (Node | undefined)[];
}

/**
 * Puts a downstream port on the bus its parent decodes (a switch's internal
 * bus or the root complex): its windows and BARs decode to it by address,
 * its bus range by ID.
 */
export function attachPortTo(bus: PeerBus & Node, decoders: BusDecode, port: PortNode): void {
  port.up = bus;
  port.peers = bus;
  const { memory, prefetchable } = port.fn.windows;
  if (memory) decoders.decode.add(memory, port);
  if (prefetchable) decoders.decode.add(prefetchable, port);
  for (const bar of port.fn.bars) {
    decoders.decode.add(bar, port);
    decoders.portBars.add(bar, port);
  }
  const buses = port.fn.buses!;
  for (let b = buses.secondary; b <= buses.subordinate; b++) decoders.byBus[b] = port;
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

/** A switch upstream port and the internal bus its downstream ports sit on. */
export class SwitchUpstreamNode extends Node implements PeerBus {
  readonly ports: PortNode[] = [];
  private readonly decoders: BusDecode = { decode: new RangeIndex<Node>(), portBars: new RangeIndex<PortNode>(), byBus: new Array(256) };

  constructor(
    readonly fn: PciFunction,
    core: FabricCore,
    upLatency: number,
  ) {
    super(fn.id, core, upLatency);
  }

  /** Attaches a downstream port: its windows, BARs and buses now decode to it. */
  attach(port: PortNode): void {
    this.ports.push(port);
    attachPortTo(this, this.decoders, port);
  }

  peerFor(address: number): Node | undefined {
    return this.decoders.decode.find(address);
  }

  peerForRid(rid: number): Node | undefined {
    for (const port of this.ports) if (port.fn.rid === rid) return port;
    return this.decoders.byBus[busOf(rid)];
  }

  portBarAt(address: number): PortNode | undefined {
    return this.decoders.portBars.find(address);
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
    const port = byAddress ? this.decoders.decode.find(tlp.address) : this.peerForRid(tlp.targetId);
    if (port === undefined) {
      return this.core.end(tlp, 'unsupported-request', byAddress ? 'route.no-target' : 'route.no-function', this, byAddress ? ROUTE.hole : ROUTE.noId);
    }
    this.core.send(tlp, this, port, 'down', ROUTE.toPort);
  }
}

/**
 * A PCIe-to-PCI bridge and the conventional PCI bus behind it. Upstream it
 * replaces the requester ID with its alias (secondary bus, 00.0), so the
 * IOMMU sees every device behind it as one requester.
 */
export class PciBridgeNode extends Node {
  readonly devices: DeviceNode[] = [];
  readonly alias: number;
  private readonly decode = new RangeIndex<DeviceNode>();

  constructor(
    readonly fn: PciFunction,
    core: FabricCore,
    upLatency: number,
  ) {
    super(fn.id, core, upLatency);
    this.alias = requesterId(fn.buses!.secondary, 0, 0);
  }

  attach(device: DeviceNode): void {
    this.devices.push(device);
    device.up = this;
    device.pciBus = this;
    for (const fn of device.functions) for (const bar of fn.bars) this.decode.add(bar, device);
  }

  deviceAt(address: number): DeviceNode | undefined {
    return this.decode.find(address);
  }

  deviceByRid(rid: number): DeviceNode | undefined {
    for (const device of this.devices) if (device.functionByRid(rid) !== undefined) return device;
    return undefined;
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from === this.up) return this.fromAbove(tlp);
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr' || tlp.type === 'Msg') {
      tlp.requesterId = this.alias;
      this.core.note(tlp, this, 'alias', ROUTE.pciAlias);
      if (tlp.type !== 'Msg' && this.fn.claims(tlp.address)) {
        return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.hole);
      }
    }
    this.core.send(tlp, this, this.up!, 'up', ROUTE.up);
  }

  private fromAbove(tlp: Tlp): void {
    if (consumedByBridge(this.core, this, this.fn, tlp)) return;
    let device: DeviceNode | undefined;
    let rule: string = ROUTE.down;
    if (tlp.type === 'MemRd' || tlp.type === 'MemWr') {
      device = this.deviceAt(tlp.address);
    } else if ((tlp.type === 'Cpl' || tlp.type === 'CplD') && tlp.targetId === this.alias) {
      const issuer = tlp.request?.issuer;
      device = this.devices.find((d) => d === issuer);
      rule = ROUTE.pciCompletionReturn;
    } else {
      device = this.deviceByRid(tlp.targetId);
    }
    if (device === undefined) return this.core.end(tlp, 'unsupported-request', 'route.no-target', this, ROUTE.noId);
    this.core.send(tlp, this, device, 'down', rule);
  }
}
