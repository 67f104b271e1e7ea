/**
 * The flood workload (BENCHMARKS.md figures 1 and 2) at small sizes: tlplab
 * and the bare loop end with exactly the counts of the formula — write i
 * goes to (i × 7 × 4096) mod 2 MiB and only [0, 1 MiB) is mapped, so it is
 * delivered iff that address is below 1 MiB, else it faults (VT-d 5.10
 * §7.1.3 LGN.2, no mapping for a write) — and a run that did other work
 * fails loudly.
 */
import { describe, expect, it } from 'vitest';
import { runFloodBare } from '../../src/bench/flood-bare.ts';
import { checkFlood, floodAddress, floodExpectation, FloodMismatchError, FLOOD_DEFAULTS } from '../../src/bench/flood-shape.ts';
import { buildFloodMachine, floodFabricConfig, runFloodTlplab } from '../../src/bench/flood-tlplab.ts';

/** Closed form: 7 is odd, so i ↦ 7i mod 512 permutes each block of 512 writes; half of each block lands below page 256. */
function closedForm(endpoints: number, tlps: number): { delivered: number; faulted: number } {
  let tail = 0;
  for (let i = 0; i < tlps % 512; i++) if ((7 * i) % 512 < 256) tail++;
  const delivered = endpoints * (Math.floor(tlps / 512) * 256 + tail);
  return { delivered, faulted: endpoints * tlps - delivered };
}

describe('flood formula', () => {
  it('gives delivered = 64768 and faulted = 63232 for the defaults (64 × 2000), as issue 8 states', () => {
    expect(floodExpectation(FLOOD_DEFAULTS)).toEqual({ delivered: 64768, faulted: 63232 });
  });

  it.each([
    [1, 1],
    [3, 37],
    [5, 512],
    [2, 1100],
  ])('matches its closed form for %i endpoints × %i writes', (endpoints, tlps) => {
    expect(floodExpectation({ endpoints, tlps })).toEqual(closedForm(endpoints, tlps));
  });

  it('addresses wrap at 2 MiB in 7-page strides', () => {
    expect([0, 1, 2, 73, 74].map(floodAddress)).toEqual([0, 0x7000, 0xe000, 0x1ff000, 0x6000]);
  });
});

describe('flood machine (compileFabric, VT-d Iommu)', () => {
  it('spreads endpoints over root ports with one switch each, at most 16 DSPs per switch', () => {
    const config = floodFabricConfig(40);
    expect(config.functions.filter((f) => f.kind === 'root-port')).toHaveLength(3);
    expect(config.functions.filter((f) => f.kind === 'switch-downstream')).toHaveLength(40);
    expect(config.functions.filter((f) => f.kind === 'endpoint')).toHaveLength(40);
  });

  it('gives each endpoint its own paging domain of 256 pages', () => {
    const { iommu, endpoints } = buildFloodMachine(3);
    expect(endpoints.map((fn) => iommu.context(fn.rid)?.domain.pages.size)).toEqual([256, 256, 256]);
    expect(new Set(endpoints.map((fn) => iommu.context(fn.rid)?.domain.id)).size).toBe(3);
  });

  it.each([
    [1, 10],
    [17, 40],
    [20, 600],
  ])('tlplab: %i endpoints × %i writes end with the formula counts, 4 hops each, every fault logged', (endpoints, tlps) => {
    const run = runFloodTlplab({ endpoints, tlps });
    expect({ delivered: run.delivered, faulted: run.faulted }).toEqual(closedForm(endpoints, tlps));
    expect(run.hops).toBe(endpoints * tlps * 4);
    expect(run.faultsLogged).toBe(run.faulted);
  });

  it.each([
    [1, 10],
    [17, 40],
    [20, 600],
  ])('bare loop: %i endpoints × %i writes end with the same counts', (endpoints, tlps) => {
    const run = runFloodBare({ endpoints, tlps });
    expect({ delivered: run.delivered, faulted: run.faulted }).toEqual(closedForm(endpoints, tlps));
    expect(run.hops).toBe(endpoints * tlps * 4);
  });
});

describe('checkFlood', () => {
  const shape = { endpoints: 2, tlps: 600 };
  const right = { ...floodExpectation(shape), other: 0, hops: 2 * 600 * 4 };
  it.each([
    ['a delivered count', { ...right, delivered: right.delivered - 1, faulted: right.faulted + 1 }],
    ['a blocked TLP', { ...right, delivered: right.delivered - 1, other: 1 }],
    ['a missing hop', { ...right, hops: right.hops - 1 }],
  ])('fails loudly on %s that differs', (_what, got) => {
    expect(() => checkFlood('test', shape, got)).toThrow(FloodMismatchError);
  });
  it('passes the exact counts', () => {
    expect(() => checkFlood('test', shape, right)).not.toThrow();
  });
});
