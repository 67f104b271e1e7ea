/**
 * The done-when check, on the attack library: for every breached
 * variant, hunt — from the machine alone, without the scenario's own attack
 * steps — finds at least every breach the scenario's expectation states
 * (kind and victim), and every finding's reproducer, written as YAML and
 * loaded as `tlplab run` loads it, replays to the same breach. Random
 * probes are kept few here: the systematic ones must carry it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { huntConfiguration, keyOfFinding } from '../../src/hunt/hunt.ts';
import { scenarioConfigurations } from '../../src/hunt/input.ts';
import { DEFAULT_HUNT } from '../../src/hunt/model.ts';
import { reproFile } from '../../src/hunt/repro.ts';
import { loadScenario, type LoadedScenario } from '../../src/scenario/load.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';
import { describeVariant } from '../../src/report/variant-text.ts';

const files = discoverScenarios([join(import.meta.dirname, '../../scenarios')]);
const breached = (l: LoadedScenario) => l.variants.filter((v) => v.expected === 'breached');

describe.each(files.map((f) => [f.split('/').at(-1)!, f]))('%s', (_name, file) => {
  const text = readFileSync(file, 'utf8');
  const variants = breached(loadScenario(file, text));
  const configurations = scenarioConfigurations(file, text, breached).configurations;
  const cases = variants.map((v, i) => [describeVariant(v.assignment), v.expectation.breaches ?? [], configurations[i]!] as const);
  if (cases.length === 0) return;

  it.each(cases)('%s: hunt finds the stated breaches, and every repro replays', (_variant, stated, config) => {
    const target = huntConfiguration(config, { ...DEFAULT_HUNT, seed: 7, budget: 10, ownSteps: false });
    const found = target.findings.map((f) => ({ kind: f.kind, victim: f.victim }));
    expect(stated.length).toBeGreaterThan(0);
    for (const breach of stated) {
      expect(found, `${breach.kind} of ${breach.victim ?? 'anyone'}`).toContainEqual(breach.victim === null ? expect.objectContaining({ kind: breach.kind }) : { kind: breach.kind, victim: breach.victim });
    }
    for (const f of target.findings) {
      expect(f.repro.checked, `${f.id} ${f.path}`).toBe(true);
      expect(reproFile(f.repro, keyOfFinding(f), 7).replayed, `${f.id} ${f.path}`).toBe(true);
    }
  });
});
