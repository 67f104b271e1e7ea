/**
 * The attack library (scenarios/): every file loads, every variant meets
 * its whole expectation — verdict, breaches (kind, victim), stops (reason,
 * fault, place) and the gate that refused it — every rule states why (its
 * stops, and its breaches when breached), and each scenario shows both
 * outcomes unless its summary says why it cannot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';
import { describeVariant } from '../../src/report/variant-text.ts';

const files = discoverScenarios([join(import.meta.dirname, '../../scenarios')]);

describe.each(files.map((f) => [f.split('/').at(-1)!, f]))('%s', (_name, file) => {
  const loaded = loadScenarioFile(file);

  it('has a title, a summary and sources', () => {
    expect(loaded.title.length).toBeGreaterThan(10);
    expect(loaded.summary.length).toBeGreaterThan(80);
    expect(loaded.sources.length).toBeGreaterThan(0);
  });

  it.each(loaded.variants.map((v) => [describeVariant(v.assignment), v] as const))('%s', (_variant, variant) => {
    const { result } = runVariant(loaded, variant, 1);
    const why = [...result.breaches.map((b) => `${b.kind}: ${b.detail}`), ...result.stopped.map((s) => `stopped: ${s.reason} at ${s.at}`)].join('\n');
    expect(result.differences, why).toEqual([]);
    expect(result.pass).toBe(true);
  });

  it('states the reasons of every rule, not only the verdict', () => {
    for (const rule of loaded.rules) {
      expect(rule.stopped, `rule ${JSON.stringify(rule.when)}`).not.toBeNull();
      if (rule.verdict === 'breached') expect(rule.breaches, `rule ${JSON.stringify(rule.when)}`).not.toBeNull();
    }
    for (const variant of loaded.variants) {
      if (runVariant(loaded, variant, 1).result.refusedBy !== null) expect(variant.expectation.refusedBy, describeVariant(variant.assignment)).not.toBeNull();
    }
  });

  it('shows an isolated and a breached configuration (or says why not)', () => {
    const verdicts = new Set(loaded.variants.map((v) => v.expected));
    if (verdicts.size < 2) expect(loaded.summary).toMatch(/every (configuration|variant)|no configuration|cannot|always/i);
  });
});

describe('the README lists the library', () => {
  it('one line per scenario file, between the library markers, and none that does not exist', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const list = readme.slice(readme.indexOf('<!-- library:start -->'), readme.indexOf('<!-- library:end -->'));
    const listed = [...list.matchAll(/^- `([a-z0-9-]+\.yaml)`/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual(files.map((f) => f.split('/').at(-1)!).sort());
  });
});
