/**
 * The hardened scenario `harden --write` produces: the configuration with
 * the best solution's changes made (variants resolved, none left), its own
 * attack steps plus every finding's reproducer steps — so each breach hunt
 * found is replayed against the hardened machine — and, as its one
 * expectation, `isolated` with the stops that run shows. It is checked by
 * loading the YAML and running it before it is written; the input file is
 * never touched.
 */
import { ScenarioError } from '../../scenario/diagnostics.ts';
import { loadScenario, loadScenarioDocument } from '../../scenario/load.ts';
import { runVariant } from '../../scenario/runner.ts';
import type { Configuration } from '../hunt.ts';
import type { StepEntry } from '../model.ts';
import { scenarioYaml } from '../repro.ts';
import { inTimeOrder } from '../order.ts';
import type { HardenTarget, Solution } from './search.ts';
import { configurationWith } from './search.ts';

export interface Hardened {
  readonly name: string;
  readonly yaml: string;
  /** Loading the YAML and running it: isolated, as its expectation states. */
  readonly replayed: boolean;
}

export function hardenedScenario(config: Configuration, target: HardenTarget, solution: Solution, seed: number, name = `${config.scenario}-hardened`): Hardened | null {
  const changed = configurationWith(config, solution.changes);
  if (changed === null) return null;
  const own = ((changed.document.attack as { steps?: StepEntry[] }).steps ?? []) as StepEntry[];
  const merged = mergeSteps(own, target.hunt.findings.map((f) => f.repro.steps));
  const list = solution.changes.map((c) => `${c.label} (${c.costClass}: ${c.cost})`).join('; ');
  const base = {
    ...changed.document,
    name,
    title: `${String(config.document.title ?? config.scenario)} — hardened`,
    summary: `${String(config.document.summary ?? '').trim()} Hardened by tlplab harden (seed ${seed}) with ${solution.changes.length} change(s): ${list}. The attack replays the scenario's own steps and the reproducer of each of the ${target.hunt.findings.length} breach(es) hunt found before; under these changes hunt finds none.`.trim(),
    sources: [...((config.document.sources as string[] | undefined) ?? []), `tlplab harden --seed ${seed} ${config.file}`],
  };
  for (const steps of [merged, own]) {
    const document = { ...base, attack: { ...(changed.document.attack as object), steps } };
    const expectation = expectationOf(document, config.file, seed);
    if (expectation === null) continue;
    const full = { ...document, expect: [expectation] };
    const yaml = scenarioYaml(full, `Hardened by tlplab harden: ${solution.changes.map((c) => c.label).join(' + ')}\nInput: ${config.file}`);
    return { name, yaml, replayed: replaysIsolated(yaml, `${name}.yaml`, seed) };
  }
  return null;
}

/** `isolated` with the run's stops; null when the run is not isolated (the merged steps interfered). */
function expectationOf(document: Record<string, unknown>, file: string, seed: number): Record<string, unknown> | null {
  try {
    const loaded = loadScenarioDocument(file, { ...document, expect: [{ verdict: 'isolated' }] });
    const run = runVariant(loaded, loaded.variants[0]!, seed).result;
    if (run.verdict !== 'isolated') return null;
    const stopped = unique(run.stopped.map((s) => ({ reason: s.reason, ...(s.faultCode === null ? {} : { fault: s.faultCode }) })));
    return { verdict: 'isolated', ...(run.refusedBy === null ? {} : { 'refused-by': run.refusedBy }), stopped, because: 'hardened: every breach tlplab hunt found is stopped' };
  } catch (error) {
    if (error instanceof ScenarioError) return null;
    throw error;
  }
}

function replaysIsolated(yaml: string, file: string, seed: number): boolean {
  try {
    const loaded = loadScenario(file, yaml);
    const run = runVariant(loaded, loaded.variants[0]!, seed).result;
    return run.pass && run.verdict === 'isolated';
  } catch (error) {
    if (error instanceof ScenarioError) return false;
    throw error;
  }
}

/**
 * The scenario's steps, then each reproducer's device steps (its host
 * steps are the scenario's own, matched by content), `after.step`
 * renumbered into the merged list; repeats dropped.
 */
export function mergeSteps(own: readonly StepEntry[], repros: readonly (readonly StepEntry[])[]): StepEntry[] {
  const merged: StepEntry[] = [...own];
  const text = (e: StepEntry) => {
    const { after: _after, ...rest } = e;
    return JSON.stringify(rest);
  };
  const ownIndex = new Map(own.map((e, i) => [text(e), i]));
  const seen = new Set(merged.map((e) => JSON.stringify(e)));
  for (const steps of repros) {
    const position = new Map<number, number>();
    steps.forEach((entry, i) => {
      if (typeof entry.from !== 'string' && ownIndex.has(text(entry))) {
        position.set(i, ownIndex.get(text(entry))!);
        return;
      }
      const after = entry.after as { step?: number } | undefined;
      const renumbered = after?.step === undefined ? entry : { ...entry, after: { ...after, step: position.get(after.step) ?? after.step } };
      const key = JSON.stringify(renumbered);
      if (seen.has(key)) {
        position.set(i, merged.findIndex((e) => JSON.stringify(e) === key));
        return;
      }
      seen.add(key);
      position.set(i, merged.length);
      merged.push(renumbered);
    });
  }
  return inTimeOrder(merged, merged).entries;
}

function unique<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    return !seen.has(key) && (seen.add(key), true);
  });
}
