/**
 * The flood workload's shape, shared by the tlplab run and the bare loop so
 * both do the same work (BENCHMARKS.md, figure 1): `endpoints` endpoints,
 * each posting `tlps` 4-byte memory writes one every `intervalNs`; write i
 * targets (i × 7 × 4096) mod 2 MiB, of which only the pages 0..1 MiB are
 * mapped, so a write is delivered exactly when its address is below 1 MiB.
 */

export interface FloodShape {
  readonly endpoints: number;
  /** Writes posted by each endpoint. */
  readonly tlps: number;
}

export const FLOOD_DEFAULTS: FloodShape = { endpoints: 64, tlps: 2000 };

/** ns between two writes of one endpoint. */
export const FLOOD_INTERVAL_NS = 10;
/** ns per hop; four hops: endpoint → DSP → USP → root port → root complex. */
export const FLOOD_HOP_NS = 100;
export const FLOOD_HOPS_PER_TLP = 4;
/** Each endpoint's paging domain maps the 256 pages of [0, 1 MiB). */
export const FLOOD_MAPPED_BYTES = 0x10_0000;
export const FLOOD_PAGE_SIZE = 4096;
/** Addresses wrap at 2 MiB: half the targets are unmapped. */
export const FLOOD_SPAN = 0x20_0000;
/** Downstream ports per switch: a switch's internal bus holds at most 32 device numbers; 16 keeps every switch alike. */
export const FLOOD_PORTS_PER_SWITCH = 16;
/** Host memory of endpoint k: FLOOD_RAM_BASE + k MiB. */
export const FLOOD_RAM_BASE = 0x1000_0000;

/** Address of write `i` (of any endpoint). */
export function floodAddress(i: number): number {
  return (i * 7 * FLOOD_PAGE_SIZE) % FLOOD_SPAN;
}

export interface FloodCounts {
  readonly delivered: number;
  readonly faulted: number;
}

/** What the workload must end with: writes below 1 MiB are delivered, the rest fault (no mapping). */
export function floodExpectation(shape: FloodShape): FloodCounts {
  let perEndpoint = 0;
  for (let i = 0; i < shape.tlps; i++) if (floodAddress(i) < FLOOD_MAPPED_BYTES) perEndpoint++;
  const delivered = perEndpoint * shape.endpoints;
  return { delivered, faulted: shape.endpoints * shape.tlps - delivered };
}

/** What a run ended with: `other` counts TLPs that ended any other way (blocked, UR, completed). */
export interface FloodTally extends FloodCounts {
  readonly hops: number;
  readonly other: number;
}

/** Thrown when a run did not do the work of the shape: the figure would compare different work. */
export class FloodMismatchError extends Error {
  readonly code = 'BENCH_FLOOD_MISMATCH';
  constructor(what: string, expected: FloodTally, got: FloodTally) {
    const text = (t: FloodTally) => `delivered=${t.delivered} faulted=${t.faulted} other=${t.other} hops=${t.hops}`;
    super(`${what}: expected ${text(expected)}, got ${text(got)}; the benchmark did different work`);
    this.name = 'FloodMismatchError';
  }
}

/** Fails loudly unless a run ended exactly as the shape says. */
export function checkFlood(what: string, shape: FloodShape, got: FloodTally): void {
  const expected: FloodTally = { ...floodExpectation(shape), other: 0, hops: shape.endpoints * shape.tlps * FLOOD_HOPS_PER_TLP };
  if (got.delivered !== expected.delivered || got.faulted !== expected.faulted || got.other !== 0 || got.hops !== expected.hops) {
    throw new FloodMismatchError(what, expected, got);
  }
}
