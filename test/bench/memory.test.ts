/** Figure 5's measurement at a small size, in-process (no forced GC here): the TLPs are really in flight, then all end. */
import { describe, expect, it } from 'vitest';
import { measureInFlightMemory } from '../../src/bench/memory-bench.ts';

describe('in-flight memory measurement', () => {
  it('holds every TLP in flight at once, then runs them to the formula counts', () => {
    const figure = measureInFlightMemory(64 * 50);
    expect(figure.inFlight).toBe(3200);
    expect(figure.maxRssBytes).toBeGreaterThan(0);
  });

  it('refuses a count that is not a multiple of the 64 endpoints', () => {
    expect(() => measureInFlightMemory(100)).toThrow(/multiple of 64/);
  });
});
