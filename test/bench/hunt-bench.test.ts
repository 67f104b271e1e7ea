/**
 * The hunt benchmark's workloads do what they claim (speed is measured by
 * `npm run bench`, never here): the generated machine has the functions
 * asked for, one endpoint hostile, each endpoint its own principal with a
 * paging domain; hunting it in two shards gives the findings one thread gives.
 */
import { describe, expect, it } from 'vitest';
import { largeConfiguration } from '../../src/bench/hunt-bench.ts';
import { exploreConfiguration, finishConfiguration, huntConfiguration, HuntLedger, mergeExplorations } from '../../src/hunt/hunt.ts';
import { DEFAULT_HUNT } from '../../src/hunt/model.ts';

describe('hunt benchmark: the generated machine', () => {
  const { config, attacker } = largeConfiguration(160);

  it('has the functions asked for, the attacker owns one endpoint, every endpoint has its own domain', () => {
    const functions = config.spec.machine.functions;
    expect(functions).toHaveLength(160);
    expect(functions.filter((f) => f.owner === config.spec.attacker).map((f) => f.id)).toEqual([attacker]);
    const endpoints = functions.filter((f) => f.owner !== 'host');
    expect(config.spec.domains.length).toBe(endpoints.length);
  });

  it('two shards find what one thread finds', () => {
    const options = { ...DEFAULT_HUNT, budget: 10 };
    const whole = huntConfiguration(config, options);
    const parts = [0, 1].map((index) => exploreConfiguration(config, options, { index, count: 2 }));
    const merged = finishConfiguration(config, mergeExplorations(parts), options, new HuntLedger(undefined));
    expect(merged.findings.map((f) => f.path)).toEqual(whole.findings.map((f) => f.path));
    expect(whole.findings.length).toBeGreaterThan(0);
  });
});
