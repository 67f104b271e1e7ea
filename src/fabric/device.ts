/**
 * A device on the fabric: the functions that share one link (or one slot on
 * a conventional PCI bus, or one RCiEP package). Requests between its own
 * functions stay inside it unless the issuing function's ACS says otherwise
 * (PCIe 6.0 §6.12.1.2, multi-function devices).
 */
import { isMemoryRequest, type Tlp } from '../pcie/tlp.ts';
import { p2pCompletionRuling, p2pRequestRuling } from './acs-rules.ts';
import type { Bar, PciFunction } from './function.ts';
import { Node } from './node.ts';
import type { Claims } from './bus.ts';
import type { PciBridgeNode } from './ports.ts';
import { ROUTE } from './routing-rules.ts';

export class DeviceNode extends Node {
  readonly functions: PciFunction[] = [];
  /** The PCIe-to-PCI bridge whose conventional bus this device sits on, else null. */
  pciBus: PciBridgeNode | null = null;

  barAt(address: number): Bar | undefined {
    for (const fn of this.functions) {
      const bar = fn.barAt(address);
      if (bar !== undefined) return bar;
    }
    return undefined;
  }

  override claims(): Claims {
    return { ranges: this.functions.flatMap((fn) => fn.bars), rids: this.functions.map((fn) => fn.rid), buses: [] };
  }

  functionByRid(rid: number): PciFunction | undefined {
    for (const fn of this.functions) if (fn.rid === rid) return fn;
    return undefined;
  }

  /** A TLP arriving from outside the device. */
  receive(tlp: Tlp): void {
    switch (tlp.type) {
      case 'MemRd':
      case 'MemWr': {
        const bar = tlp.at === 'translation-request' ? undefined : this.barAt(tlp.address);
        if (bar !== undefined) this.core.deliverToBar(tlp, bar, this, ROUTE.bar);
        else this.core.end(tlp, 'unsupported-request', 'route.no-bar', this, ROUTE.noBar);
        return;
      }
      case 'IORd':
      case 'IOWr':
        return this.core.end(tlp, 'unsupported-request', 'route.no-bar', this, ROUTE.noIoBar);
      case 'CfgRd':
      case 'CfgWr': {
        const fn = this.functionByRid(tlp.targetId);
        if (fn !== undefined) this.core.deliverConfig(tlp, fn, this);
        else this.core.end(tlp, 'unsupported-request', 'route.no-function', this, ROUTE.noId);
        return;
      }
      case 'Cpl':
      case 'CplD': {
        const request = tlp.request;
        const fn =
          this.functionByRid(tlp.targetId) ??
          (request !== null && request.issuer === this ? this.functionByRid(request.issuedRequesterId) : undefined);
        if (fn === undefined) this.core.end(tlp, 'unsupported-request', 'route.unexpected-completion', this, ROUTE.unexpectedCompletion);
        else if (request !== null && request.id < fn.resetWatermark) this.core.end(tlp, 'unsupported-request', 'route.unexpected-completion', this, ROUTE.completionAfterReset);
        else this.core.deliverCompletion(tlp, fn, this);
        return;
      }
      case 'Msg': {
        const fn = this.functionByRid(tlp.targetId) ?? this.functions[0]!;
        this.core.end(tlp, 'delivered', 'message.delivered', this, ROUTE.message, fn);
        return;
      }
    }
  }

  /** One of this device's functions puts `tlp` on the fabric. */
  emit(tlp: Tlp, fn: PciFunction): void {
    if (isMemoryRequest(tlp.type) && tlp.at !== 'translation-request') {
      const bar = this.barAt(tlp.address);
      if (bar !== undefined) return this.toSibling(tlp, fn, bar);
      const peer = this.pciBus?.peerFor(tlp.address);
      if (peer !== undefined && peer !== this) return this.core.send(tlp, this, peer, 'p2p-direct', ROUTE.pciSharedBus);
    } else if (tlp.type === 'Cpl' || tlp.type === 'CplD') {
      const requester = this.functionByRid(tlp.targetId);
      if (requester !== undefined) {
        const ruling = p2pCompletionRuling(fn.acs);
        if (ruling.decision === 'direct') {
          this.core.note(tlp, this, 'p2p-direct', ruling.rule);
          return this.core.deliverCompletion(tlp, requester, this);
        }
        tlp.redirected = true;
        return this.sendUp(tlp, 'redirect-up', ruling.rule);
      }
      const peer = this.pciBus?.peerForRid(tlp.targetId);
      if (peer !== undefined && peer !== this) return this.core.send(tlp, this, peer, 'p2p-direct', ROUTE.pciSharedBus);
    }
    this.sendUp(tlp, 'up', ROUTE.up);
  }

  private toSibling(tlp: Tlp, fn: PciFunction, bar: Bar): void {
    if (bar.fn === fn) {
      this.core.note(tlp, this, 'p2p-direct', ROUTE.ownBar);
      return this.core.deliverToBar(tlp, bar, this, ROUTE.ownBar);
    }
    const ruling = p2pRequestRuling(fn.acs, tlp.at, bar.fn.portNumber);
    if (ruling.decision === 'block') return this.core.end(tlp, 'blocked', 'acs.egress-control', this, ruling.rule);
    if (ruling.decision === 'redirect') {
      tlp.redirected = true;
      return this.sendUp(tlp, 'redirect-up', ruling.rule);
    }
    this.core.note(tlp, this, 'p2p-direct', ruling.rule);
    this.core.deliverToBar(tlp, bar, this, ruling.rule);
  }

  private sendUp(tlp: Tlp, decision: 'up' | 'redirect-up', rule: string): void {
    if (this.up === null) return this.core.end(tlp, 'unsupported-request', 'route.no-link', this, ROUTE.emptyLink);
    this.core.send(tlp, this, this.up, decision, rule);
  }
}
