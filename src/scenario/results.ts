/**
 * What a run produces, independent of how it is shown: the report layer
 * turns these into tables, JSON (tlplab/run-v1) and JUnit.
 */
import type { Diagnostic } from './diagnostics.ts';
import type { ByteSpan, Ending } from '../fabric/ending.ts';
import type { Race } from './races.ts';
import type { BreachExpectation, ExpectRuleSpec, GateName, StopExpectation, VariantAssignment } from './model.ts';
import type { RunStory } from './run-story.ts';
import { formatFaultCode } from '../interrupts/vtd-faults.ts';

export interface BreachResult {
  readonly kind: string;
  readonly attacker: string;
  readonly victim: string;
  /** The TLP that did it. */
  readonly tlp: number;
  /** Foreign bytes touched (0 for interrupts), and the foreign pieces with their region and owner. */
  readonly bytes: number;
  readonly spans: readonly ByteSpan[];
  /** CPUs that took a foreign interrupt. */
  readonly cpus: readonly number[];
  readonly evidence: readonly number[];
  readonly detail: string;
}

/** An attempt the fabric, IOMMU, interrupt remapping or host stopped. */
export interface StopResult {
  /** Null for a host-side refusal (no TLP was issued). */
  readonly tlp: number | null;
  readonly origin: string;
  readonly outcome: string;
  /** Code in the reason registry. */
  readonly reason: string;
  readonly faultCode: string | null;
  /** Where it was decided. */
  readonly at: string;
  readonly evidence: readonly number[];
}

/** A Linux policy check on the attacker's assignment (VFIO viability, isolated MSI). */
export interface GateResult {
  readonly gate: GateName;
  readonly passed: boolean;
  /** Whether the scenario's attacker comes through VFIO, so a failed gate stops the attack. */
  readonly enforced: boolean;
  readonly detail: string;
}

/** What a run was expected to show: the first matching `expect` rule, as data. */
export interface ExpectationResult {
  readonly verdict: 'breached' | 'isolated';
  readonly breaches: readonly BreachExpectation[] | null;
  readonly stopped: readonly StopExpectation[] | null;
  readonly refusedBy: GateName | 'none' | null;
  readonly because: string | null;
}

export interface RunResult {
  readonly scenario: string;
  readonly file: string;
  readonly title: string;
  readonly variant: VariantAssignment;
  readonly verdict: 'breached' | 'isolated';
  /** The expected verdict (DESIGN.md §4); the whole expectation beside it. */
  readonly expected: 'breached' | 'isolated';
  readonly expectation: ExpectationResult;
  readonly pass: boolean;
  /** How the run differs from its expectation; empty when it passes. */
  readonly differences: readonly string[];
  readonly breaches: readonly BreachResult[];
  readonly stopped: readonly StopResult[];
  /** The gate that refused the attacker's assignment, or null when the attack ran. */
  readonly refusedBy: GateName | null;
  readonly gates: readonly GateResult[];
  /** Every TLP's ending record (and every host refusal), in the order they ended. */
  readonly tlps: readonly Ending[];
  /** Simulated time at which the run went quiet, ns. */
  readonly endTime: number;
  /** Steps that waited (`after:`) on an event that never came, so never ran; absent when none. */
  readonly notRun?: readonly { readonly step: number; readonly waitingFor: string }[];
  /** The run told TLP by TLP, when the caller asked for it (reports, `explain`). */
  readonly story?: RunStory;
}

/** What a report says about a scenario file beside its runs. */
export interface ScenarioInfo {
  readonly file: string;
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly sources: readonly string[];
  readonly axes: readonly string[];
  readonly rules: readonly ExpectRuleSpec[];
}

/** A scenario that could not run: invalid file, or an internal error while simulating. */
export interface ScenarioFailure {
  readonly file: string;
  readonly scenario: string | null;
  readonly kind: 'invalid' | 'crashed';
  readonly message: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly variant: VariantAssignment | null;
}

export interface SuiteResult {
  readonly seed: number;
  readonly runs: readonly RunResult[];
  readonly failures: readonly ScenarioFailure[];
  /** With `--seeds A..B`: every seed run, and the runs whose outcome depended on the seed. */
  readonly seeds?: { readonly from: number; readonly to: number; readonly races: readonly Race[]; readonly failedSeeds: readonly number[] };
  /** The scenario files that loaded, in order (for reports). */
  readonly scenarios?: readonly ScenarioInfo[];
  /** Wall-clock figures, kept apart so the rest stays byte-identical run to run. */
  readonly meta: {
    readonly wallMs: number;
    readonly jobs: number;
    /** `--shard i/n`: this output's slice, and how many runs all n slices hold. */
    readonly shard?: { readonly index: number; readonly count: number; readonly of: number };
    /** `tlplab merge`: how many outputs were merged. */
    readonly merged?: number;
  };
}

/** "0x26": the same spelling the interrupt layer prints its fault codes in. */
export function faultCodeText(code: number | null): string | null {
  return code === null ? null : formatFaultCode(code);
}
