/**
 * Figure 5: memory with `tlps` TLPs in flight at once. On the flood machine
 * every endpoint issues its share of the writes at t = 0 before the kernel
 * runs, so all of them are issued and none has ended: each is a live Tlp
 * with one pending hop event. The figure is the growth of V8 heap plus
 * external memory (the event queue's typed arrays) between the built machine
 * and that moment, each after a full GC, and the process's peak RSS. Then
 * the kernel runs and every TLP must end as the flood formula says.
 *
 * Full GCs need `--expose-gc`, so `measureInFlightMemory` runs in a child
 * Node process (memory-child.ts) that the bench command spawns; `npm run
 * bench` stays as it is.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromSources, packageRoot } from '../package-root.ts';
import { checkFlood, floodAddress, FLOOD_DEFAULTS } from './flood-shape.ts';
import { buildFloodMachine } from './flood-tlplab.ts';

/** Target (issue 8): under 1 GB with 1 000 000 TLPs in flight; checked on the peak RSS, the stricter of the two figures. */
export const MEMORY_TARGET_BYTES = 1e9;

export interface MemoryFigure {
  /** TLPs issued and not yet ended at the measurement. */
  readonly inFlight: number;
  /** Heap used + external, after GC: with the TLPs in flight minus before issuing them. */
  readonly growthBytes: number;
  readonly bytesPerTlp: number;
  /** Peak resident set size of the measuring process (machine, TLPs, runtime). */
  readonly maxRssBytes: number;
  /** False when global.gc was unavailable: the figures then include garbage. */
  readonly gcForced: boolean;
}

type Gc = () => void;

function settledBytes(gc: Gc | undefined): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** Runs in the measuring process: issue `tlps` writes at t = 0, measure, then run them all to their end. */
export function measureInFlightMemory(tlps: number): MemoryFigure {
  const gc = (globalThis as { gc?: Gc }).gc;
  const endpoints = FLOOD_DEFAULTS.endpoints;
  if (tlps % endpoints !== 0) throw new RangeError(`--in-flight must be a multiple of ${endpoints} (one share per endpoint), got ${tlps}`);
  const perEndpoint = tlps / endpoints;
  const { kernel, fabric, endpoints: fns } = buildFloodMachine(endpoints);
  const init = { type: 'MemWr' as const, address: 0, length: 4, data: 0 };
  const before = settledBytes(gc);
  for (let i = 0; i < perEndpoint; i++) {
    init.address = floodAddress(i);
    for (const fn of fns) fabric.issue(fn, init);
  }
  const inFlight = fabric.inFlight;
  const pending = kernel.pending;
  const growthBytes = settledBytes(gc) - before;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  if (inFlight !== tlps || pending !== tlps) {
    throw new Error(`expected ${tlps} TLPs in flight with one pending event each, got ${inFlight} in flight and ${pending} events`);
  }
  kernel.run();
  const counts = fabric.counts;
  // No injector here: every kernel event is a hop.
  checkFlood('in-flight memory run', { endpoints, tlps: perEndpoint }, {
    delivered: counts.delivered,
    faulted: counts.faulted,
    other: counts.blocked + counts.completed + counts['unsupported-request'],
    hops: kernel.eventsHandled,
  });
  return { inFlight, growthBytes, bytesPerTlp: Math.round(growthBytes / tlps), maxRssBytes, gcForced: gc !== undefined };
}

export class MemoryBenchError extends Error {
  readonly code = 'BENCH_MEMORY_CHILD';
}

/** Spawns `node --expose-gc` on the memory child (memory-child.ts through tsx, or the bundled one) and returns its figure. */
export function memoryFigure(tlps: number): MemoryFigure {
  // From the sources the child runs through tsx's loader; the built CLI has a bundled child.
  const args = fromSources
    ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, fileURLToPath(new URL('./memory-child.ts', import.meta.url))]
    : [join(packageRoot(), 'dist', 'memory-child.js')];
  const result = spawnSync(process.execPath, ['--expose-gc', ...args, String(tlps)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) {
    throw new MemoryBenchError(`memory benchmark process failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.trim()}`);
  }
  return JSON.parse(result.stdout) as MemoryFigure;
}
