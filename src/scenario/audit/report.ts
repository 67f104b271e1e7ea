/**
 * The audit report as plain data (JSON schema tlplab/audit-v1): what the
 * report layer renders (Markdown now, HTML later) and what `audit --json`
 * prints. Every finding carries its attacker, victim, the path hop by hop
 * with the rule that decided each hop, and what would stop it.
 */
import type { PathEntry } from '../story.ts';

export type AuditAttack = 'p2p-bar-write' | 'forged-requester-id' | 'msi-injection';

/**
 * - succeeds: the verdict engine found a breach (an effect outside the attacker's grants);
 * - stopped: the fabric, IOMMU or interrupt remapping ended it (blocked, faulted, unsupported);
 * - contained: it landed, but only in what the attacker is granted;
 * - unknown: the answer depends on facts the input does not show.
 */
export type FindingResult = 'succeeds' | 'stopped' | 'contained' | 'unknown';

/** One way to stop a successful attack. */
export interface Stopper {
  readonly kind: 'acs' | 'iommu' | 'interrupt-remapping' | 'kernel-option' | 'topology' | 'none';
  /** The port or function where it applies, if any. */
  readonly at: string | null;
  /** ACS control bits, for kind 'acs'. */
  readonly bits: readonly string[];
  readonly text: string;
}

export interface AuditFinding {
  readonly id: string;
  readonly attacker: string;
  readonly attack: AuditAttack;
  readonly victim: string | null;
  readonly result: FindingResult;
  readonly detail: string;
  /** The breach kind (succeeds) or the refusal reason (stopped), with where it was decided. */
  readonly reason: { readonly code: string; readonly decidedAt: string | null; readonly faultCode: string | null } | null;
  readonly path: readonly PathEntry[];
  readonly stoppers: readonly Stopper[];
  /** Trace record ids. */
  readonly evidence: readonly number[];
}

export interface AuditDevice {
  readonly id: string;
  readonly label: string;
  readonly segment: number;
  readonly kind: string;
  /** Facts the input does not show. */
  readonly unknown: readonly string[];
  /** Set when the routing kind was inferred. */
  readonly assumed: string | null;
}

export interface GroupExplanationData {
  readonly id: number;
  readonly devices: readonly string[];
  readonly why: readonly string[];
}

export interface AuditGroups {
  readonly algorithm: 'classic' | 'per-bus';
  readonly kernel: string;
  readonly groups: readonly GroupExplanationData[];
  readonly unknown: readonly { readonly device: string; readonly reason: string }[];
  /** Functions whose ACS a quirk decided, with the quirk and the releases it exists in. */
  readonly quirks: readonly string[];
}

/** pcie_acs_override what-if: groups it splits and the P2P paths it leaves open between the new groups. */
export interface AcsOverrideWhatIf {
  readonly option: string;
  readonly splits: readonly { readonly before: readonly string[]; readonly after: readonly (readonly string[])[] }[];
  /** Finding ids of routed P2P writes between devices the override puts in different groups. */
  readonly open: readonly string[];
  readonly closed: readonly string[];
  readonly unknown: readonly string[];
}

export interface AuditReport {
  readonly schema: 'tlplab/audit-v1';
  readonly input: { readonly kind: 'lspci' | 'sysfs'; readonly path: string };
  readonly options: {
    readonly iommu: 'vtd' | 'amd-vi' | 'none';
    readonly interruptRemapping: boolean;
    readonly sourceIdValidation: boolean;
    readonly kernel: string | null;
    readonly acsOverride: string | null;
  };
  readonly assumptions: readonly string[];
  readonly devices: readonly AuditDevice[];
  readonly findings: readonly AuditFinding[];
  readonly summary: Readonly<Record<FindingResult, number>>;
  readonly groups: AuditGroups;
  readonly whatIf: AcsOverrideWhatIf | null;
  readonly skipped: readonly { readonly device: string; readonly reason: string }[];
  /** Overlapping decode firmware left in place (the first claimant keeps the range). */
  readonly decodeConflicts: readonly string[];
}
