/**
 * One device on a PCIe link whose functions are of different kinds — a
 * switch upstream port as function 0 beside DMA endpoint functions (PLX
 * PEX 8619/8749), or a bridge function beside endpoint functions. A link
 * carries one device (PCIe 6.0 §7.5.1: the device below a downstream port
 * is device 0, or one ARI device); that device may have several functions.
 * Only machines taken as firmware assigned them build this: the scenario
 * format has no way to say it.
 *
 * Towards the port the functions share the link; between the functions,
 * a request stays inside the device unless the issuing function's ACS
 * redirects it (PCIe 6.0 §6.12.1.2, multi-function devices), exactly as
 * between the functions of one endpoint (device.ts).
 */
import type { Tlp } from '../pcie/tlp.ts';
import { p2pCompletionRuling, p2pRequestRuling, type AcsState } from './acs-rules.ts';
import { BusDecode, type Claims, type OnConflict } from './bus.ts';
import { DeviceNode } from './device.ts';
import { Node, type FabricCore } from './node.ts';
import { ROUTE } from './routing-rules.ts';

export class LinkDevice extends Node {
  readonly members: Node[] = [];
  private readonly decode: BusDecode<Node>;

  constructor(name: string, core: FabricCore, upLatency: number, onConflict: OnConflict) {
    super(name, core, upLatency);
    this.decode = new BusDecode(`the functions of ${name}`, onConflict);
  }

  attach(member: Node): void {
    this.members.push(member);
    member.up = this;
    this.decode.add(member);
  }

  override claims(): Claims {
    const all = this.members.map((m) => m.claims());
    return { ranges: all.flatMap((c) => c.ranges), rids: all.flatMap((c) => c.rids), buses: all.flatMap((c) => c.buses) };
  }

  receive(tlp: Tlp, from: Node | null): void {
    if (from === this.up || from === null) return this.fromLink(tlp);
    const memory = tlp.type === 'MemRd' || tlp.type === 'MemWr';
    const completion = tlp.type === 'Cpl' || tlp.type === 'CplD';
    const sibling = memory && tlp.at !== 'translation-request' ? this.decode.at(tlp.address) : completion ? this.decode.forRid(tlp.targetId) : undefined;
    if (sibling === undefined || sibling === from) return this.core.send(tlp, this, this.up!, 'up', ROUTE.up);
    const acs = acsOf(from!, tlp.origin);
    const ruling = memory ? p2pRequestRuling(acs, tlp.at, -1) : p2pCompletionRuling(acs);
    if (ruling.decision === 'block') return this.core.end(tlp, 'blocked', 'acs.egress-control', this, ruling.rule);
    if (ruling.decision === 'redirect') {
      tlp.redirected = true;
      return this.core.send(tlp, this, this.up!, 'redirect-up', ruling.rule);
    }
    this.core.send(tlp, this, sibling, 'p2p-direct', ruling.rule);
  }

  private fromLink(tlp: Tlp): void {
    const byAddress = tlp.type === 'MemRd' || tlp.type === 'MemWr';
    const member = byAddress ? this.decode.at(tlp.address) : this.decode.forRid(tlp.targetId);
    if (member === undefined) return this.core.end(tlp, 'unsupported-request', byAddress ? 'route.no-bar' : 'route.no-function', this, byAddress ? ROUTE.noBar : ROUTE.noId);
    this.core.send(tlp, this, member, 'down', ROUTE.down);
  }
}

/** The ACS of the function a TLP leaves from: the bridge function itself, or the endpoint function that issued it. */
function acsOf(member: Node, origin: string): AcsState | null {
  if (member instanceof DeviceNode) return (member.functions.find((f) => f.id === origin) ?? member.functions[0]!).acs;
  return (member as Node & { fn?: { acs: AcsState | null } }).fn?.acs ?? null;
}
