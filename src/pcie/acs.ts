/**
 * Access Control Services (PCIe Base 6.0 §7.7.8, semantics §6.12).
 * The capability and control registers share bit positions 0–6.
 */

export const Acs = {
  /** Source Validation: requester bus must lie in the port's secondary..subordinate range. */
  SV: 1 << 0,
  /** Translation Blocking: upstream memory requests with AT ≠ untranslated are blocked. */
  TB: 1 << 1,
  /** P2P Request Redirect: peer-to-peer requests go upstream instead of to the peer. */
  RR: 1 << 2,
  /** P2P Completion Redirect: peer-to-peer read completions go upstream. */
  CR: 1 << 3,
  /** Upstream Forwarding: TLPs redirected from below and aimed back down this port go upstream. */
  UF: 1 << 4,
  /** P2P Egress Control: the egress control vector blocks (or, with RR, redirects) per target. */
  EC: 1 << 5,
  /** Direct Translated P2P: with RR, AT=translated requests still go straight to the peer. */
  DT: 1 << 6,
} as const;

export type AcsFlag = keyof typeof Acs;
export const ACS_FLAGS = Object.keys(Acs) as AcsFlag[];

/** Linux's REQ_ACS_FLAGS (drivers/iommu/iommu.c): what isolation requires on the path up. */
export const REQUIRED_ACS = Acs.SV | Acs.RR | Acs.CR | Acs.UF;

/** An ACS extended capability: what it implements (cap) and what is enabled (ctl). */
export interface AcsCapability {
  readonly cap: number;
  readonly ctl: number;
  /** Egress control vector: bit N set blocks/redirects P2P towards port or function N. */
  readonly egressVector: number;
}

export function acsMask(flags: readonly AcsFlag[]): number {
  let mask = 0;
  for (const flag of flags) mask |= Acs[flag];
  return mask;
}

