/**
 * The x86 interrupt window: the root complex's platform target at
 * 0xFEE0_0000–0xFEEF_FFFF. A DWORD memory write there is an interrupt
 * request (VT-d §5.1.4, SDM §11.11): it goes through the remapping hardware
 * when there is one (VT-d or AMD-Vi) or is decoded in compatibility format,
 * and is delivered to the local APICs, or ends faulted or blocked.
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { AddressTarget, RootComplex } from '../fabric/root-complex.ts';
import './reasons.ts';
import { deliveryModeName, interruptDelivery, type InterruptDelivery } from './delivery.ts';
import type { InterruptEvent } from './events.ts';
import type { Cpus } from './lapic.ts';
import { newDecision, resetDecision, type InterruptRemapper } from './remap.ts';
import type { VectorTable } from './vectors.ts';
import { MSI_WINDOW, decodeCompat } from './x86-msi.ts';

const RULE = {
  notWrite: 'VT-d §3.14 / SDM §11.11: only DWORD writes to 0xFEEx_xxxx are interrupt requests; other requests there are Unsupported Requests',
  notDword: 'VT-d §5.1.4: an interrupt request is a DWORD-sized write; other sizes to 0xFEEx_xxxx are Unsupported Requests',
  noRemapping: 'SDM §11.11: without interrupt remapping hardware the request is decoded in compatibility format and goes straight to the local APICs',
  illegalVector: 'SDM §11.5.3: a fixed or lowest-priority interrupt with a vector below 16 is refused by the local APIC (Received Illegal Vector)',
  noDestination: 'SDM §11.6.2: no local APIC matches the destination; the interrupt is accepted by none',
} as const;

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

export interface X86InterruptControllerOptions {
  readonly cpus: Cpus;
  readonly vectors: VectorTable;
  /** VT-d or AMD-Vi interrupt remapping; null = none (every request is compatibility format). */
  readonly remapper?: InterruptRemapper | null;
  readonly clock: { readonly now: number };
  readonly trace?: TraceWriter<InterruptEvent>;
}

export class X86InterruptController implements AddressTarget {
  readonly name = 'lapic-msi-window';
  readonly cpus: Cpus;
  readonly vectors: VectorTable;
  readonly remapper: InterruptRemapper | null;
  /** Every interrupt delivered through the window, in order. */
  readonly deliveries: InterruptDelivery[] = [];
  private readonly clock: { readonly now: number };
  private readonly trace: TraceWriter<InterruptEvent>;
  private readonly decision = newDecision();
  private readonly scratch: number[] = [];

  constructor(options: X86InterruptControllerOptions) {
    this.cpus = options.cpus;
    this.vectors = options.vectors;
    this.remapper = options.remapper ?? null;
    this.clock = options.clock;
    this.trace = options.trace ?? NO_TRACE;
  }

  /** Registers the window on the root complex; the remapper reads its table from host memory. */
  install(root: RootComplex): this {
    root.platform.add(MSI_WINDOW, this);
    if (this.remapper !== null) this.remapper.tableReadable = (address) => root.memory.find(address) !== undefined;
    return this;
  }

  accept(tlp: Tlp, address: number, root: RootComplex): void {
    if (tlp.type !== 'MemWr') return root.finish(tlp, 'unsupported-request', 'interrupt.not-a-write', RULE.notWrite);
    if (tlp.length !== 4) return root.finish(tlp, 'unsupported-request', 'interrupt.not-dword', RULE.notDword);
    const d = this.decision;
    resetDecision(d);
    const data = tlp.data >>> 0;
    if (this.remapper === null) {
      decodeCompat(address, data, d.attrs);
      d.rule = RULE.noRemapping;
    } else {
      this.remapper.remap(tlp, address, data, d);
    }
    if (d.kind === 'fault') {
      root.note(tlp, 'remap', d.rule, d.detail === '' ? undefined : d.detail);
      return root.finish(tlp, 'faulted', d.reason, d.rule, null, d.faultCode);
    }
    if (d.kind === 'block') return root.finish(tlp, 'blocked', d.reason, d.rule);
    const a = d.attrs;
    const now = this.clock.now;
    const cpus = d.path === 'posted' ? [] : this.cpus.deliver(a, tlp.requesterId, now, tlp.id, this.scratch);
    // A posted interrupt goes to the descriptor's owner (VT-d §5.2.3), a remapped or compatible one to every CPU that took it.
    const receivers =
      d.path === 'posted'
        ? [{ cpu: -1, vector: a.vector, vectorOwner: d.postedOwner }]
        : cpus.map((cpu) => ({ cpu, vector: a.vector, vectorOwner: this.vectors.owner(cpu, a.vector) }));
    const record = interruptDelivery(tlp, now, {
      controller: 'lapic',
      path: d.path,
      vector: a.vector,
      destination: a.destination,
      destinationMode: a.destinationMode,
      deliveryMode: d.path === 'posted' ? 'posted' : deliveryModeName(a.deliveryMode),
      trigger: a.trigger,
      irte: d.index,
      deviceId: null,
      postedDescriptor: d.postedDescriptor,
      entryOwner: d.entryOwner,
      receivers,
      cpus,
      stale: d.stale,
    });
    if (cpus.length === 0 && d.path !== 'posted') {
      // No local APIC took it: nothing was delivered, so it is not an effect (the record stays for `explain`).
      const illegal = a.vector < 16 && (a.deliveryMode === 0 || a.deliveryMode === 1);
      if (this.trace.enabled) root.note(tlp, 'remap', d.rule, record.name);
      return root.finish(tlp, 'blocked', illegal ? 'lapic.illegal-vector' : 'lapic.no-destination', illegal ? RULE.illegalVector : RULE.noDestination, record);
    }
    this.deliveries.push(record);
    if (this.trace.enabled) {
      root.note(tlp, 'remap', d.rule, record.name);
      this.trace.emit({
        type: 'msi.delivered',
        tlp: tlp.id,
        controller: 'lapic',
        path: d.path,
        vector: a.vector,
        destination: a.destination,
        cpus,
        irte: d.index,
        entryOwner: d.entryOwner,
        vectorOwners: receivers.map((r) => r.vectorOwner),
        causedBy: record.causedBy,
        requester: formatRid(tlp.requesterId),
      });
    }
    root.finish(tlp, 'delivered', 'interrupt.delivered', d.rule, record);
  }
}
