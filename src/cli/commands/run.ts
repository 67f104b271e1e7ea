/** `tlplab run [paths…]`: the isolation matrix for every scenario, as a table, JSON and/or JUnit. */
import { performance } from 'node:perf_hooks';
import { BUILT_IN_LIBRARY, discoverScenarios, runSuite } from '../../scenario/suite.ts';
import type { SuiteResult } from '../../scenario/results.ts';
import { renderJson } from '../../report/json.ts';
import { renderJunit } from '../../report/junit.ts';
import { renderPretty } from '../../report/pretty.ts';
import { renderHtml, renderMarkdown } from '../../report/html.ts';
import { ExitCode, UsageError, suiteExitCode } from '../exit.ts';
import { findRaces, parseSeedRange } from '../../scenario/races.ts';
import type { Io } from '../io.ts';
import { positiveInteger, seedOf, shardOption, variantFilter } from '../options.ts';

export interface RunOptions {
  readonly paths: readonly string[];
  readonly seed: unknown;
  /** "A..B": run every seed of the range and report the runs that depend on it. */
  readonly seeds?: unknown;
  readonly json?: boolean | string;
  readonly junit?: unknown;
  readonly variant?: unknown;
  readonly verbose?: boolean;
  readonly jobs?: unknown;
  readonly shard?: unknown;
  readonly html?: unknown;
  readonly markdown?: unknown;
}

export async function runRun(io: Io, options: RunOptions): Promise<number> {
  const seed = seedOf(options.seed);
  const jobs = options.jobs === undefined ? 1 : positiveInteger(options.jobs, '--jobs');
  const shard = options.shard === undefined ? undefined : shardOption(options.shard);
  const files = discoverScenarios(options.paths.length > 0 ? options.paths : [BUILT_IN_LIBRARY]);
  const started = performance.now();
  const range = options.seeds === undefined ? null : parseSeedRange(String(options.seeds));
  if (options.seeds !== undefined && range === null) throw new UsageError(`--seeds needs A..B with A ≤ B (e.g. 1..20), got '${String(options.seeds)}'`);
  const suiteOptions = { filter: variantFilter(options.variant), jobs, ...(shard ? { shard } : {}) };
  const first = range === null ? seed : range.from;
  const { runs, failures } = await runSuite(files, { ...suiteOptions, seed: first });
  let seeds: SuiteResult['seeds'];
  if (range !== null) {
    const bySeed = new Map([[first, runs]]);
    for (let s = first + 1; s <= range.to; s++) bySeed.set(s, (await runSuite(files, { ...suiteOptions, seed: s })).runs);
    const failedSeeds = [...bySeed].filter(([, list]) => list.some((r) => !r.pass)).map(([s]) => s);
    seeds = { from: range.from, to: range.to, races: findRaces(bySeed), failedSeeds };
  }
  const suite: SuiteResult = { seed: first, runs, failures, ...(seeds === undefined ? {} : { seeds }), meta: { wallMs: Math.round(performance.now() - started), jobs } };
  if (options.json === true) io.out(renderJson(suite));
  else {
    io.out(renderPretty(suite, { color: io.color, verbose: options.verbose ?? false }));
    if (typeof options.json === 'string') io.writeFile(options.json, renderJson(suite));
  }
  if (typeof options.junit === 'string') io.writeFile(options.junit, renderJunit(suite));
  if (typeof options.html === 'string') io.writeFile(options.html, renderHtml(suite));
  if (typeof options.markdown === 'string') io.writeFile(options.markdown, renderMarkdown(suite));
  const code = suiteExitCode(suite);
  // A run not as expected under any seed of the range is a regression too.
  return code === ExitCode.ok && seeds !== undefined && seeds.failedSeeds.length > 0 ? ExitCode.expectationFailed : code;
}
