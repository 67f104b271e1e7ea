/**
 * Devices as interrupt sources. A function's legitimate interrupt is the
 * memory write its MSI or MSI-X capability holds for the vector (PCIe 6.0
 * §6.1.4); a masked vector sets its pending bit instead and is sent when
 * unmasked. MSI-X tables live in BARs: a memory write delivered to the table
 * region (host MMIO, or a peer's DMA) updates the entry. Who is allowed to
 * program a table is configuration (`tableProgrammer`: the host, or the guest
 * that has the table mapped); each write is attributed for verdicts.
 */
import { formatRid } from '../pcie/bdf.ts';
import type { MsiCapability, MsiMessage, MsixCapability } from '../pcie/msi.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { Fabric } from '../fabric/fabric.ts';
import type { Bar, PciFunction } from '../fabric/function.ts';
import { issuerOf } from './delivery.ts';
import type { InterruptEvent } from './events.ts';

export class MsiSourceError extends Error {
  readonly code = 'MSI_SOURCE';
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

export class MsiSource {
  constructor(
    private readonly sources: MsiSources,
    readonly fn: PciFunction,
    readonly msi: MsiCapability | null,
    readonly msix: MsixCapability | null,
    /** Principal that programs the MSI-X table: "host", or the guest when the table is mapped to it. */
    readonly tableProgrammer: string,
  ) {
    if (msi !== null) msi.onUnmask = (v) => void this.send('msi', v, msi.message(v));
    if (msix !== null) msix.onUnmask = (v) => void this.send('msix', v, msix.message(v));
  }

  /**
   * Raises vector `vector` the way the device would: MSI-X when enabled,
   * else MSI. Returns the TLP sent, or null when the vector is masked (its
   * pending bit is set) or no capability is enabled.
   */
  signal(vector: number): Tlp | null {
    const { msi, msix } = this;
    if (msix !== null && msix.enabled) {
      if (msix.isMasked(vector)) {
        msix.setPending(vector, true);
        return this.pended('msix', vector);
      }
      return this.send('msix', vector, msix.message(vector));
    }
    if (msi !== null && msi.enabled) {
      if (msi.isMasked(vector)) {
        msi.setPending(vector, true);
        return this.pended('msi', vector);
      }
      return this.send('msi', vector, msi.message(vector));
    }
    return null;
  }

  /** The message the device would write for `vector`, without sending it. */
  message(vector: number): MsiMessage | null {
    if (this.msix !== null && this.msix.enabled) return this.msix.message(vector);
    if (this.msi !== null && this.msi.enabled) return this.msi.message(vector);
    return null;
  }

  private pended(kind: 'msi' | 'msix', vector: number): null {
    const trace = this.sources.trace;
    if (trace.enabled) trace.emit({ type: 'msi.signal', device: this.fn.id, kind, vector, masked: true, tlp: 0 });
    return null;
  }

  private send(kind: 'msi' | 'msix', vector: number, message: MsiMessage | null): Tlp | null {
    if (message === null) return null;
    const tlp = this.sources.fabric.issue(this.fn, { type: 'MemWr', address: message.address, data: message.data, length: 4 });
    const trace = this.sources.trace;
    if (trace.enabled) trace.emit({ type: 'msi.signal', device: this.fn.id, kind, vector, masked: false, tlp: tlp.id });
    return tlp;
  }
}

/** Every interrupt-capable function of a fabric, and the MMIO path into MSI-X tables. */
export class MsiSources {
  private readonly byFunction = new Map<string, MsiSource>();
  private readonly byBar = new Map<Bar, MsiSource>();

  constructor(
    readonly fabric: Fabric,
    readonly trace: TraceWriter<InterruptEvent> = NO_TRACE,
    /** Principal owning a function (attributes a peer device's DMA into a table). */
    private readonly principalOf: (fnId: string) => string | null = () => null,
  ) {
    fabric.onEnd((tlp) => this.onEnd(tlp));
  }

  add(fn: PciFunction, caps: { msi?: MsiCapability; msix?: MsixCapability }, tableProgrammer = 'host'): MsiSource {
    const source = new MsiSource(this, fn, caps.msi ?? null, caps.msix ?? null, tableProgrammer);
    this.byFunction.set(fn.id, source);
    const msix = caps.msix;
    if (msix !== undefined) {
      for (const region of [msix.table, msix.pba]) {
        const bar = fn.bars.find((b) => b.index === region.bar);
        if (bar === undefined || region.offset + region.size > bar.size) {
          throw new MsiSourceError(`'${fn.id}': MSI-X ${region === msix.table ? 'table' : 'PBA'} needs BAR ${region.bar} of at least 0x${(region.offset + region.size).toString(16)} bytes`);
        }
        this.byBar.set(bar, source);
      }
    }
    return source;
  }

  source(fnId: string): MsiSource {
    const source = this.byFunction.get(fnId);
    if (source === undefined) throw new MsiSourceError(`no interrupt source '${fnId}'`);
    return source;
  }

  /** PCIe 6.0 §7.7.2: a memory write that lands in a table updates the entry. */
  private onEnd(tlp: Tlp): void {
    if (tlp.type !== 'MemWr' || tlp.outcome !== 'delivered' || tlp.target === null) return;
    const source = this.byBar.get(tlp.target as Bar);
    if (source === undefined) return;
    const bar = tlp.target as Bar;
    const offset = tlp.address - bar.base;
    const by = this.writerOf(tlp, source);
    if (!source.msix!.mmioWrite(bar.index, offset, tlp.length, tlp.data, by)) return;
    const table = source.msix!.table;
    if (this.trace.enabled && bar.index === table.bar && offset >= table.offset && offset < table.offset + table.size) {
      this.trace.emit({ type: 'msix.table-write', tlp: tlp.id, device: source.fn.id, vector: (offset - table.offset) >> 4, by });
    }
  }

  /** A CPU write is the configured programmer's; a device's DMA is its owner's (or the device's, unowned). */
  private writerOf(tlp: Tlp, source: MsiSource): string {
    if (tlp.requesterId === this.fabric.root.rid && tlp.issuer === this.fabric.root) return source.tableProgrammer;
    const issuer = issuerOf(tlp);
    return this.principalOf(issuer) ?? `${issuer} (${formatRid(tlp.issuedRequesterId)})`;
  }
}
