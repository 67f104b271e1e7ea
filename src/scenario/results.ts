/**
 * What a run produces, independent of how it is shown: the report layer
 * turns these into tables, JSON (tlplab/run-v1) and JUnit.
 */
import type { Diagnostic } from './diagnostics.ts';
import type { ExpectRuleSpec, VariantAssignment } from './model.ts';
import type { RunStory } from './run-story.ts';

export interface BreachResult {
  readonly kind: string;
  readonly attacker: string;
  readonly victim: string;
  readonly evidence: readonly number[];
  readonly detail: string;
}

/** A Linux policy check on the attacker's assignment (VFIO viability, isolated MSI). */
export interface GateResult {
  readonly gate: 'vfio-viability' | 'isolated-msi';
  readonly passed: boolean;
  /** Whether the scenario's attacker comes through VFIO, so a failed gate stops the attack. */
  readonly enforced: boolean;
  readonly detail: string;
}

export interface RunResult {
  readonly scenario: string;
  readonly file: string;
  readonly title: string;
  readonly variant: VariantAssignment;
  readonly verdict: 'breached' | 'isolated';
  readonly expected: 'breached' | 'isolated';
  readonly pass: boolean;
  readonly breaches: readonly BreachResult[];
  /** Attempts stopped by the fabric, IOMMU or interrupt remapping. */
  readonly stopped: readonly { readonly tlp: number; readonly outcome: string; readonly reason: string; readonly faultCode: string | null; readonly at: string }[];
  readonly gates: readonly GateResult[];
  /** Simulated time at which the run went quiet, ns. */
  readonly endTime: number;
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
  /** The scenario files that loaded, in order (for reports). */
  readonly scenarios?: readonly ScenarioInfo[];
  /** Wall-clock figures, kept apart so the rest stays byte-identical run to run. */
  readonly meta: { readonly wallMs: number; readonly jobs: number };
}

export function faultCodeText(code: number | null): string | null {
  return code === null ? null : `0x${code.toString(16).padStart(2, '0')}`;
}
