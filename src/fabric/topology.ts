/**
 * The topology model: what a machine's PCIe hierarchy is made of, as
 * immutable configuration. Every PCI function is one entry; the tree comes
 * from `parent` (absent: the function sits on the root bus, beside the host
 * bridge). `compileFabric` turns this into mutable runtime nodes.
 */
import type { AcsCapability } from '../pcie/acs.ts';
import type { AddressRange } from '../pcie/range.ts';
import type { SiliconBehaviour } from './silicon.ts';

export type FunctionKind =
  | 'root-port'
  | 'switch-upstream'
  | 'switch-downstream'
  | 'pcie-pci-bridge'
  /** A conventional PCI-to-PCI bridge (no PCIe capability), e.g. a chipset's subtractive-decode PCI bridge. */
  | 'pci-bridge'
  | 'pci-device'
  | 'endpoint'
  | 'rciep';

export const FUNCTION_KINDS: readonly FunctionKind[] = [
  'root-port',
  'switch-upstream',
  'switch-downstream',
  'pcie-pci-bridge',
  'pci-bridge',
  'pci-device',
  'endpoint',
  'rciep',
];

/** Type 1 (bridge) functions: they have a secondary bus and windows. */
export function isBridgeKind(kind: FunctionKind): boolean {
  return kind === 'root-port' || kind === 'switch-upstream' || kind === 'switch-downstream' || kind === 'pcie-pci-bridge' || kind === 'pci-bridge';
}

/** Bridges whose secondary side is a conventional PCI bus (shared, no requester IDs on it). */
export function isPciBusBridgeKind(kind: FunctionKind): boolean {
  return kind === 'pcie-pci-bridge' || kind === 'pci-bridge';
}

/** Ports whose downstream side is a PCIe link and that enforce ACS on what comes up it (§6.12.1.1). */
export function isDownstreamPortKind(kind: FunctionKind): boolean {
  return kind === 'root-port' || kind === 'switch-downstream';
}

export interface BarConfig {
  /** Bytes; a power of two, at least 16 (PCIe Base 6.0 §7.5.1.2.1). */
  readonly size: number;
  /** Pinned bus address; otherwise assigned by enumeration. */
  readonly at?: number;
  readonly prefetch?: boolean;
  readonly bits?: 32 | 64;
}

export interface BusRange {
  readonly secondary: number;
  readonly subordinate: number;
}

export interface FunctionConfig {
  readonly id: string;
  readonly kind: FunctionKind;
  /** Id of the bridge above; absent for root ports and RCiEPs (root bus). */
  readonly parent?: string;
  /** Pinned bus/device/function; partially pinned fields are not supported. */
  readonly bdf?: { readonly bus: number; readonly device: number; readonly fn: number };
  /**
   * Functions sharing a `package` are one multifunction device (one device
   * number, functions in list order). Endpoint functions below the same PCIe
   * port always share one: a link carries one device.
   */
  readonly package?: string;
  readonly bars?: readonly BarConfig[];
  /** The ACS extended capability; absent = the function has none. */
  readonly acs?: AcsCapability;
  /** Bridges: pinned bus range (importing a real machine); otherwise enumerated. */
  readonly buses?: BusRange;
  /** Bridges: pinned memory windows (importing a real machine). */
  readonly windows?: { readonly memory?: AddressRange | null; readonly prefetchable?: AddressRange | null };
  /** PCI vendor/device IDs, class code (24 bits: base, sub, prog-if) and revision: the device's identity. */
  readonly ids?: { readonly vendor: number; readonly device: number; readonly class?: number; readonly revision?: number };
  /**
   * What the silicon of this identity does beyond its ACS registers (silicon.ts),
   * resolved by the scenario layer from `ids` through Linux's quirk table.
   */
  readonly silicon?: SiliconBehaviour;
  /** ns for the link (or internal bus) to the parent; default: the fabric's hop latency. */
  readonly latency?: number;
  /** Egress-vector port number (switch DPs: Link Capabilities Port Number); default: device number. */
  readonly portNumber?: number;
  /** An SR-IOV Physical Function: the Virtual Functions it has enabled (SR-IOV 1.1 §3.3). */
  readonly sriov?: SriovConfig;
}

/**
 * The SR-IOV Extended Capability as the host programmed it (NumVFs, VF
 * Enable, ARI Capable Hierarchy; SR-IOV 1.1 §3.3.3, §3.3.7–§3.3.9): VF n
 * (0-based, Linux's vf id) has Routing ID = PF RID + First VF Offset + n ×
 * VF Stride (§2.1.2; Linux pci_iov_virtfn_bus/devfn), and BAR i at the PF's
 * VF BAR i + n × its size (§3.3.14; Linux pci_iov_add_virtfn).
 */
export interface SriovConfig {
  /** Ids of the VFs, in order (their count is NumVFs). */
  readonly vfs: readonly string[];
  readonly offset: number;
  readonly stride: number;
  /** The VF BARs: each VF gets one BAR of each size; the PF reserves size × NumVFs for it. */
  readonly vfBars: readonly BarConfig[];
  /** VF Device ID (the VFs' vendor is the PF's): their identity; default the PF's. */
  readonly vfIds?: { readonly vendor: number; readonly device: number };
  /**
   * ARI Capable Hierarchy: Function Numbers are 8 bits (PCIe 6.3 §6.13), so the
   * egress vector and the routing ID name VF functions up to 255.
   */
  readonly ari: boolean;
}

export interface MemoryRegionConfig {
  readonly name: string;
  readonly base: number;
  readonly size: number;
}

/**
 * How bus numbers, BARs and windows come about:
 * - `enumerate` (scenarios): firmware-style depth-first enumeration; what is
 *   pinned is honoured and checked, and a topology that could not be built
 *   that way is an error.
 * - `firmware` (an imported real machine): everything is taken as firmware
 *   assigned it. Every function is pinned (`bdf`), bridges carry their bus
 *   ranges and windows; nothing is re-derived or packed, unassigned BARs
 *   do not decode, functions without a parent may sit on any root bus, and
 *   any kind may sit below any bridge. Only what cannot exist at all (two
 *   functions with one requester ID) is still an error.
 */
export type ResourceAssignment = 'enumerate' | 'firmware';

export interface FabricConfig {
  /** PCI segment; printed in BDFs. */
  readonly domain: number;
  /** The root bus (firmware mode: the lowest; functions without a parent may sit on other root buses too). */
  readonly rootBus: number;
  /** Default `enumerate`. */
  readonly assignment?: ResourceAssignment;
  readonly functions: readonly FunctionConfig[];
  /** Default latency of every link and internal bus hop, ns. */
  readonly hopLatency: number;
  /** Pool for non-prefetchable (and 32-bit) BARs: below 4 GiB, clear of the 0xFEE0_0000 MSI window. */
  readonly mmio32: AddressRange;
  /** Pool for 64-bit prefetchable BARs. */
  readonly mmio64: AddressRange;
  /** Host memory regions, decoded by the root complex. */
  readonly memory: readonly MemoryRegionConfig[];
}

export const DEFAULT_FABRIC: Omit<FabricConfig, 'functions' | 'memory'> = {
  domain: 0,
  rootBus: 0,
  hopLatency: 100,
  mmio32: { base: 0xc000_0000, size: 0x3ec0_0000 }, // 0xC000_0000..0xFEBF_FFFF
  mmio64: { base: 0x40_0000_0000, size: 0x40_0000_0000 },
};

/** A topology that cannot exist: names the function and the field at fault. */
export class TopologyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Id of the function (or memory region) at fault. */
    readonly subject: string,
    /** Field of that entry, e.g. "bdf" or "bars.0.at". */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'TopologyError';
  }
}
