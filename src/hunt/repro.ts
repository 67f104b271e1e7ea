/**
 * Minimal reproducers. A finding's first probe, with the host's timeline,
 * is run alone; if the breach needed other probes of its batch, the whole
 * batch is the start. Then steps are dropped — halves, quarters, … single
 * steps — while the same breach (kind, victim, path) still happens. What
 * is left is written as a scenario file: the configuration as hunted, the
 * steps, and the breach (with the run's stops) as its expectation, so
 * `tlplab run` replays it and passes; loading that YAML and running it is
 * checked before the finding is reported.
 */
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';
import { loadScenario, type LoadedScenario } from '../scenario/load.ts';
import { ScenarioError } from '../scenario/diagnostics.ts';
import { runVariant } from '../scenario/runner.ts';
import type { ScenarioSpec } from '../scenario/model.ts';
import type { RunResult } from '../scenario/results.ts';
import { hitsOf, tryRunSteps, type Hit } from './execute.ts';
import type { Repro, StepEntry } from './model.ts';

export interface Reproduced {
  readonly entries: readonly StepEntry[];
  /** What the run showed (all its breaches and stops: the reproducer states them). */
  readonly result: Pick<RunResult, 'breaches' | 'stopped'>;
  readonly hit: Hit;
}

/** Runs `entries`; the hit with `key` when it happened. */
export function tryEntries(spec: ScenarioSpec, entries: readonly StepEntry[], key: string, seed: number, count: () => void): Reproduced | null {
  count();
  const run = tryRunSteps(spec, entries, seed);
  if (typeof run === 'string') return null;
  const hit = hitsOf(run, entries.map(() => null)).find((h) => h.key === key);
  return hit === undefined ? null : { entries, result: { breaches: run.result.breaches, stopped: run.result.stopped }, hit };
}

/** Drops steps while the breach still happens (delta debugging over chunks, then single steps). */
export function minimize(spec: ScenarioSpec, start: Reproduced, seed: number, count: () => void): Reproduced {
  let best = start;
  for (let chunk = Math.max(1, Math.floor(best.entries.length / 2)); chunk >= 1; chunk = chunk === 1 ? 0 : Math.max(1, Math.floor(chunk / 2))) {
    for (let from = best.entries.length - chunk; from >= 0; from -= chunk) {
      const without = dropSteps(best.entries, from, chunk);
      if (without === null || without.length === 0) continue;
      const tried = tryEntries(spec, without, best.hit.key, seed, count);
      if (tried !== null) best = tried;
    }
  }
  return best;
}

/** The entries without [from, from+count), `after.step` renumbered; null when a kept step waits on a dropped one. */
export function dropSteps(entries: readonly StepEntry[], from: number, count: number): StepEntry[] | null {
  const kept: StepEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i >= from && i < from + count) continue;
    const entry = entries[i]!;
    const after = entry.after as { step?: number } | undefined;
    if (after?.step === undefined) {
      kept.push(entry);
      continue;
    }
    if (after.step >= from && after.step < from + count) return null;
    kept.push({ ...entry, after: { ...after, step: after.step >= from + count ? after.step - count : after.step } });
  }
  return kept;
}

export interface ReproText {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly because: string;
  readonly sources: readonly string[];
}

/** The scenario document: the configuration (variants applied, none left), the steps, the run's breaches and stops as its one expectation. */
export function reproDocument(configuration: Record<string, unknown>, found: Reproduced, text: ReproText): Record<string, unknown> {
  const places = placesOf(configuration);
  const breaches = unique(found.result.breaches.map((b) => ({ kind: b.kind, victim: b.victim })));
  const stopped = unique(
    found.result.stopped.map((s) => ({ reason: s.reason, ...(s.faultCode === null ? {} : { fault: s.faultCode }), ...(places.has(s.at) ? { at: s.at } : {}) })),
  );
  const { variants: _variants, expect: _expect, ...rest } = configuration;
  const attack = rest.attack as Record<string, unknown>;
  return {
    ...rest,
    name: text.name,
    title: text.title,
    summary: text.summary,
    sources: [...text.sources],
    attack: { ...attack, steps: found.entries },
    expect: [{ verdict: 'breached', breaches, stopped, because: text.because }],
  };
}

/** Lists whose entries are written one per line in flow style, as the library's files are. */
const FLOW_LISTS = new Set(['steps', 'memory', 'devices', 'functions', 'map', 'irtes', 'breaches', 'stopped', 'acs', 'cap', 'ctl', 'bars', 'regions', 'sources-inline']);

/** Addresses and register values read best in hex, whatever their size. */
const HEX_KEYS = new Set(['write', 'read', 'data', 'offset', 'iova', 'to', 'base', 'value', 'ats-translate', 'at']);

/** YAML as a person would write it: steps, memory and devices one per line in flow style, addresses in hex; `header` as comments. */
export function scenarioYaml(document: Record<string, unknown>, header: string): string {
  const doc = new Document(document);
  visit(doc, {
    Pair(_key, pair) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      if (HEX_KEYS.has(name) && isScalar(pair.value) && typeof pair.value.value === 'number' && pair.value.value > 9) pair.value.format = 'HEX';
      if (!FLOW_LISTS.has(name) || !isSeq(pair.value)) return;
      // A multifunction device keeps block style; its functions are one per line.
      for (const item of pair.value.items) if ((isMap(item) && !item.has('functions')) || isSeq(item)) item.flow = true;
      if (pair.value.items.every((item) => isScalar(item))) pair.value.flow = true;
    },
    Scalar(_key, node) {
      if (typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0x1000) node.format = 'HEX';
    },
  });
  const body = doc.toString({ lineWidth: 0, flowCollectionPadding: true });
  const comments = header === '' ? '' : `${header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}\n`;
  return `${comments}${body}`;
}

/** Runs a loaded reproducer: its expectation must hold and the breach with `key` happen. */
function passesWith(loaded: LoadedScenario, key: string, seed: number): boolean {
  const run = runVariant(loaded, loaded.variants[0]!, seed);
  return run.result.pass && hitsOf(run, []).some((h) => h.key === key);
}

/** Loads the YAML as `tlplab run` would and runs it: the expectation must hold and the breach with `key` happen. */
export function replays(yaml: string, file: string, key: string, seed: number, count: () => void = () => undefined): boolean {
  count();
  try {
    return passesWith(loadScenario(file, yaml), key, seed);
  } catch (error) {
    if (error instanceof ScenarioError) return false;
    throw error;
  }
}

/** The reproducer's file: its YAML, and whether loading and running it gave the same breach. */
export function reproFile(repro: Repro, key: string, seed: number): { yaml: string; replayed: boolean } {
  const yaml = scenarioYaml(repro.document, repro.header);
  return { yaml, replayed: replays(yaml, `${repro.name}.yaml`, key, seed) };
}

export function makeRepro(name: string, document: Record<string, unknown>, header: string, checked: boolean): Repro {
  return { name, document, header, steps: (document.attack as { steps: StepEntry[] }).steps, checked, replayed: null, file: null };
}

function unique<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function placesOf(configuration: Record<string, unknown>): Set<string> {
  const devices = ((configuration.machine as { devices?: { id: string; functions?: { id: string }[] }[] }).devices ?? []).flatMap((d) => [d.id, ...(d.functions ?? []).map((f) => f.id)]);
  return new Set([...devices, 'root-complex', 'host (vfio-pci)', 'host (xen-pciback)', 'host (vfio)']);
}
