/**
 * ACS decisions as pure functions (PCIe Base 6.3 §6.12), so each rule can be
 * tested row by row and `explain` can cite it. The fabric calls these at the
 * ingress of root ports, switch downstream ports and multifunction (and
 * SR-IOV) devices. Sections are those of PCIe 6.3; 6.0 numbers §6.12 the same.
 */
import {
  ACS_ENHANCED,
  Acs,
  AcsCtl,
  MAX_EGRESS_VECTOR_BITS,
  REQUIRED_ACS,
  egressVectorSizeField,
  memoryTargetField,
  type AcsCapability,
} from '../pcie/acs.ts';
import type { AddressType } from '../pcie/tlp.ts';
import type { SiliconFact } from './silicon.ts';

/**
 * Controls whose absence from the capability register means "hard-wired
 * on": §6.12.1.1/§6.12.1.2 make SV, RR, CR and UF mandatory wherever the
 * traffic they govern can occur, so a function that has the ACS capability
 * but does not implement one of them cannot do what it would control
 * (Linux pci_acs_flags_enabled: "Features missing from the capability field
 * can therefore be assumed as hard-wired enabled"). TB, EC and DT are
 * optional: missing means not enforced.
 */
const HARD_WIRED_WHEN_ABSENT = REQUIRED_ACS;

/** Runtime ACS registers of one function: the host may rewrite `ctl` and the vector (config-write). */
export class AcsState {
  /** Egress Control Vector as 32-bit words (§7.7.11.4), MAX_EGRESS_VECTOR_BITS wide. */
  readonly egress = new Uint32Array(MAX_EGRESS_VECTOR_BITS / 32);

  constructor(
    /** Whether the function has an ACS Extended Capability; false when only its silicon isolates. */
    readonly present: boolean,
    /** Capability register bits 7:0. */
    readonly cap: number,
    public ctl: number,
    egressVector: bigint,
    /** Egress Control Vector Size in bits (1..256). */
    readonly vectorSize: number,
    /**
     * What the silicon does without (or instead of) the capability, from the
     * device's identity (silicon.ts): those controls are in force whatever
     * the registers say. Null: the registers alone decide.
     */
    readonly silicon: SiliconFact | null = null,
    /** Controls the silicon puts in force (the fact's mask, resolved for this machine). */
    readonly forced = 0,
  ) {
    for (let i = 0; i < this.egress.length; i++) this.egress[i] = Number((egressVector >> BigInt(32 * i)) & 0xffff_ffffn);
  }

  /** Whether the control is in force: forced by the silicon, enabled, or mandatory-by-absence (see above). */
  on(flag: number): boolean {
    if ((this.forced & flag) === flag) return true;
    if (!this.present) return false;
    if ((this.cap & flag) === 0) return (HARD_WIRED_WHEN_ABSENT & flag) === flag;
    return (this.ctl & flag) === flag;
  }

  get enhanced(): boolean {
    return this.present && (this.cap & ACS_ENHANCED) !== 0;
  }

  /** The Egress Control Vector bit for Port (or Function) Number `port`; false when the vector has no such bit. */
  egressBit(port: number): boolean {
    if (port < 0 || port >= this.vectorSize) return false;
    return ((this.egress[port >>> 5]! >>> (port & 31)) & 1) === 1;
  }

  /** The capability register's low word as read through config space: flags and the Vector Size field. */
  get capabilityRegister(): number {
    return this.cap | (egressVectorSizeField(this.vectorSize) << 8);
  }

  static from(acs: AcsCapability | undefined, silicon: SiliconFact | null = null, forced = 0): AcsState | null {
    if (acs === undefined) return silicon === null ? null : new AcsState(false, 0, 0, 0n, 32, silicon, forced);
    return new AcsState(true, acs.cap, acs.ctl, acs.egressVector ?? 0n, acs.egressVectorSize ?? 32, silicon, forced);
  }
}

export interface Ruling<D extends string> {
  readonly decision: D;
  readonly rule: string;
}

const S = 'PCIe 6.3';
export const RULES = {
  sv: `${S} §6.12.1.1 ACS Source Validation: requester bus outside secondary..subordinate`,
  tb: `${S} §6.12.1.1 ACS Translation Blocking: upstream memory request with AT ≠ untranslated (takes precedence over UF and every P2P control)`,
  iorb: `${S} §6.12.1.1 ACS I/O Request Blocking (ACS Enhanced): an upstream I/O request is an ACS Violation`,
  dt: `${S} §6.12.3: ACS Direct Translated P2P routes AT=translated requests directly, regardless of RR and EC`,
  ecViolation: `${S} §6.12.3 Table 6-11 (E=1, R=0, vector bit 1): handled as an ACS Violation`,
  ecRedirect: `${S} §6.12.3 Table 6-11 (E=1, R=1, vector bit 1): redirected upstream`,
  ecClear: `${S} §6.12.3 Table 6-11 (E=1, vector bit 0): routed directly to the peer, whatever R says`,
  rr: `${S} §6.12.3 Table 6-11 (E=0, R=1): redirected upstream`,
  direct: `${S} §6.12.3 Table 6-11 (E=0, R=0): routed directly to the peer`,
  noAcs: `no ACS capability: peer-to-peer routed directly (${S} §6.12)`,
  cr: `${S} §6.12.1.1/§6.12.1.2 ACS P2P Completion Redirect: peer-to-peer completion redirected upstream`,
  uf: `${S} §6.12.1.1 ACS Upstream Forwarding: a TLP from below targeting this port's own egress is forwarded upstream`,
  reflect: `${S} §6.12.1.1: without ACS Upstream Forwarding the handling of a TLP targeting the port's own egress is undefined; tlplab takes the worst case, routing it back down`,
  mtDirect: `${S} §6.12.1.1 ACS Memory Target Access Control 00b: the request proceeds directly to the port's BAR`,
  mtBlock: `${S} §6.12.1.1 ACS Memory Target Access Control 01b: a request to the port's BAR is an ACS Violation`,
  mtRedirect: `${S} §6.12.1.1 ACS Memory Target Access Control 10b: a request to the port's BAR is redirected upstream`,
  mtReserved: `${S} §7.7.11.3: Memory Target Access Control 11b is reserved; tlplab takes the worst case, direct`,
  mtNoEnhanced: `${S} §6.12.4: without ACS Enhanced, requests to port BARs are implementation specific; tlplab follows Linux's long-held assumption that P2P Request Redirect covers them (pci_acs_ctrl_mask, 2025 series patch 10/11)`,
  unclaimedRedirect: `${S} §6.12.1.1 ACS Unclaimed Request Redirect: a request in the upstream port's window that no downstream port claims is redirected upstream`,
  unclaimedUr: `${S} §6.12.1.1: without ACS Unclaimed Request Redirect, a request in the upstream port's window that no downstream port claims is an Unsupported Request`,
} as const;

export type SourceRuling = Ruling<'block'> & { readonly reason: string };

// Rulings are shared constants: the routing hot path allocates nothing.
const BLOCK_SV: SourceRuling = { decision: 'block', rule: RULES.sv, reason: 'acs.source-validation' };
const BLOCK_TB: SourceRuling = { decision: 'block', rule: RULES.tb, reason: 'acs.translation-blocking' };
const BLOCK_IORB: SourceRuling = { decision: 'block', rule: RULES.iorb, reason: 'acs.io-request-blocking' };

/**
 * SV, TB and IORB, checked on every upstream request arriving at a
 * downstream port; null when the request may pass. SV compares only the
 * requester's bus with the port's bus range; TB blocks translation requests
 * as well as translated ones ("AT field not set to the default value").
 */
export function checkSource(
  acs: AcsState | null,
  requesterBus: number,
  buses: { readonly secondary: number; readonly subordinate: number },
  at: AddressType,
  io = false,
): SourceRuling | null {
  if (acs === null) return null;
  if (acs.on(Acs.SV) && (requesterBus < buses.secondary || requesterBus > buses.subordinate)) return siliconRuling(acs, Acs.SV, BLOCK_SV);
  if (io) return acs.enhanced && (acs.ctl & AcsCtl.IORB) !== 0 ? BLOCK_IORB : null;
  if (acs.on(Acs.TB) && at !== 'untranslated') return BLOCK_TB;
  return null;
}

export type P2pDecision = 'direct' | 'redirect' | 'block';

const P2P = {
  noAcs: { decision: 'direct', rule: RULES.noAcs },
  dt: { decision: 'direct', rule: RULES.dt },
  ecRedirect: { decision: 'redirect', rule: RULES.ecRedirect },
  ecBlock: { decision: 'block', rule: RULES.ecViolation },
  ecClear: { decision: 'direct', rule: RULES.ecClear },
  rr: { decision: 'redirect', rule: RULES.rr },
  direct: { decision: 'direct', rule: RULES.direct },
  cr: { decision: 'redirect', rule: RULES.cr },
  uf: { decision: 'upstream', rule: RULES.uf },
  reflect: { decision: 'reflect', rule: RULES.reflect },
  mtDirect: { decision: 'direct', rule: RULES.mtDirect },
  mtBlock: { decision: 'block', rule: RULES.mtBlock },
  mtRedirect: { decision: 'redirect', rule: RULES.mtRedirect },
  mtReserved: { decision: 'direct', rule: RULES.mtReserved },
  mtRr: { decision: 'redirect', rule: RULES.mtNoEnhanced },
  mtNoRr: { decision: 'direct', rule: RULES.mtNoEnhanced },
  unclaimedRedirect: { decision: 'redirect', rule: RULES.unclaimedRedirect },
  unclaimedUr: { decision: 'block', rule: RULES.unclaimedUr },
} as const;

/**
 * A function with neither an ACS capability nor silicon in force: no ACS.
 * When a silicon fact was claimed but not honoured, the rule says so.
 */
function noAcs<R extends Ruling<string>>(acs: AcsState | null, ruling: R): R | null {
  if (acs === null) return ruling;
  if (acs.present || acs.forced !== 0) return null;
  return acs.silicon === null ? ruling : acs.silicon.denied(ruling);
}

/** A ruling decided by a silicon fact rather than the registers names the fact (precomputed per function). */
function siliconRuling<R extends Ruling<string>>(acs: AcsState, flag: number, ruling: R): R {
  if (acs.silicon === null || (acs.forced & flag) !== flag || (acs.present && (acs.cap & flag) !== 0 && (acs.ctl & flag) === flag)) return ruling;
  return acs.silicon.ruled(ruling);
}

/**
 * A peer-to-peer request at the ingress port or function: §6.12.3 — DT
 * first (translated requests go directly), then Table 6-11 on the P2P
 * Egress Control Enable (E), P2P Request Redirect Enable (R) and the vector
 * bit of the target's Port or Function Number.
 */
export function p2pRequestRuling(acs: AcsState | null, at: AddressType, targetPort: number): Ruling<P2pDecision> {
  const none = noAcs(acs, P2P.noAcs);
  if (none !== null || acs === null) return none ?? P2P.noAcs;
  if (at === 'translated' && acs.on(Acs.DT)) return P2P.dt;
  const redirect = acs.on(Acs.RR);
  if (!acs.on(Acs.EC)) return redirect ? siliconRuling(acs, Acs.RR, P2P.rr) : P2P.direct;
  if (!acs.egressBit(targetPort)) return P2P.ecClear;
  return redirect ? P2P.ecRedirect : P2P.ecBlock;
}

/** A peer-to-peer completion: CR sends it upstream, else it goes to the peer (§6.12.3: CR alone decides). */
export function p2pCompletionRuling(acs: AcsState | null): Ruling<'direct' | 'redirect'> {
  const none = noAcs(acs, P2P.noAcs);
  if (none !== null || acs === null) return none ?? P2P.noAcs;
  return acs.on(Acs.CR) ? siliconRuling(acs, Acs.CR, P2P.cr) : P2P.direct;
}

/**
 * A TLP from below whose normal routing leads back down the same port
 * (§6.12.1.1 ACS Upstream Forwarding): with UF it is forwarded upstream (a
 * root port hands it to Redirected Request Validation as if RR had
 * redirected it); without, the spec leaves it undefined.
 */
export function sameLinkRuling(acs: AcsState | null): Ruling<'upstream' | 'reflect'> {
  if (acs !== null && acs.on(Acs.UF)) return siliconRuling(acs, Acs.UF, P2P.uf);
  return noAcs(acs, P2P.reflect) ?? P2P.reflect;
}

/**
 * An upstream request targeting the Memory BAR space of a downstream port
 * ('dsp': any root or switch downstream port, the ingress port included) or
 * of the switch's upstream port ('usp'), decided at the ingress port
 * (§6.12.1.1 ACS DSP/USP Memory Target Access).
 */
export function memoryTargetRuling(acs: AcsState | null, which: 'dsp' | 'usp'): Ruling<P2pDecision> {
  const none = noAcs(acs, P2P.noAcs);
  if (none !== null || acs === null) return none ?? P2P.noAcs;
  if (!acs.enhanced) return acs.on(Acs.RR) ? siliconRuling(acs, Acs.RR, P2P.mtRr) : P2P.mtNoRr;
  switch (memoryTargetField(acs.ctl, which)) {
    case 'direct':
      return P2P.mtDirect;
    case 'block':
      return P2P.mtBlock;
    case 'redirect':
      return P2P.mtRedirect;
    case 'reserved':
      return P2P.mtReserved;
  }
}

/** A request in the switch's upstream-port window that no downstream port claims (§6.12.1.1). */
export function unclaimedRuling(acs: AcsState | null): Ruling<'redirect' | 'block'> {
  return acs !== null && acs.enhanced && (acs.ctl & AcsCtl.UNCLAIMED_RR) !== 0 ? P2P.unclaimedRedirect : P2P.unclaimedUr;
}
