/**
 * Access Control Services: the ACS Extended Capability (PCIe Base 6.3
 * §7.7.11; §7.7.8 in 6.0) and its semantics (§6.12). Bit positions as Linux
 * names them in include/uapi/linux/pci_regs.h (PCI_ACS_SV … PCI_ACS_DT, and
 * the ACS Enhanced bits PCI_ACS_ENHANCED, PCI_ACS_IORB, PCI_ACS_DSP_MT_RB/RR,
 * PCI_ACS_USP_MT_RB/RR, PCI_ACS_UNCLAIMED_RR from Jason Gunthorpe's 2025
 * series "Fix incorrect iommu_groups with PCIe ACS", patch 08/11).
 */

/** Capability and Control share bit positions 0–6. */
export const Acs = {
  /** Source Validation: requester bus must lie in the port's secondary..subordinate range. */
  SV: 1 << 0,
  /** Translation Blocking: upstream memory requests with AT ≠ untranslated are blocked. */
  TB: 1 << 1,
  /** P2P Request Redirect: peer-to-peer requests go upstream instead of to the peer. */
  RR: 1 << 2,
  /** P2P Completion Redirect: peer-to-peer read completions go upstream. */
  CR: 1 << 3,
  /** Upstream Forwarding: TLPs from below aimed back down this port go upstream. */
  UF: 1 << 4,
  /** P2P Egress Control: the egress control vector blocks (or, with RR, redirects) per target. */
  EC: 1 << 5,
  /** Direct Translated P2P: AT=translated requests go straight to the peer whatever RR and EC say. */
  DT: 1 << 6,
} as const;

export type AcsFlag = keyof typeof Acs;
export const ACS_FLAGS = Object.keys(Acs) as AcsFlag[];

/** Linux's REQ_ACS_FLAGS (drivers/iommu/iommu.c): what isolation requires on the path up. */
export const REQUIRED_ACS = Acs.SV | Acs.RR | Acs.CR | Acs.UF;

/** Capability register bit 7: the ACS Enhanced Capability (§6.12.4) is implemented (capability only). */
export const ACS_ENHANCED = 1 << 7;

/**
 * Control register bits of ACS Enhanced (§7.7.11.3): I/O Request Blocking
 * Enable (bit 7), DSP Memory Target Access Control (9:8), USP Memory Target
 * Access Control (11:10), Unclaimed Request Redirect Control (bit 12). The
 * two-bit fields encode 00b direct, 01b block, 10b redirect, 11b reserved
 * (illumos pcieadm decodes them so; Linux names 01b *_MT_RB and 10b *_MT_RR).
 */
export const AcsCtl = {
  IORB: 1 << 7,
  DSP_MT_RB: 1 << 8,
  DSP_MT_RR: 1 << 9,
  USP_MT_RB: 1 << 10,
  USP_MT_RR: 1 << 11,
  UNCLAIMED_RR: 1 << 12,
} as const;

/** Every ACS Enhanced control bit. */
export const ACS_ENHANCED_CONTROLS = AcsCtl.IORB | AcsCtl.DSP_MT_RB | AcsCtl.DSP_MT_RR | AcsCtl.USP_MT_RB | AcsCtl.USP_MT_RR | AcsCtl.UNCLAIMED_RR;

/** What a Memory Target Access Control field says (00b, 01b, 10b; 11b is reserved). */
export type MemoryTargetAccess = 'direct' | 'block' | 'redirect' | 'reserved';
const MEMORY_TARGET: readonly MemoryTargetAccess[] = ['direct', 'block', 'redirect', 'reserved'];

export function memoryTargetField(ctl: number, which: 'dsp' | 'usp'): MemoryTargetAccess {
  return MEMORY_TARGET[(ctl >>> (which === 'dsp' ? 8 : 10)) & 3]!;
}

export function memoryTargetBits(access: Exclude<MemoryTargetAccess, 'reserved'>, which: 'dsp' | 'usp'): number {
  return MEMORY_TARGET.indexOf(access) << (which === 'dsp' ? 8 : 10);
}

/** The most bits an Egress Control Vector has: a Vector Size of 00h encodes 256 (§7.7.11.2). */
export const MAX_EGRESS_VECTOR_BITS = 256;

/** An ACS extended capability: what it implements (cap) and what is enabled (ctl). */
export interface AcsCapability {
  /** Capability register bits 7:0 (the flags and ACS_ENHANCED). */
  readonly cap: number;
  /** Control register bits 12:0. */
  readonly ctl: number;
  /**
   * Egress Control Vector: bit N set blocks or redirects P2P towards the port
   * whose Port Number is N (Root Ports, Switch Downstream Ports), or towards
   * Function (or Function Group) N of a multi-function or SR-IOV device
   * (§7.7.11.4). Absent: all bits clear.
   */
  readonly egressVector?: bigint;
  /** Egress Control Vector Size, 1..256 bits (§7.7.11.2); default 32, one DWORD. */
  readonly egressVectorSize?: number;
}

export function acsMask(flags: readonly AcsFlag[]): number {
  let mask = 0;
  for (const flag of flags) mask |= Acs[flag];
  return mask;
}

/** The Egress Control Vector Size field (cap bits 15:8) for a number of bits: 256 is written 00h. */
export function egressVectorSizeField(bits: number): number {
  return bits === MAX_EGRESS_VECTOR_BITS ? 0 : bits;
}
