/** Runtime PCI functions and their BARs: plain mutable objects the routing reads. */
import { formatRid, type RequesterId } from '../pcie/bdf.ts';
import { ConfigSpace, ExtCapabilityId } from '../pcie/config-space.ts';
import type { AddressRange } from '../pcie/range.ts';
import { AcsState } from './acs-rules.ts';
import type { EnumeratedFunction } from './enumerate.ts';
import type { Node } from './node.ts';
import type { BusRange, FunctionKind } from './topology.ts';

export interface Bar {
  readonly fn: PciFunction;
  readonly index: number;
  readonly base: number;
  readonly size: number;
  readonly prefetch: boolean;
  /** "nic.bar0" */
  readonly name: string;
}

export class PciFunction {
  readonly id: string;
  readonly kind: FunctionKind;
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
  readonly rid: RequesterId;
  readonly bars: readonly Bar[];
  readonly acs: AcsState | null;
  /** Index of this port or function in a peer's ACS egress control vector. */
  readonly portNumber: number;
  readonly buses: BusRange | null;
  readonly windows: { readonly memory: AddressRange | null; readonly prefetchable: AddressRange | null };
  readonly config: ConfigSpace;
  /** The routing node that carries this function's traffic (set by the compiler). */
  node!: Node;
  /**
   * TLP ids below this were issued before the function's last reset: their
   * completions find no outstanding request (PCIe 6.0 §6.6.2).
   */
  resetWatermark = 0;

  constructor(e: EnumeratedFunction, domain: number, multifunction: boolean) {
    this.id = e.config.id;
    this.kind = e.config.kind;
    this.domain = domain;
    this.bus = e.bus;
    this.device = e.device;
    this.fn = e.fn;
    this.rid = e.rid;
    this.bars = e.bars.map((b) => ({ fn: this, index: b.index, base: b.base, size: b.size, prefetch: b.prefetch, name: `${this.id}.bar${b.index}` }));
    this.acs = AcsState.from(e.config.acs);
    this.portNumber = e.config.portNumber ?? (this.kind === 'root-port' ? (this.device << 3) | this.fn : e.config.kind === 'switch-downstream' ? this.device : this.fn);
    this.buses = e.buses;
    this.windows = { ...e.windows };
    this.config = new ConfigSpace({
      multifunction,
      bridge: e.buses !== null,
      ...(e.config.ids ? { vendorId: e.config.ids.vendor, deviceId: e.config.ids.device } : {}),
    });
    if (this.acs) defineAcsRegisters(this.config, this.acs);
  }

  /** Names the function as a trace target. */
  get name(): string {
    return this.id;
  }

  get bdf(): string {
    return formatRid(this.rid);
  }

  /** True when the address falls in one of this bridge's windows (its secondary side). */
  claims(address: number): boolean {
    const { memory, prefetchable } = this.windows;
    return (
      (memory !== null && address >= memory.base && address < memory.base + memory.size) ||
      (prefetchable !== null && address >= prefetchable.base && address < prefetchable.base + prefetchable.size)
    );
  }

  /** True when the bus lies in this bridge's secondary..subordinate range. */
  claimsBus(bus: number): boolean {
    return this.buses !== null && bus >= this.buses.secondary && bus <= this.buses.subordinate;
  }

  barAt(address: number): Bar | undefined {
    for (const bar of this.bars) if (address >= bar.base && address < bar.base + bar.size) return bar;
    return undefined;
  }
}

/**
 * The ACS extended capability (PCIe 6.0 §7.7.8): capability register at +4,
 * control at +6, egress control vector at +8. Writing control changes what
 * the port enforces from the next TLP on.
 */
function defineAcsRegisters(config: ConfigSpace, acs: AcsState): void {
  const base = config.addExtendedCapability(ExtCapabilityId.acs, 12);
  config.define(base + 4, 2, { read: () => acs.cap | (32 << 8), write: () => undefined }, acs.cap);
  config.define(base + 6, 2, { write: (value) => void (acs.ctl = value & 0x7f) }, acs.ctl);
  config.define(base + 8, 4, { write: (value) => void (acs.egressVector = value) }, acs.egressVector);
}
