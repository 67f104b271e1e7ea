/**
 * `tlplab run [paths…]` and `tlplab report`: the isolation matrix for every
 * scenario, as a table, JSON, JUnit, HTML and/or Markdown. Results stream:
 * each file's table and JSON are written when the file is done.
 */
import { performance } from 'node:perf_hooks';
import { BUILT_IN_LIBRARY, discoverScenarios, planSuite, type FileResult } from '../../scenario/suite.ts';
import { runPlanned } from '../../scenario/suite-run.ts';
import type { RunResult, ScenarioFailure, ScenarioInfo, SuiteResult } from '../../scenario/results.ts';
import { jsonStream } from '../../report/json.ts';
import { junitDocument, junitSuite, type JunitSuite } from '../../report/junit.ts';
import { renderPrettyEnd, renderPrettyFile } from '../../report/pretty.ts';
import { renderHtml } from '../../report/html.ts';
import { renderMarkdown } from '../../report/markdown.ts';
import { findRaces, parseSeedRange } from '../../scenario/races.ts';
import { countsExitCode, UsageError } from '../exit.ts';
import type { Io, OutputFile } from '../io.ts';
import { checkOutputs, type OutputTarget } from '../output.ts';
import type { Progress } from '../progress.ts';
import { bailOption, fileOption, patternOption, positiveInteger, seedOf, shardOption, variantFilter } from '../options.ts';

export interface RunOptions {
  readonly paths: readonly string[];
  readonly seed?: unknown;
  /** "A..B": run every seed of the range and report the runs that depend on it. */
  readonly seeds?: unknown;
  readonly json?: unknown;
  readonly jsonFile?: unknown;
  readonly reporter?: unknown;
  readonly junit?: unknown;
  readonly variant?: unknown;
  readonly filter?: unknown;
  readonly verbose?: boolean;
  readonly jobs?: unknown;
  readonly shard?: unknown;
  readonly html?: unknown;
  readonly markdown?: unknown;
  readonly maxRuns?: unknown;
  readonly bail?: unknown;
  readonly force?: boolean;
}

/** Writes text to stdout in whole lines (Io.out ends each write with a newline). */
function lineWriter(out: (text: string) => void): { write(text: string): void; flush(): void } {
  let pending = '';
  return {
    write(text) {
      pending += text;
      const cut = pending.lastIndexOf('\n');
      if (cut >= 0) {
        out(pending.slice(0, cut + 1));
        pending = pending.slice(cut + 1);
      }
    },
    flush() {
      if (pending !== '') out(pending);
      pending = '';
    },
  };
}

function reporterOf(options: RunOptions): 'pretty' | 'json' {
  if (options.reporter === undefined) return options.json === true ? 'json' : 'pretty';
  const name = String(options.reporter);
  if (name !== 'pretty' && name !== 'json') throw new UsageError(`--reporter must be pretty or json, got '${name}' (JUnit: --junit FILE)`);
  return name;
}

export async function runRun(io: Io, options: RunOptions, quiet = false): Promise<number> {
  const range = options.seeds === undefined ? null : parseSeedRange(String(options.seeds));
  if (options.seeds !== undefined && range === null) throw new UsageError(`--seeds needs A..B with A ≤ B (e.g. 1..20), got '${String(options.seeds)}'`);
  const seed = range === null ? seedOf(options.seed ?? 1) : range.from;
  const jobs = options.jobs === undefined ? 1 : positiveInteger(options.jobs, '--jobs');
  const shard = options.shard === undefined ? undefined : shardOption(options.shard);
  const maxRuns = options.maxRuns === undefined ? undefined : positiveInteger(options.maxRuns, '--max-runs');
  const bail = bailOption(options.bail);
  const reporter = quiet ? 'none' : reporterOf(options);
  const outputs = {
    json: fileOption(options.jsonFile, '--json-file'),
    junit: fileOption(options.junit, '--junit'),
    html: fileOption(options.html, '--html'),
    markdown: fileOption(options.markdown, '--markdown'),
  };
  const files = discoverScenarios(options.paths.length > 0 ? options.paths : [BUILT_IN_LIBRARY]);
  const targets: OutputTarget[] = Object.entries(outputs).flatMap(([flag, path]) => (path === undefined ? [] : [{ flag: flag === 'json' ? '--json-file' : `--${flag}`, path }]));
  checkOutputs(targets, files, options.force === true);

  const started = performance.now();
  const keepAll = outputs.html !== undefined || outputs.markdown !== undefined;
  // Reports tell each run TLP by TLP; the plain matrix does not need the stories.
  const suiteOptions = { seed, filter: variantFilter(options.variant), pattern: patternOption(options.filter), jobs, maxRuns, bail, stories: keepAll, ...(shard ? { shard } : {}) };
  // Planning refuses bad filters and oversized matrices before anything is written.
  const plan = planSuite(files, suiteOptions);
  const stdout = lineWriter(io.out);
  const jsonOut = reporter === 'json' ? jsonStream(stdout.write, seed) : undefined;
  let jsonFile: OutputFile | undefined;
  let jsonToFile: ReturnType<typeof jsonStream> | undefined;
  const junit: JunitSuite[] = [];
  const all: { runs: RunResult[]; failures: ScenarioFailure[]; scenarios: ScenarioInfo[] } = { runs: [], failures: [], scenarios: [] };
  // --seeds compares every seed's runs, so it keeps them.
  const firstSeedRuns: RunResult[] = [];
  const failures: ScenarioFailure[] = [];
  let progress: Progress | null | undefined;
  try {
    if (outputs.json !== undefined) {
      const file = io.openFile(outputs.json);
      jsonFile = file;
      jsonToFile = jsonStream((text) => file.write(text), seed);
    }
    const ran = await runPlanned(plan.planned, plan.total, suiteOptions, {
      async file(result: FileResult) {
        failures.push(...result.failures);
        if (reporter === 'pretty') io.out(renderPrettyFile(result.runs, { color: io.color, verbose: options.verbose ?? false }));
        for (const run of result.runs) {
          jsonOut?.run(run);
          jsonToFile?.run(run);
        }
        if (outputs.junit !== undefined) {
          const name = result.runs[0]?.scenario ?? result.failures[0]?.scenario ?? result.file;
          junit.push(junitSuite(result.file, name, result.runs, result.failures));
        }
        if (keepAll) {
          all.runs.push(...result.runs);
          all.failures.push(...result.failures);
          if (result.scenario) all.scenarios.push(result.scenario);
        }
        if (range !== null) firstSeedRuns.push(...result.runs);
        await io.drain();
      },
      progress(done, total, scenario) {
        if (progress === undefined) progress = reporter === 'json' ? null : io.progress(total, scenario);
        progress?.update(done, scenario);
      },
    });
    const counts = { ...ran, unselected: plan.unselected };
    progress?.stop();
    let seeds: SuiteResult['seeds'];
    if (range !== null) {
      const bySeed = new Map<number, readonly RunResult[]>([[seed, firstSeedRuns]]);
      for (let s = seed + 1; s <= range.to; s++) {
        const runs: RunResult[] = [];
        await runPlanned(plan.planned, plan.total, { ...suiteOptions, seed: s, stories: false }, { file: (r) => void runs.push(...r.runs) });
        bySeed.set(s, runs);
      }
      const failedSeeds = [...bySeed].filter(([, list]) => list.some((r) => !r.pass)).map(([s]) => s);
      seeds = { from: range.from, to: range.to, races: findRaces(bySeed), failedSeeds };
    }
    const meta = { wallMs: Math.round(performance.now() - started), jobs: counts.jobs, ...(shard ? { shard: { ...shard, of: plan.of } } : {}) };
    const notRun = counts.bailed ? counts.planned - counts.runs : 0;
    if (reporter === 'pretty') io.out(renderPrettyEnd(failures, { seed, runs: counts.runs, passed: counts.passed, notRun, unselected: counts.unselected, seeds }, { color: io.color }));
    jsonOut?.end(failures, meta, seeds);
    stdout.flush();
    jsonToFile?.end(failures, meta, seeds);
    jsonFile?.close();
    const written: string[] = outputs.json === undefined ? [] : [outputs.json];
    if (outputs.junit !== undefined) {
      io.writeFile(outputs.junit, junitDocument(junit));
      written.push(outputs.junit);
    }
    const suite: SuiteResult = { seed, ...all, ...(seeds === undefined ? {} : { seeds }), meta };
    if (outputs.html !== undefined) {
      io.writeFile(outputs.html, await renderHtml(suite));
      written.push(outputs.html);
    }
    if (outputs.markdown !== undefined) {
      io.writeFile(outputs.markdown, renderMarkdown(suite));
      written.push(outputs.markdown);
    }
    if (quiet) io.out(`wrote ${written.join(', ')} (${counts.runs} runs, ${counts.passed} as expected, ${counts.runs - counts.passed} not${counts.failures ? `, ${counts.failures} scenario error(s)` : ''}; seed ${seed})`);
    const code = countsExitCode(counts);
    // Stopped by --bail, or not as expected under another seed of --seeds: a regression too.
    return code === 0 && (counts.bailed || (seeds?.failedSeeds.length ?? 0) > 0) ? 1 : code;
  } catch (error) {
    progress?.stop();
    jsonFile?.abort();
    throw error;
  }
}

/** `tlplab report`: the same runs, only files written, and where they went. */
export function runReport(io: Io, options: RunOptions): Promise<number> {
  return runRun(io, options, true);
}
