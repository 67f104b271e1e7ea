/**
 * ACS decisions as pure functions (PCIe Base 6.0 §6.12), so each rule can be
 * tested row by row and `explain` can cite it. The fabric calls these at the
 * ingress of root ports, switch downstream ports and multifunction devices.
 */
import { Acs, REQUIRED_ACS, type AcsCapability } from '../pcie/acs.ts';
import type { AddressType } from '../pcie/tlp.ts';

/**
 * Controls whose absence from the capability register means "hard-wired
 * on": PCIe 6.0 §6.12.1.1/§6.12.1.2 make SV, RR, CR and UF mandatory
 * wherever the traffic they govern can occur, so a function that has the
 * ACS capability but does not implement one of them cannot do what it
 * would control (Linux pci_acs_flags_enabled: "Features missing from the
 * capability field can therefore be assumed as hard-wired enabled").
 * TB, EC and DT are optional: missing means not enforced.
 */
const HARD_WIRED_WHEN_ABSENT = REQUIRED_ACS;

/** Runtime ACS registers of one function: the host may rewrite `ctl` (config-write). */
export class AcsState implements AcsCapability {
  constructor(
    readonly cap: number,
    public ctl: number,
    public egressVector: number,
  ) {}

  /** Whether the control is in force: enabled, or mandatory-by-absence (see above). */
  on(flag: number): boolean {
    if ((this.cap & flag) === 0) return (HARD_WIRED_WHEN_ABSENT & flag) === flag;
    return (this.ctl & flag) === flag;
  }

  static from(acs: AcsCapability | undefined): AcsState | null {
    return acs === undefined ? null : new AcsState(acs.cap, acs.ctl, acs.egressVector);
  }
}

export interface Ruling<D extends string> {
  readonly decision: D;
  readonly rule: string;
}

export const RULES = {
  sv: 'PCIe 6.0 §6.12.1.1 ACS Source Validation: requester bus outside secondary..subordinate',
  tb: 'PCIe 6.0 §6.12.1.1 ACS Translation Blocking: upstream memory request with AT ≠ untranslated',
  dt: 'PCIe 6.0 §6.12.1.1 ACS Direct Translated P2P: overrides RR and EC for AT=translated requests',
  ecBlock: 'PCIe 6.0 §6.12.3 ACS P2P Egress Control: vector bit set for the target, RR clear → blocked',
  ecRedirect: 'PCIe 6.0 §6.12.3 ACS P2P Egress Control: vector bit set for the target, RR set → redirected upstream',
  rr: 'PCIe 6.0 §6.12.1.1 ACS P2P Request Redirect: peer-to-peer request redirected upstream',
  direct: 'PCIe 6.0 §6.12.3: no ACS control redirects or blocks it → routed directly to the peer',
  noAcs: 'no ACS capability: peer-to-peer routed directly (PCIe 6.0 §6.12)',
  cr: 'PCIe 6.0 §6.12.1.1 ACS P2P Completion Redirect: peer-to-peer completion redirected upstream',
  uf: 'PCIe 6.0 §6.12.1.1 ACS Upstream Forwarding: redirected TLP aimed back down this port forwarded upstream',
  reflect: 'PCIe 6.0 §6.12.1.1: without ACS Upstream Forwarding a TLP whose normal routing targets this port goes back down',
} as const;

export type SourceRuling = Ruling<'block'> & { readonly reason: string };

// Rulings are shared constants: the routing hot path allocates nothing.
const BLOCK_SV: SourceRuling = { decision: 'block', rule: RULES.sv, reason: 'acs.source-validation' };
const BLOCK_TB: SourceRuling = { decision: 'block', rule: RULES.tb, reason: 'acs.translation-blocking' };

/**
 * SV and TB, checked on every upstream request arriving at a downstream
 * port; null when the request may pass. SV compares only the requester's
 * bus with the port's bus range; TB blocks translation requests as well as
 * translated ones ("AT field not set to the default value").
 */
export function checkSource(
  acs: AcsState | null,
  requesterBus: number,
  buses: { readonly secondary: number; readonly subordinate: number },
  at: AddressType,
): SourceRuling | null {
  if (acs === null) return null;
  if (acs.on(Acs.SV) && (requesterBus < buses.secondary || requesterBus > buses.subordinate)) return BLOCK_SV;
  if (acs.on(Acs.TB) && at !== 'untranslated') return BLOCK_TB;
  return null;
}

export type P2pDecision = 'direct' | 'redirect' | 'block';

const P2P = {
  noAcs: { decision: 'direct', rule: RULES.noAcs },
  dt: { decision: 'direct', rule: RULES.dt },
  ecRedirect: { decision: 'redirect', rule: RULES.ecRedirect },
  ecBlock: { decision: 'block', rule: RULES.ecBlock },
  rr: { decision: 'redirect', rule: RULES.rr },
  direct: { decision: 'direct', rule: RULES.direct },
  cr: { decision: 'redirect', rule: RULES.cr },
  uf: { decision: 'upstream', rule: RULES.uf },
  reflect: { decision: 'reflect', rule: RULES.reflect },
} as const;

/**
 * A peer-to-peer request at the ingress port or function (§6.12.3 ACS
 * Peer-to-Peer Control Interactions), in this order: DT lets translated
 * requests through; an egress-vector bit redirects (RR set) or blocks
 * (RR clear); RR redirects; otherwise the request goes to the peer.
 */
export function p2pRequestRuling(acs: AcsState | null, at: AddressType, targetPort: number): Ruling<P2pDecision> {
  if (acs === null) return P2P.noAcs;
  if (at === 'translated' && acs.on(Acs.DT) && !acs.on(Acs.TB)) return P2P.dt;
  if (acs.on(Acs.EC) && targetPort >= 0 && targetPort < 32 && ((acs.egressVector >>> targetPort) & 1) === 1) {
    return acs.on(Acs.RR) ? P2P.ecRedirect : P2P.ecBlock;
  }
  return acs.on(Acs.RR) ? P2P.rr : P2P.direct;
}

/** A peer-to-peer completion: CR sends it upstream, else it goes to the peer. */
export function p2pCompletionRuling(acs: AcsState | null): Ruling<'direct' | 'redirect'> {
  if (acs === null) return P2P.noAcs;
  return acs.on(Acs.CR) ? P2P.cr : P2P.direct;
}

/**
 * A TLP from below whose normal routing leads back down the same port: UF
 * forwards it upstream when an ACS redirect below sent it up; otherwise it
 * is routed normally, i.e. reflected back down.
 */
export function sameLinkRuling(acs: AcsState | null, redirected: boolean): Ruling<'upstream' | 'reflect'> {
  return redirected && acs !== null && acs.on(Acs.UF) ? P2P.uf : P2P.reflect;
}
