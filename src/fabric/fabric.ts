/**
 * The fabric runtime: compiled from an immutable FabricConfig into plain
 * mutable nodes (DESIGN.md §1), it moves TLPs hop by hop as kernel events
 * and ends each one exactly once.
 */
import { Priority, type Kernel } from '../sim/kernel.ts';
import { MAX_RANK } from '../sim/queue.ts';
import type { Rng } from '../sim/rng.ts';
import { formatRid, type RequesterId } from '../pcie/bdf.ts';
import { RangeIndex, rangesOverlap, formatRange } from '../pcie/range.ts';
import { OUTCOMES, Tlp, type Outcome, type TlpFields, type TlpInit } from '../pcie/tlp.ts';
import { DeviceNode } from './device.ts';
import { hasEffect, type Attribution, type ByteSpan, type Effect, type Ending } from './ending.ts';
import { checkReason } from '../pcie/reasons.ts';
import { FABRIC_REASONS as R } from './reasons.ts';
import { enumerate, type EnumeratedFunction, type Enumeration } from './enumerate.ts';
import type { FabricEvent, HopDecision, TraceWriter } from './events.ts';
import { PciFunction, type Bar } from './function.ts';
import type { EndTarget, FabricCore, Node } from './node.ts';
import { runModules, type PortModule, type PortSide, type PortTaps, type TapHost } from './port-module.ts';
import type { EventHandler } from '../sim/kernel.ts';
import { LinkDevice } from './link-device.ts';
import { PciBridgeNode, PortNode, SwitchUpstreamNode } from './ports.ts';
import { RootComplex, type MemoryRegion } from './root-complex.ts';
import { isDownstreamPortKind, isPciBusBridgeKind, TopologyError, type FabricConfig } from './topology.ts';

export type IssueInit = Omit<TlpInit, 'requesterId' | 'request'> & { requesterId?: RequesterId };

export type EndListener = (tlp: Tlp) => void;
export type EndingListener = (ending: Ending) => void;

const NO_EFFECTS: readonly Effect[] = [];

const TRACE_OFF: TraceWriter<FabricEvent> = { enabled: false, emit: () => 0 };

export class FabricError extends Error {
  readonly code = 'FABRIC_USAGE';
}

export class Fabric implements FabricCore {
  readonly maxHops = 64;
  readonly root: RootComplex;
  readonly functions = new Map<string, PciFunction>();
  readonly byRid = new Map<RequesterId, PciFunction>();
  readonly memory: readonly MemoryRegion[];
  /** Terminal outcomes so far, by kind. */
  readonly counts: Record<Outcome, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  private readonly bars = new RangeIndex<Bar>();
  /**
   * Overlapping decode that firmware left in place (firmware assignment
   * only; an enumerated machine with one is refused): the first claimant
   * keeps the range. Listed so that a report can say so.
   */
  readonly decodeConflicts: string[] = [];
  private readonly onConflict: (detail: string) => void;
  private readonly endListeners: EndListener[] = [];
  private readonly endingListeners: EndingListener[] = [];
  /** Who owns what: the scenario layer installs principals; alone, the fabric knows regions and BARs only. */
  attribution: Attribution;
  private nextTlpId = 1;
  /** Scenario step being performed; TLPs issued meanwhile carry its index (completions their request's). */
  currentStep = -1;
  private inFlightCount = 0;

  constructor(
    readonly kernel: Kernel,
    readonly enumeration: Enumeration,
    config: FabricConfig,
    readonly trace: TraceWriter<FabricEvent> = TRACE_OFF,
  ) {
    this.onConflict =
      config.assignment === 'firmware'
        ? (detail) => void this.decodeConflicts.push(detail)
        : (detail) => {
            throw new TopologyError('OVERLAPPING_DECODE', detail, 'fabric');
          };
    this.root = new RootComplex(this, enumeration.rootBus, this.onConflict);
    this.build(enumeration, config);
    this.memory = config.memory.map((m) => ({ kind: 'memory', name: m.name, base: m.base, size: m.size }));
    for (const region of this.memory) this.addMemory(region);
    this.attribution = unownedAttribution(this.root.memory);
  }

  /** TLPs issued and not yet ended. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  fn(id: string): PciFunction {
    const fn = this.functions.get(id);
    if (fn === undefined) throw new FabricError(`no device '${id}' in this fabric`);
    return fn;
  }

  /** The BAR holding a bus address, if any. */
  barAt(address: number): Bar | undefined {
    return this.bars.find(address);
  }

  onEnd(listener: EndListener): () => void {
    this.endListeners.push(listener);
    return () => void this.endListeners.splice(this.endListeners.indexOf(listener), 1);
  }

  /** Ending records (with effects) are built only while someone listens: the flood benchmark does not. */
  onEnding(listener: EndingListener): () => void {
    this.endingListeners.push(listener);
    return () => void this.endingListeners.splice(this.endingListeners.indexOf(listener), 1);
  }

  /** Function `fnId` puts a TLP on the fabric now; `requesterId` defaults to its own (else forged). */
  issue(fnId: string | PciFunction, init: IssueInit): Tlp {
    const fn = typeof fnId === 'string' ? this.fn(fnId) : fnId;
    const tlp = this.newTlp(init, init.requesterId ?? fn.rid);
    tlp.issuer = fn.node;
    tlp.origin = fn.id;
    if (this.endingListeners.length > 0) tlp.principal = this.attribution.actorOf?.(fn.id) ?? this.attribution.ownerOfFunction(fn.id);
    this.traceIssue(tlp, fn.id);
    const node = fn.node;
    if (node instanceof DeviceNode) node.emit(tlp, fn);
    else if (node.up !== null) this.send(tlp, node, node.up, 'issue', 'a bridge function issues upstream');
    else this.end(tlp, 'unsupported-request', 'route.no-link', node, 'the issuing function has no upstream link');
    return tlp;
  }

  /**
   * The host (a CPU, requester 00:00.0) issues a TLP now: MMIO by address,
   * configuration by ID; `actingFor` names the user it serves (VFIO).
   */
  hostIssue(init: Omit<IssueInit, 'requesterId'>): Tlp {
    const tlp = this.newTlp(init, this.root.rid);
    tlp.issuer = this.root;
    tlp.origin = 'host';
    this.traceIssue(tlp, 'host');
    this.root.receive(tlp, null);
    return tlp;
  }

  /**
   * The host refused a principal's action before it became a TLP (a VFIO
   * region check, xen-pciback, a Linux gate): an ending record of the same
   * shape, with no TLP and no effects.
   */
  refuse(refusal: {
    readonly principal: string | null;
    readonly reason: string;
    readonly rule: string;
    readonly decidedAt: string;
    readonly step: number;
    readonly address?: number;
    /** A device that never put the TLP on the fabric (link down, reset, bus mastering off); default the host. */
    readonly origin?: string;
  }): Ending {
    checkReason(refusal.reason, 'blocked', `refusal at ${refusal.decidedAt}`);
    if (this.trace.enabled) {
      this.trace.emit({ type: 'host.refused', step: refusal.step, principal: refusal.principal, reason: refusal.reason, rule: refusal.rule, node: refusal.decidedAt });
    }
    const ending: Ending = {
      tlp: null,
      type: null,
      origin: refusal.origin ?? 'host',
      principal: refusal.principal,
      requester: refusal.origin === undefined ? this.root.rid : this.fn(refusal.origin).rid,
      address: refusal.address ?? 0,
      length: 0,
      at: 'untranslated',
      outcome: 'blocked',
      reason: refusal.reason,
      rule: refusal.rule,
      decidedAt: refusal.decidedAt,
      faultCode: null,
      time: this.kernel.now,
      request: null,
      step: refusal.step,
      effects: NO_EFFECTS,
    };
    for (const listener of this.endingListeners) listener(ending);
    return ending;
  }

  /**
   * Hot-plug and surprise removal (PCIe 6.0 §6.7): the link between a
   * device and the port above it goes down or comes up. Requests routed to
   * a down link end at its port as Unsupported Requests (§2.9.1); TLPs the
   * device had already sent keep going.
   */
  setLink(fnId: string, up: boolean): void {
    const node = this.fn(fnId).node;
    const port = node.up;
    if (!(port instanceof PortNode) || port.down !== node) throw new FabricError(`'${fnId}' is not on a link below a root or downstream port: it cannot be hot-plugged`);
    port.linkUp = up;
    if (this.trace.enabled) this.trace.emit({ type: 'link.state', port: port.name, device: fnId, up });
  }

  /** True when some link between the function and the root complex is down. */
  linkDown(fnId: string): boolean {
    for (let node: Node | null = this.fn(fnId).node; node !== null && node !== this.root; node = node.up) {
      const port: Node | null = node.up;
      if (port instanceof PortNode && port.down === node && !port.linkUp) return true;
    }
    return false;
  }

  /**
   * A function reset (FLR, or a hot reset of its link): requests it issued
   * before are no longer outstanding, so their completions are Unexpected
   * Completions (PCIe 6.0 §6.6.2). Posted writes already sent still land.
   */
  resetFunction(fnId: string): void {
    this.fn(fnId).resetWatermark = this.nextTlpId;
  }

  // FabricCore: called by nodes on the hot path.

  send(tlp: Tlp, from: Node, to: Node, decision: HopDecision, rule: string): void {
    if (this.trace.enabled) this.trace.emit({ type: 'tlp.hop', tlp: tlp.id, node: this.label(tlp, from, null), decision, rule, next: to.name });
    // Port modules: one check per hop when none is attached (as for tracing).
    if (this.tapped) return this.sendThroughModules(tlp, from, to);
    tlp.from = from;
    const delay = this.jitterRng === null ? from.latencyTo(to) : this.jittered(from, to);
    this.kernel.schedule(delay, to, tlp, Priority.Normal, from.rank);
  }

  private tapped = false;

  /**
   * Attaches a port module at a node's ingress or egress (port-module.ts):
   * `at` is a function id (its node: the port, the switch, the device) or
   * "root-complex".
   */
  attachModule(at: string, side: PortSide, module: PortModule): void {
    const node: Node = at === this.root.name ? this.root : this.fn(at).node;
    if (node.taps === null) {
      const taps: PortTaps = {
        ingress: [],
        egress: [],
        gate: { name: `${node.name} (ingress modules)`, handle: (tlp) => void (runModules(this.tapHost, taps.ingress, tlp, node, 'ingress', node, tlp.from as Node | null) && node.handle(tlp)) },
      };
      node.taps = taps;
    }
    node.taps[side].push(module);
    this.tapped = true;
  }

  /** send() with modules somewhere: the sender's egress modules, then the hop, then the receiver's ingress modules. */
  private sendThroughModules(tlp: Tlp, from: Node, to: Node): void {
    if (from.taps !== null && from.taps.egress.length > 0 && !runModules(this.tapHost, from.taps.egress, tlp, from, 'egress', to, tlp.from as Node | null)) return;
    tlp.from = from;
    const delay = this.jitterRng === null ? from.latencyTo(to) : this.jittered(from, to);
    this.kernel.schedule(delay, to.taps !== null && to.taps.ingress.length > 0 ? to.taps.gate : to, tlp, Priority.Normal, from.rank);
  }

  private readonly tapHost: TapHost = {
    end: (tlp, reason, at, rule) => this.end(tlp, 'blocked', reason, at, rule),
    note: (tlp, at, rule, detail) => this.note(tlp, at, 'tap', rule, detail),
    inject: (at, side, toward, from, init, delay) => {
      const { origin, principal, ...fields } = init;
      const tlp = this.newTlp(fields, fields.requesterId ?? this.functions.get(origin)?.rid ?? this.root.rid);
      tlp.issuer = at;
      tlp.origin = origin;
      tlp.principal = principal;
      this.traceIssue(tlp, origin);
      this.kernel.schedule(delay, side === 'egress' ? this.injectOut(at, toward) : this.injectIn(at, from), tlp, Priority.Normal);
      return tlp;
    },
    now: () => this.kernel.now,
  };

  /**
   * An injected TLP leaving `at` for `toward`: the module's own side does
   * not see what it injected (a replayer would replay its replays); the
   * receiver's ingress modules do.
   */
  private injectOut(at: Node, toward: Node): EventHandler<Tlp> {
    return {
      name: `${at.name} (injected)`,
      handle: (tlp) => {
        if (this.trace.enabled) this.trace.emit({ type: 'tlp.hop', tlp: tlp.id, node: at.name, decision: 'inject', rule: 'a port module put it on the link', next: toward.name });
        tlp.from = at;
        this.kernel.schedule(at.latencyTo(toward), toward.taps !== null && toward.taps.ingress.length > 0 ? toward.taps.gate : toward, tlp, Priority.Normal, at.rank);
      },
    };
  }

  /** An injected TLP arriving at `at` as if from `from`, past the ingress modules that injected it. */
  private injectIn(at: Node, from: Node | null): EventHandler<Tlp> {
    return {
      name: `${at.name} (injected)`,
      handle: (tlp) => {
        tlp.from = from;
        at.handle(tlp);
      },
    };
  }

  /**
   * Seeded choices where PCIe leaves the order open: arbitration among
   * TLPs that reach a port in the same nanosecond over different links
   * (PCIe 6.0 §6.3.3 port arbitration is implementation-specific; within
   * one link order is kept, §2.4.1), and up to `jitterNs` of extra latency
   * per hop (a link still never reorders). Off by default.
   */
  randomize(rng: Rng, options: { readonly arbitration: boolean; readonly jitterNs: number }): void {
    if (options.arbitration) {
      const ranks = rng.fork('arbitration');
      for (const node of this.nodes()) node.rank = ranks.int(MAX_RANK + 1);
    }
    if (options.jitterNs > 0) {
      this.jitterRng = rng.fork('jitter');
      this.jitterNs = options.jitterNs;
      for (const node of this.nodes()) node.lastArrival = new Map();
    }
  }

  private jitterRng: Rng | null = null;
  private jitterNs = 0;

  private jittered(from: Node, to: Node): number {
    const now = this.kernel.now;
    const last = from.lastArrival!.get(to) ?? 0;
    const arrival = Math.max(now + from.latencyTo(to) + this.jitterRng!.int(this.jitterNs + 1), last);
    from.lastArrival!.set(to, arrival);
    return arrival - now;
  }

  /** Every routing node, the root complex first. */
  private nodes(): Node[] {
    const nodes = new Set<Node>([this.root]);
    for (const fn of this.functions.values()) nodes.add(fn.node);
    return [...nodes];
  }

  note(tlp: Tlp, at: Node | string, decision: HopDecision, rule: string, detail?: string): void {
    if (this.trace.enabled) {
      const node = typeof at === 'string' ? at : this.label(tlp, at, null);
      this.trace.emit({ type: 'tlp.hop', tlp: tlp.id, node, decision, rule, next: '', ...(detail === undefined ? {} : { note: detail }) });
    }
  }

  end(tlp: Tlp, outcome: Outcome, reason: string, at: Node | string, rule: string, target: EndTarget | null = null, faultCode: number | null = null): void {
    this.finish(tlp, outcome, reason, at, rule, target, faultCode, null);
  }

  deliverToBar(tlp: Tlp, bar: Bar, at: Node, rule: string): void {
    const write = tlp.type === 'MemWr';
    const effects = this.endingListeners.length === 0 ? null : [this.barEffect(tlp, bar, write)];
    this.finish(tlp, write ? 'delivered' : 'completed', write ? R['bar.write'].code : R['bar.read'].code, at, rule, bar, null, effects);
    if (!write) this.answer(tlp, bar.fn.node, bar.fn);
  }

  deliverToMemory(tlp: Tlp, region: EndTarget, root: Node): void {
    const rule = 'root complex: host memory';
    const write = tlp.type === 'MemWr';
    const effects = this.endingListeners.length === 0 ? null : [bytes(write, this.attribution.memorySpans(tlp.address, tlp.length))];
    this.finish(tlp, write ? 'delivered' : 'completed', write ? R['memory.write'].code : R['memory.read'].code, root, rule, region, null, effects);
    if (!write) this.answer(tlp, this.root, null);
  }

  deliverConfig(tlp: Tlp, fn: PciFunction, at: Node): void {
    const size = tlp.length === 1 || tlp.length === 2 ? tlp.length : 4;
    const rule = 'PCIe 6.0 §7.2: configuration request to its target function';
    const write = tlp.type === 'CfgWr';
    const effects: Effect[] | null =
      this.endingListeners.length === 0
        ? null
        : [{ kind: 'config', op: write ? 'write' : 'read', device: fn.id, offset: tlp.address, length: size, owner: this.attribution.ownerOfFunction(fn.id) }];
    if (write) {
      fn.config.write(tlp.address, size, tlp.data);
      return this.finish(tlp, 'delivered', R['config.write'].code, at, rule, fn, null, effects);
    }
    const value = fn.config.read(tlp.address, size);
    this.finish(tlp, 'completed', R['config.read'].code, at, rule, fn, null, effects);
    this.answer(tlp, fn.node, fn, value);
  }

  deliverCompletion(tlp: Tlp, fn: PciFunction, at: Node): void {
    const effects: Effect[] | null = this.endingListeners.length === 0 ? null : [{ kind: 'data', device: fn.id, owner: this.attribution.ownerOfFunction(fn.id) }];
    this.finish(tlp, 'delivered', R['completion.delivered'].code, at, 'PCIe 6.0 §2.2.9: completion delivered to its requester', fn, null, effects);
  }

  /**
   * The one place a TLP ends. Effects are given by the delivering call, or
   * described by the target itself (an interrupt controller's record).
   */
  private finish(tlp: Tlp, outcome: Outcome, reason: string, at: Node | string, rule: string, target: EndTarget | null, faultCode: number | null, effects: readonly Effect[] | null): void {
    if (tlp.outcome !== null) {
      throw new FabricError(`${tlp.label} ended twice: ${tlp.outcome} (${tlp.reason}) and then ${outcome} (${reason})`);
    }
    checkReason(reason, outcome, tlp.label);
    tlp.outcome = outcome;
    tlp.reason = reason;
    tlp.decidedAt = typeof at === 'string' ? at : this.label(tlp, at, target);
    tlp.rule = rule;
    tlp.target = target;
    tlp.faultCode = faultCode;
    tlp.endedAt = this.kernel.now;
    this.counts[outcome]++;
    this.inFlightCount--;
    if (this.trace.enabled) {
      this.trace.emit({
        type: 'tlp.ended',
        tlp: tlp.id,
        kind: tlp.type,
        node: tlp.decidedAt,
        outcome,
        reason,
        rule,
        faultCode,
        target: target === null ? null : target.name,
      });
    }
    for (const listener of this.endListeners) listener(tlp);
    if (this.endingListeners.length > 0) {
      const landed = outcome === 'delivered' || outcome === 'completed';
      const ending = this.endingOf(tlp, effects ?? (landed && hasEffect(target) ? [target.effect()] : NO_EFFECTS));
      for (const listener of this.endingListeners) listener(ending);
    }
  }

  private endingOf(tlp: Tlp, effects: readonly Effect[]): Ending {
    return {
      tlp: tlp.id,
      type: tlp.type,
      origin: tlp.origin,
      principal: tlp.origin === 'host' ? (tlp.actingFor ?? 'host') : (tlp.principal ?? this.attribution.ownerOfFunction(tlp.origin)),
      requester: tlp.issuedRequesterId,
      address: tlp.issuedAddress,
      ...(tlp.exactAddress === null ? {} : { exactAddress: tlp.exactAddress }),
      length: tlp.length,
      at: tlp.at,
      outcome: tlp.outcome!,
      reason: tlp.reason,
      rule: tlp.rule,
      decidedAt: tlp.decidedAt,
      faultCode: tlp.faultCode,
      time: tlp.endedAt,
      request: tlp.request === null ? null : tlp.request.id,
      step: tlp.step,
      effects,
    };
  }

  /**
   * A memory request is routed by its start address (PCIe 6.0 §2.2.4.1), so
   * the whole span goes to the BAR that claims the start; bytes beyond the
   * BAR's end are taken by the same completer (what it does with them is
   * implementation-specific), never by whatever lies beyond.
   */
  private barEffect(tlp: Tlp, bar: Bar, write: boolean): Effect {
    const inside = Math.min(tlp.length, bar.base + bar.size - tlp.address);
    const spans = this.attribution.barSpans(bar, tlp.address, inside);
    if (inside < tlp.length) {
      const owner = spans.length > 0 ? spans[spans.length - 1]!.owner : this.attribution.ownerOfFunction(bar.fn.id);
      spans.push({ base: tlp.address + inside, length: tlp.length - inside, kind: 'bar', region: bar.name, sub: 'past-end', owner });
    }
    return bytes(write, spans);
  }

  /**
   * A node's name for a TLP: inside a multifunction device, the function
   * involved (the one that received it, or else the one that issued it)
   * rather than the device's first function.
   */
  private label(tlp: Tlp, node: Node, target: EndTarget | null): string {
    if (!(node instanceof DeviceNode) || node.functions.length < 2) return node.name;
    const fn = target === null ? undefined : 'fn' in target ? (target as Bar).fn : node.functions.find((f) => f === target);
    if (fn !== undefined) return fn.id;
    return node === tlp.issuer && tlp.origin !== '' ? tlp.origin : node.name;
  }

  answer(request: Tlp, node: Node, fn: PciFunction | null, data = 0, attachment: object | null = null): Tlp {
    const completer = fn === null ? this.root.rid : fn.rid;
    const cpl = this.newTlp({ type: 'CplD', targetId: request.requesterId, request, data, length: request.length }, completer);
    cpl.issuer = node;
    cpl.origin = fn === null ? 'host' : fn.id;
    cpl.attachment = attachment;
    if (this.trace.enabled) this.traceIssue(cpl, fn === null ? 'host' : fn.id);
    if (node === this.root) this.root.routeById(cpl);
    else if (node instanceof DeviceNode) node.emit(cpl, fn!);
    else this.send(cpl, node, node.up!, 'up', 'PCIe 6.0 §2.2.9: completions are routed by requester ID');
    return cpl;
  }

  private newTlp(init: TlpFields, requesterId: RequesterId): Tlp {
    this.inFlightCount++;
    if (init.step === undefined && (init.request === undefined || init.request === null) && this.currentStep >= 0) init = { ...init, step: this.currentStep };
    return new Tlp(this.nextTlpId++, init, requesterId);
  }

  private traceIssue(tlp: Tlp, by: string): void {
    if (!this.trace.enabled) return;
    this.trace.emit({
      type: 'tlp.issued',
      tlp: tlp.id,
      kind: tlp.type,
      by,
      requester: formatRid(tlp.requesterId),
      address: tlp.address,
      ...(tlp.exactAddress === null ? {} : { exactAddress: tlp.exactAddress }),
      length: tlp.length,
      data: tlp.data,
      at: tlp.at,
    });
  }

  private addMemory(region: MemoryRegion): void {
    for (const [range, bar] of this.bars.entries()) {
      if (rangesOverlap(range, region)) {
        throw new TopologyError('OVERLAPPING_MEMORY', `memory '${region.name}' ${formatRange(region)} overlaps ${bar.name} ${formatRange(range)}`, region.name);
      }
    }
    try {
      this.root.memory.add(region, region);
    } catch {
      throw new TopologyError('OVERLAPPING_MEMORY', `memory '${region.name}' ${formatRange(region)} overlaps another memory region`, region.name);
    }
  }

  /**
   * Creates runtime functions and nodes, then wires each node below its
   * parent. Functions that share a slot (or, below a PCIe port, the link)
   * form one device; a link whose device mixes bridge and endpoint
   * functions (firmware-assigned machines only) gets a LinkDevice.
   */
  private build(enumeration: Enumeration, config: FabricConfig): void {
    const firmware = config.assignment === 'firmware';
    const onPort = (e: EnumeratedFunction) => e.parent !== null && isDownstreamPortKind(e.parent.config.kind);
    // A VF is a function of its PF's device (SR-IOV 1.1 §1.2); its header type never says multifunction.
    const slotOf = (e: EnumeratedFunction): string =>
      e.physfn !== null ? slotOf(e.physfn) : `${e.parent?.config.id ?? ''}/${e.bus}/${firmware && onPort(e) ? 'link' : e.device}`;
    const slotSizes = new Map<string, number>();
    for (const e of enumeration.scanOrder) if (e.physfn === null) slotSizes.set(slotOf(e), (slotSizes.get(slotOf(e)) ?? 0) + 1);

    const nodeOf = new Map<string, Node>();
    const placed: { node: Node; parent: EnumeratedFunction | null }[] = [];
    const packages = new Map<string, DeviceNode>();
    for (const e of enumeration.scanOrder) {
      const fn = new PciFunction(e, config.domain, e.physfn === null && slotSizes.get(slotOf(e))! > 1);
      this.functions.set(fn.id, fn);
      this.byRid.set(fn.rid, fn);
      for (const bar of fn.bars) this.addBar(bar);
      const latency = e.config.latency ?? config.hopLatency;
      let node: Node | undefined;
      if (fn.kind === 'root-port' || fn.kind === 'switch-downstream') node = new PortNode(fn, this, latency);
      else if (fn.kind === 'switch-upstream') node = new SwitchUpstreamNode(fn, this, latency, this.onConflict);
      else if (isPciBusBridgeKind(fn.kind)) node = new PciBridgeNode(fn, this, latency, this.onConflict);
      else {
        node = packages.get(slotOf(e));
        if (node === undefined) {
          node = new DeviceNode(fn.id, this, latency);
          packages.set(slotOf(e), node as DeviceNode);
          placed.push({ node, parent: e.parent });
        }
        (node as DeviceNode).functions.push(fn);
      }
      if (!(node instanceof DeviceNode)) placed.push({ node, parent: e.parent });
      fn.node = node;
      nodeOf.set(fn.id, node);
    }

    const below = new Map<Node, Node[]>();
    for (const { node, parent: parentFn } of placed) {
      const parent = parentFn === null ? this.root : nodeOf.get(parentFn.config.id)!;
      below.set(parent, [...(below.get(parent) ?? []), node]);
    }
    for (const [parent, members] of below) {
      if (parent instanceof PortNode) {
        const down = members.length === 1 ? members[0]! : this.linkDevice(members);
        parent.down = down;
        down.up = parent;
      } else {
        for (const member of members) (parent as RootComplex | SwitchUpstreamNode | PciBridgeNode).attach(member);
      }
    }
  }

  /** The device on a link whose functions are of several kinds. */
  private linkDevice(members: readonly Node[]): LinkDevice {
    const link = new LinkDevice(`${members[0]!.name}*`, this, members[0]!.upLatency, this.onConflict);
    for (const member of members) link.attach(member);
    return link;
  }

  private addBar(bar: Bar): void {
    try {
      this.bars.add(bar, bar);
    } catch {
      this.onConflict(`${bar.name} ${formatRange(bar)} overlaps ${this.bars.find(bar.base)?.name ?? this.bars.find(bar.base + bar.size - 1)?.name ?? 'another BAR'}`);
    }
  }
}

/** Enumerates and compiles a fabric configuration (an immer value or any plain object). */
export function compileFabric(config: FabricConfig, kernel: Kernel, trace?: TraceWriter<FabricEvent>): Fabric {
  return new Fabric(kernel, enumerate(config), config, trace);
}

function bytes(write: boolean, spans: readonly ByteSpan[]): Effect {
  return { kind: 'bytes', op: write ? 'write' : 'read', spans };
}

/** The fabric's own attribution: regions and BARs by name, nobody's. */
function unownedAttribution(memory: RangeIndex<MemoryRegion>): Attribution {
  return {
    memorySpans(base, length) {
      const spans: ByteSpan[] = [];
      memory.pieces(base, length, (b, l, region) =>
        spans.push(region === undefined ? { base: b, length: l, kind: 'unclaimed', region: null, sub: null, owner: null } : { base: b, length: l, kind: 'memory', region: region.name, sub: null, owner: null }),
      );
      return spans;
    },
    barSpans(bar, base, length) {
      return length <= 0 ? [] : [{ base, length, kind: 'bar', region: bar.name, sub: null, owner: null }];
    },
    ownerOfFunction: () => null,
  };
}
