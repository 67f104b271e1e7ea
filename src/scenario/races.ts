/**
 * `run --seeds A..B`: the same matrix under several seeds. Where the seed
 * decides something the hardware leaves open (seeded arbitration, link
 * jitter, random IOTLB replacement), a run whose outcome changes with it is
 * a race: the attack wins under some orderings and not others. A race is
 * reported by what changed — verdict, breaches or stops — per seed.
 */
import type { RunResult } from './results.ts';

export interface RaceOutcome {
  readonly seed: number;
  readonly verdict: 'breached' | 'isolated';
  readonly pass: boolean;
  /** Distinct breaches and stops, as "kind of victim" and "reason at place". */
  readonly breaches: readonly string[];
  readonly stopped: readonly string[];
}

export interface Race {
  readonly scenario: string;
  readonly file: string;
  readonly variant: RunResult['variant'];
  readonly outcomes: readonly RaceOutcome[];
}

/** Parses "A..B" (inclusive) or a single seed; null when the text is neither. */
export function parseSeedRange(text: string): { from: number; to: number } | null {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (match === null) return null;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  return Number.isSafeInteger(from) && Number.isSafeInteger(to) && from <= to ? { from, to } : null;
}

function outcomeOf(seed: number, run: RunResult): RaceOutcome {
  return {
    seed,
    verdict: run.verdict,
    pass: run.pass,
    breaches: [...new Set(run.breaches.map((b) => `${b.kind} of ${b.victim}`))].sort(),
    stopped: [...new Set(run.stopped.map((s) => `${s.reason} at ${s.at}`))].sort(),
  };
}

const signature = (o: RaceOutcome) => JSON.stringify([o.verdict, o.breaches, o.stopped]);

/** Runs (same scenario file and variant) whose outcome differs between seeds. */
export function findRaces(bySeed: ReadonlyMap<number, readonly RunResult[]>): Race[] {
  const groups = new Map<string, { run: RunResult; outcomes: RaceOutcome[] }>();
  for (const [seed, runs] of bySeed) {
    for (const run of runs) {
      const key = `${run.file}\u0000${JSON.stringify(run.variant)}`;
      const group = groups.get(key) ?? { run, outcomes: [] };
      group.outcomes.push(outcomeOf(seed, run));
      groups.set(key, group);
    }
  }
  return [...groups.values()]
    .filter((g) => new Set(g.outcomes.map(signature)).size > 1)
    .map((g) => ({ scenario: g.run.scenario, file: g.run.file, variant: g.run.variant, outcomes: g.outcomes }));
}
