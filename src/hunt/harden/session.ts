/** A whole `harden`: every configuration of the input, its solutions ranked, and the hardened scenario of the best. */
import { HuntLedger } from '../hunt.ts';
import { loadHuntInput, type InputSpec } from '../input.ts';
import type { HuntOptions } from '../model.ts';
import type { CostClass } from './changes.ts';
import { hardenConfiguration, type HardenOptions, type HardenTarget } from './search.ts';
import { hardenedScenario, type Hardened } from './write.ts';

export interface ChangeView {
  readonly id: string;
  readonly label: string;
  readonly cost: string;
  readonly costClass: CostClass;
  readonly path: string;
  readonly value: unknown;
}

export interface HardenReport {
  readonly scenario: string;
  readonly file: string;
  readonly variant: HardenTarget['variant'];
  readonly attacker: string;
  readonly status: HardenTarget['status'];
  readonly findings: readonly { readonly id: string; readonly kind: string; readonly victim: string; readonly path: string }[];
  readonly solutions: readonly { readonly size: number; readonly search: 'exhaustive' | 'greedy'; readonly changes: readonly ChangeView[] }[];
  /** Changes considered, and hunts run. */
  readonly candidates: number;
  readonly hunts: number;
  /** The best solution's scenario, ready to write (null when there is none). */
  readonly hardened: Hardened | null;
  /** Where --write put it. */
  written: string | null;
}

export interface HardenResult {
  readonly schema: 'tlplab/harden-v1';
  readonly seed: number;
  readonly budget: number;
  readonly input: { readonly file: string; readonly kind: 'scenario' | 'lspci'; readonly assumptions: readonly string[] };
  readonly targets: HardenReport[];
  readonly meta: { readonly wallMs: number; readonly runs: number };
}

export function runHarden(spec: InputSpec, hunt: HuntOptions, options: Omit<HardenOptions, 'hunt'>, clock?: () => number): HardenResult {
  const started = clock?.() ?? 0;
  const input = loadHuntInput(spec);
  const ledger = new HuntLedger(clock);
  const several = input.configurations.length > 1;
  const targets = input.configurations.map((config, i): HardenReport => {
    const t = hardenConfiguration(config, { ...options, hunt }, ledger);
    const best = t.solutions[0];
    return {
      scenario: t.scenario,
      file: t.file,
      variant: t.variant,
      attacker: t.attacker,
      status: t.status,
      findings: t.hunt.findings.map((f) => ({ id: f.id, kind: f.kind, victim: f.victim, path: f.path })),
      solutions: t.solutions.map((s) => ({ size: s.changes.length, search: s.search, changes: s.changes.map(({ id, label, cost, costClass, path, value }) => ({ id, label, cost, costClass, path, value })) })),
      candidates: t.candidates.length,
      hunts: t.hunts,
      hardened: best === undefined ? null : hardenedScenario(config, t, best, hunt.seed, `${config.scenario}-hardened${several ? `-${i + 1}` : ''}`),
      written: null,
    };
  });
  return {
    schema: 'tlplab/harden-v1',
    seed: hunt.seed,
    budget: hunt.budget,
    input: { file: input.file, kind: input.kind, assumptions: input.assumptions },
    targets,
    meta: { wallMs: Math.round((clock?.() ?? 0) - started), runs: ledger.runs },
  };
}
