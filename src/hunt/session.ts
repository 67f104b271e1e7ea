/**
 * A whole hunt: load the input, explore every configuration (on worker
 * threads with `jobs` > 1: one task per configuration, or shards of one
 * when there are fewer configurations than threads), then number the
 * findings and check their reproducers. The findings do not depend on
 * `jobs`; only the wall-clock figures under `meta` do.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Tinypool from 'tinypool';
import { fromSources, packageRoot } from '../package-root.ts';
import { exploreConfiguration, finishConfiguration, HuntLedger, mergeExplorations, type Exploration } from './hunt.ts';
import { loadHuntInput, type InputSpec } from './input.ts';
import type { HuntOptions, HuntResult } from './model.ts';
import type { HuntTask } from './worker.ts';

export interface SessionOptions {
  readonly jobs: number;
  /** Wall clock for `meta` (the CLI passes one; nothing else reads it). */
  readonly clock?: () => number;
}

function workerFile(): string {
  // From the sources (tests, tsx) the worker must register tsx itself; the built CLI runs the bundled worker (scripts/build.mjs).
  return fromSources ? new URL('./worker-entry.js', import.meta.url).href : pathToFileURL(join(packageRoot(), 'dist', 'hunt-worker.js')).href;
}

export async function runHunt(spec: InputSpec, options: HuntOptions, session: SessionOptions): Promise<HuntResult> {
  const clock = session.clock;
  const started = clock?.() ?? 0;
  const input = loadHuntInput(spec);
  const ledger = new HuntLedger(clock);
  const configurations = input.configurations;
  let explorations: Exploration[];
  let firstFindingMs: number | null = null;
  if (session.jobs <= 1 || configurations.length === 0) {
    explorations = configurations.map((c) => exploreConfiguration(c, options, null, ledger));
    firstFindingMs = ledger.firstFindingMs;
  } else {
    const shards = configurations.length >= session.jobs ? 1 : Math.ceil(session.jobs / configurations.length);
    const tasks: HuntTask[] = configurations.flatMap((_c, configuration) =>
      Array.from({ length: shards }, (_s, index) => ({ input: spec, configuration, shard: shards === 1 ? null : { index, count: shards }, options })),
    );
    const pool = new Tinypool({ filename: workerFile(), minThreads: session.jobs, maxThreads: session.jobs });
    try {
      const parts = await Promise.all(
        tasks.map(async (task) => {
          const part = (await pool.run(task)) as Exploration;
          if (part.raw.length > 0 && firstFindingMs === null && clock !== undefined) firstFindingMs = clock() - started;
          return part;
        }),
      );
      explorations = configurations.map((_c, i) => mergeExplorations(parts.slice(i * shards, (i + 1) * shards)));
    } finally {
      await pool.destroy();
    }
  }
  const checking = ledger.runs;
  const targets = configurations.map((c, i) => finishConfiguration(c, explorations[i]!, options, ledger));
  const wallMs = (clock?.() ?? 0) - started;
  // In one thread the ledger saw every run; with workers, theirs plus the checks made here.
  const runs = session.jobs <= 1 ? ledger.runs : explorations.reduce((n, e) => n + e.allRuns, 0) + ledger.runs - checking;
  return {
    schema: 'tlplab/hunt-v1',
    seed: options.seed,
    budget: options.budget,
    input: { file: input.file, kind: input.kind, assumptions: input.assumptions },
    targets,
    meta: { wallMs: Math.round(wallMs), runs, runsPerSecond: wallMs > 0 ? Math.round((runs / wallMs) * 1000) : 0, firstFindingMs: firstFindingMs === null ? null : Math.round(firstFindingMs), jobs: session.jobs },
  };
}
