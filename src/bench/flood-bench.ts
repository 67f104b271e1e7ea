/**
 * Figures 1 and 2: the flood workload on tlplab and on the bare loop,
 * measured alternately in the same process; the ratio is tlplab's hop rate
 * over the bare loop's (1.0 = no overhead).
 */
import { floodExpectation, FLOOD_HOPS_PER_TLP, type FloodShape } from './flood-shape.ts';
import { runFloodBare } from './flood-bare.ts';
import { runFloodTlplab } from './flood-tlplab.ts';
import { measurePair, type MeasureOptions } from './measure.ts';

/** Target: tlplab at least half as fast as the bare loop (issue 8). */
export const FLOOD_RATIO_TARGET = 0.5;

export interface FloodFigures {
  readonly endpoints: number;
  readonly tlpsPerEndpoint: number;
  readonly delivered: number;
  readonly faulted: number;
  readonly hops: number;
  /** Median wall time of one simulation run (machine built beforehand), ms. */
  readonly tlplabMs: number;
  readonly tlplabHopsPerSecond: number;
  readonly bareMs: number;
  readonly bareHopsPerSecond: number;
  /** tlplab hops/s ÷ bare hops/s. */
  readonly ratio: number;
  readonly target: number;
  readonly met: boolean;
  readonly tlplabRunsMs: readonly number[];
  readonly bareRunsMs: readonly number[];
}

/** Both loops check their counts on every run (FloodMismatchError when the work differs). */
export function benchFlood(shape: FloodShape, options: MeasureOptions = {}): FloodFigures {
  const [tlplab, bare] = measurePair(
    () => runFloodTlplab(shape).runMs,
    () => runFloodBare(shape).runMs,
    options,
  );
  const hops = shape.endpoints * shape.tlps * FLOOD_HOPS_PER_TLP;
  const perSecond = (ms: number) => Math.round((hops / ms) * 1000);
  const ratio = bare.medianMs / tlplab.medianMs;
  return {
    endpoints: shape.endpoints,
    tlpsPerEndpoint: shape.tlps,
    ...floodExpectation(shape),
    hops,
    tlplabMs: tlplab.medianMs,
    tlplabHopsPerSecond: perSecond(tlplab.medianMs),
    bareMs: bare.medianMs,
    bareHopsPerSecond: perSecond(bare.medianMs),
    ratio,
    target: FLOOD_RATIO_TARGET,
    met: ratio >= FLOOD_RATIO_TARGET,
    tlplabRunsMs: tlplab.runsMs,
    bareRunsMs: bare.runsMs,
  };
}
