/**
 * What a run produces, independent of how it is shown: the report layer
 * turns these into tables, JSON (tlplab/run-v1) and JUnit.
 */
import type { Diagnostic } from './diagnostics.ts';
import type { VariantAssignment } from './model.ts';

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

export function faultCodeText(code: number | null): string | null {
  return code === null ? null : `0x${code.toString(16).padStart(2, '0')}`;
}
