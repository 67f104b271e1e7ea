/**
 * `tlplab hunt`: what it explores and what it reports. A probe is a small
 * attack (one or two device steps, as YAML step entries) built from the
 * machine; a finding is a distinct breach — by kind, victim and path — with
 * the minimal scenario that reproduces it.
 */
import type { BreachKind } from '../policy/verdict.ts';
import type { GateName, VariantAssignment } from '../scenario/model.ts';

/** How a probe was built (DESIGN.md threat model: any address, any requester ID, any AT, any time). */
export const TECHNIQUES = [
  'scenario',
  'foreign-bar',
  'bar-region',
  'foreign-memory',
  'domain-iova',
  'page-edge',
  'forged-rid',
  'forged-bus',
  'translated',
  'msi-replay',
  'msi-compat',
  'irte-own',
  'irte-foreign',
  'irte-not-present',
  'irte-beyond',
  'irte-subhandle',
  'race-unmap',
  'race-ownership',
  'race-irte',
  'random',
] as const;
export type Technique = (typeof TECHNIQUES)[number];

/** A YAML step entry as the scenario format writes it (without `at:` / `after:`, which the run adds). */
export type StepEntry = Record<string, unknown>;

/** Where a probe step waits: a step of the host's timeline, or an earlier step of the probe. */
export type StepRef = { readonly timeline: number } | { readonly own: number };

export interface ProbeStep {
  readonly entry: StepEntry;
  /** ns after the probe's time; ignored with `after`. */
  readonly offset?: number;
  readonly after?: { readonly ref: StepRef; readonly event?: string; readonly delay: number };
}

export interface Probe {
  readonly technique: Technique;
  /** The attacker's function that issues it. */
  readonly from: string;
  readonly label: string;
  readonly steps: readonly ProbeStep[];
  /** Time of its first step (absolute ns), unless every step waits on an event. */
  readonly at: number;
  /** Needs a run of its own: it sets up state another probe would see (an IOTLB entry warmed before an unmap). */
  readonly alone: boolean;
}

export interface Repro {
  /** Scenario name, and the file name it is written under (`<name>.yaml`). */
  readonly name: string;
  /** The scenario document: the configuration as hunted, the minimal steps, the breach (and the run's stops) as its expectation. */
  readonly document: Record<string, unknown>;
  /** Comment lines written above it. */
  readonly header: string;
  /** Steps kept, as written in `document`. */
  readonly steps: readonly StepEntry[];
  /** Its steps, checked as a file's steps are, ran on the configuration and showed the same breach (kind, victim, path): minimize's last run. */
  readonly checked: boolean;
  /** Its YAML, loaded and run as `tlplab run` does, showed the same breach; null until it is written. */
  replayed: boolean | null;
  /** Where --write-repro put it; null when not written. */
  file: string | null;
}

export interface Finding {
  /** "F1", "F2"… in the order found. */
  readonly id: string;
  readonly kind: BreachKind;
  readonly attacker: string;
  readonly victim: string;
  /** The route and the mechanisms met on it; with kind and victim, what makes a finding distinct. */
  readonly path: string;
  readonly route: readonly string[];
  readonly mechanism: readonly string[];
  /** Where it landed: regions (with sub-regions), or the interrupt entry / CPUs. */
  readonly landing: string;
  readonly from: string;
  /** The first probe that found it, and every technique that did. */
  readonly technique: Technique;
  readonly label: string;
  readonly techniques: readonly Technique[];
  /** Probes that produced it. */
  readonly hits: number;
  readonly bytes: number;
  readonly cpus: readonly number[];
  readonly detail: string;
  /** What the verdict rests on that the model cannot settle (an integrated device's forged ID, ACS a dump hides). */
  readonly caveats: readonly string[];
  readonly repro: Repro;
}

export interface HuntTarget {
  readonly scenario: string;
  readonly file: string;
  readonly variant: VariantAssignment;
  readonly attacker: string;
  /** The attacker's functions (the devices it controls). */
  readonly devices: readonly string[];
  /** A Linux gate refused the attacker's devices (attack.via: vfio): nothing can run. */
  readonly refusedBy: GateName | null;
  /** Why nothing was explored, when nothing was. */
  readonly skipped: string | null;
  readonly probes: { readonly systematic: number; readonly random: number; readonly byTechnique: Readonly<Record<string, number>> };
  /** Exploring runs: the batches of probes (one machine each) and the scenario's own steps. */
  readonly runs: number;
  readonly findings: readonly Finding[];
}

export interface HuntOptions {
  readonly seed: number;
  /** Random probes beyond the systematic ones. */
  readonly budget: number;
  /** Run the scenario's own attack steps as one more probe. */
  readonly ownSteps: boolean;
  /** Probes per exploring run (one machine, many independent probes). */
  readonly batch: number;
}

export const DEFAULT_HUNT: HuntOptions = { seed: 1, budget: 200, ownSteps: true, batch: 256 };

export interface HuntResult {
  readonly schema: 'tlplab/hunt-v1';
  readonly seed: number;
  readonly budget: number;
  readonly input: { readonly file: string; readonly kind: 'scenario' | 'lspci'; readonly assumptions: readonly string[] };
  readonly targets: readonly HuntTarget[];
  /** Wall-clock figures (never part of the deterministic output). */
  readonly meta: { readonly wallMs: number; readonly runs: number; readonly runsPerSecond: number; readonly firstFindingMs: number | null; readonly jobs: number };
}
