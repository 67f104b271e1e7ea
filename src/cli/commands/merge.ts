/**
 * `tlplab merge shard-1.json shard-2.json …`: the JSON outputs of
 * `tlplab run --shard i/n` merged into the document one run would have
 * printed (runs in shard order, errors once), optionally as JUnit too.
 */
import { readFileSync } from 'node:fs';
import { jsonStream } from '../../report/json.ts';
import { renderJunit } from '../../report/junit.ts';
import type { RunResult, ScenarioFailure } from '../../scenario/results.ts';
import { countsExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { checkOutputs, type OutputTarget } from '../output.ts';
import { fileOption } from '../options.ts';

export interface MergeOptions {
  readonly files: readonly string[];
  readonly jsonFile?: unknown;
  readonly junit?: unknown;
  readonly force?: boolean;
}

interface ShardDocument {
  readonly path: string;
  readonly seed: number;
  readonly runs: readonly RunResult[];
  readonly errors: readonly (Omit<ScenarioFailure, 'diagnostics'> & { diagnostics: { line: number; column: number; code: string; message: string }[] })[];
  readonly shard: { readonly index: number; readonly count: number; readonly of: number } | null;
  readonly wallMs: number;
}

function read(path: string): ShardDocument {
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`merge: cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  if (document.schema !== 'tlplab/run-v1') throw new UsageError(`merge: ${path} is not the output of tlplab run --json (schema ${JSON.stringify(document.schema)}, expected "tlplab/run-v1")`);
  const meta = (document.meta ?? {}) as { shard?: ShardDocument['shard']; wallMs?: number };
  return {
    path,
    seed: document.seed as number,
    runs: ((document.runs as RunResult[]) ?? []).map((r) => ({ ...r, title: r.title ?? '', endTime: r.endTime ?? 0 })),
    errors: (document.errors as ShardDocument['errors']) ?? [],
    shard: meta.shard ?? null,
    wallMs: meta.wallMs ?? 0,
  };
}

export function runMerge(io: Io, options: MergeOptions): number {
  const jsonFile = fileOption(options.jsonFile, '--json-file');
  const junit = fileOption(options.junit, '--junit');
  const targets: OutputTarget[] = [...(jsonFile ? [{ flag: '--json-file', path: jsonFile }] : []), ...(junit ? [{ flag: '--junit', path: junit }] : [])];
  checkOutputs(targets, options.files, options.force === true);
  const shards = options.files.map(read);
  const seeds = [...new Set(shards.map((s) => s.seed))];
  if (seeds.length > 1) throw new UsageError(`merge: the inputs were run with different seeds (${seeds.join(', ')}); merge shards of one run`);
  const sharded = shards.filter((s) => s.shard !== null);
  if (sharded.length > 0) {
    const count = sharded[0]!.shard!.count;
    if (sharded.length !== shards.length || sharded.some((s) => s.shard!.count !== count)) throw new UsageError('merge: the inputs are not the shards of one run (mixed --shard counts, or unsharded output among them)');
    shards.sort((a, b) => a.shard!.index - b.shard!.index);
    for (let i = 1; i <= count; i++) {
      const found = shards.filter((s) => s.shard!.index === i);
      if (found.length !== 1) throw new UsageError(`merge: shard ${i}/${count} is ${found.length === 0 ? 'missing' : `given ${found.length} times (${found.map((s) => s.path).join(', ')})`}`);
    }
    const runs = shards.reduce((n, s) => n + s.runs.length, 0);
    const of = sharded[0]!.shard!.of;
    if (runs !== of && shards.every((s) => s.errors.length === 0)) throw new UsageError(`merge: the shards hold ${runs} runs, but the run planned ${of}; was one cut short (--bail)?`);
  }
  const seen = new Set<string>();
  const runs: RunResult[] = [];
  for (const shard of shards) {
    for (const run of shard.runs) {
      const key = `${run.file}\u0000${JSON.stringify(run.variant)}`;
      if (seen.has(key)) throw new UsageError(`merge: ${run.scenario} [${JSON.stringify(run.variant)}] appears twice (${shard.path}); the inputs overlap`);
      seen.add(key);
      runs.push(run);
    }
  }
  const errorKeys = new Set<string>();
  const failures: ScenarioFailure[] = [];
  for (const e of shards.flatMap((s) => s.errors)) {
    const key = `${e.file}\u0000${JSON.stringify(e.variant)}\u0000${e.message}`;
    if (errorKeys.has(key)) continue;
    errorKeys.add(key);
    failures.push({ ...e, diagnostics: e.diagnostics.map((d) => ({ ...d, file: e.file })) });
  }
  const seed = seeds[0] ?? 1;
  let text = '';
  const json = jsonStream((chunk) => (text += chunk), seed);
  for (const run of runs) json.run(run);
  json.end(failures, { wallMs: shards.reduce((n, s) => n + s.wallMs, 0), jobs: 1, merged: shards.length });
  if (jsonFile === undefined) io.out(text);
  else io.writeFile(jsonFile, text);
  if (junit !== undefined) io.writeFile(junit, renderJunit({ seed, runs, failures, meta: { wallMs: 0, jobs: 1 } }));
  if (jsonFile !== undefined || junit !== undefined) io.err(`merged ${shards.length} file(s): ${runs.length} runs, ${failures.length} error(s) → ${[jsonFile, junit].filter(Boolean).join(', ')}`);
  return countsExitCode({ runs: runs.length, passed: runs.filter((r) => r.pass).length, failures: failures.length, crashed: failures.filter((f) => f.kind === 'crashed').length });
}
