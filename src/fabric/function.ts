/** Runtime PCI functions and their BARs: plain mutable objects the routing reads. */
import { formatRid, type RequesterId } from '../pcie/bdf.ts';
import { ACS_ENHANCED, ACS_ENHANCED_CONTROLS } from '../pcie/acs.ts';
import { ConfigSpace, ExtCapabilityId } from '../pcie/config-space.ts';
import type { AddressRange } from '../pcie/range.ts';
import { AcsState } from './acs-rules.ts';
import type { EnumeratedFunction } from './enumerate.ts';
import type { Node } from './node.ts';
import type { BusRange, FunctionKind, SriovConfig } from './topology.ts';

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
  /** A Virtual Function's Physical Function (id); null otherwise. */
  readonly physfn: string | null;
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
    this.acs = acsStateOf(e.config);
    // Egress-vector index: a root port's devfn, a downstream port's device number, a function's number
    // (8 bits in an ARI device, PCIe 6.3 §6.13, as an SR-IOV device with ARI Capable Hierarchy is).
    const ari = (e.physfn ?? e).config.sriov?.ari === true;
    this.portNumber = e.config.portNumber ?? (this.kind === 'root-port' || ari ? (this.device << 3) | this.fn : e.config.kind === 'switch-downstream' ? this.device : this.fn);
    this.physfn = e.physfn?.config.id ?? null;
    this.buses = e.buses;
    this.windows = { ...e.windows };
    this.config = new ConfigSpace({
      multifunction,
      bridge: e.buses !== null,
      ...(e.config.ids ? { vendorId: e.config.ids.vendor, deviceId: e.config.ids.device } : {}),
      ...(e.config.ids?.class === undefined ? {} : { classCode: e.config.ids.class }),
      ...(e.config.ids?.revision === undefined ? {} : { revision: e.config.ids.revision }),
    });
    if (this.acs?.present) defineAcsRegisters(this.config, this.acs);
    if (e.config.sriov !== undefined) defineSriovCapability(this.config, e.config.sriov, e.config.ids?.device);
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
 * The SR-IOV Extended Capability as Linux left it after enabling the VFs
 * (SR-IOV 1.1 §3.3; offsets as Linux pci_regs.h PCI_SRIOV_*): VF Enable,
 * VF MSE and ARI Capable Hierarchy in SR-IOV Control, InitialVFs = TotalVFs
 * = NumVFs, First VF Offset, VF Stride, VF Device ID. Stored, not modelled:
 * rewriting them does not move the VFs.
 */
function defineSriovCapability(config: ConfigSpace, sriov: SriovConfig, pfDevice: number | undefined): void {
  const base = config.addExtendedCapability(ExtCapabilityId.sriov, 0x40);
  config.poke(base + 0x08, 2, 0x01 | 0x08 | (sriov.ari ? 0x10 : 0));
  for (const at of [0x0c, 0x0e, 0x10]) config.poke(base + at, 2, sriov.vfs.length);
  config.poke(base + 0x14, 2, sriov.offset);
  config.poke(base + 0x16, 2, sriov.stride);
  config.poke(base + 0x1a, 2, sriov.vfIds?.device ?? pfDevice ?? 0);
}

/**
 * The function's runtime ACS: its registers, and what its silicon puts in
 * force (a fact the scenario resolved from its identity). A silicon whose
 * real control lives elsewhere (Intel SPT's dword at cap+8) ignores the
 * control word; a claim the hardware does not honour puts nothing in force.
 */
function acsStateOf(config: EnumeratedFunction['config']): AcsState | null {
  const silicon = config.silicon;
  if (silicon === undefined) return AcsState.from(config.acs);
  const acs = config.acs !== undefined && silicon.honoured && silicon.fact.controlElsewhere ? { ...config.acs, ctl: 0 } : config.acs;
  return AcsState.from(acs, silicon.fact, silicon.honoured ? silicon.forced : 0);
}

/**
 * The ACS extended capability (PCIe 6.3 §7.7.11): capability register at +4
 * (flags 7:0, Egress Control Vector Size 15:8), control at +6, then the
 * Egress Control Vector, one DWORD per 32 bits. Writing control or the
 * vector changes what the function enforces from the next TLP on; controls
 * the capability does not implement read as zero (§7.7.11.3).
 */
function defineAcsRegisters(config: ConfigSpace, acs: AcsState): void {
  const words = Math.ceil(acs.vectorSize / 32);
  const base = config.addExtendedCapability(ExtCapabilityId.acs, 8 + 4 * words);
  const implemented = (acs.cap & 0x7f) | ((acs.cap & ACS_ENHANCED) !== 0 ? ACS_ENHANCED_CONTROLS : 0);
  config.define(base + 4, 2, { read: () => acs.capabilityRegister, write: () => undefined }, acs.capabilityRegister);
  config.define(base + 6, 2, { write: (value) => void (acs.ctl = value & implemented) }, acs.ctl);
  for (let i = 0; i < words; i++) {
    const bits = Math.min(32, acs.vectorSize - 32 * i);
    const mask = bits === 32 ? 0xffff_ffff : (1 << bits) - 1;
    config.define(base + 8 + 4 * i, 4, { write: (value) => void (acs.egress[i] = (value & mask) >>> 0) }, acs.egress[i]!);
  }
}
