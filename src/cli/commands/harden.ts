/**
 * `tlplab harden <scenario.yaml | lspci dump>`: the smallest sets of
 * configuration changes under which hunt finds nothing, ranked fewest
 * changes first then cheapest, each change with what it costs; `--write`
 * writes the hardened scenario (a new file: never the input). Exit 0 when
 * every configuration is isolated or has a hardening, 1 when one has none.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_HARDEN } from '../../hunt/harden/search.ts';
import { runHarden, type HardenResult } from '../../hunt/harden/session.ts';
import { renderHardenJson, renderHardenMarkdown, renderHardenText } from '../../report/harden-text.ts';
import { huntExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { positiveInteger } from '../options.ts';
import { huntInputOf, refuseForeignYaml, reportOutputs, type HuntCommandOptions } from './hunt.ts';

export interface HardenCommandOptions extends Omit<HuntCommandOptions, 'html' | 'writeRepro' | 'jobs'> {
  readonly write?: unknown;
  readonly maxChanges?: unknown;
}

/** Random probes per hunt when --budget is not given: harden runs many hunts. */
const HARDEN_BUDGET = 50;

export function runHardenCommand(io: Io, options: HardenCommandOptions): number {
  const { spec, hunt } = huntInputOf({ ...options, budget: options.budget ?? HARDEN_BUDGET });
  const maxChanges = options.maxChanges === undefined ? DEFAULT_HARDEN.maxChanges : positiveInteger(options.maxChanges, '--max-changes');
  const outputs = reportOutputs(options, options.input);
  const result = runHarden(spec, hunt, { ...DEFAULT_HARDEN, maxChanges }, () => performance.now());
  if (options.write !== undefined && options.write !== false) writeHardened(io, result, options.input, options.write === true ? null : String(options.write), options.force === true);
  if (outputs.json !== undefined) io.writeFile(outputs.json, renderHardenJson(result));
  if (options.json === true) io.out(renderHardenJson(result));
  else io.out(renderHardenText(result, { color: io.color }));
  if (outputs.markdown !== undefined) io.writeFile(outputs.markdown, renderHardenMarkdown(result));
  return huntExitCode(result.targets.filter((t) => t.status === 'no-solution').length);
}

/**
 * The hardened scenario of each configuration that has one: to `path`
 * (a .yaml file, for one configuration, or a directory), by default
 * beside the input as <name>-hardened.yaml. Never the input itself.
 */
function writeHardened(io: Io, result: HardenResult, input: string, path: string | null, force: boolean): void {
  const ready = result.targets.filter((t) => t.hardened !== null);
  if (ready.length === 0) return;
  const toFile = path !== null && /\.ya?ml$/i.test(path);
  if (toFile && ready.length > 1) throw new UsageError(`--write ${path}: ${ready.length} configurations were hardened; give a directory, or pick one with --variant`);
  const dir = path === null ? dirname(input) : toFile ? null : path;
  if (dir !== null && path !== null && existsSync(path) && !statSync(path).isDirectory()) throw new UsageError(`--write ${path}: not a directory`);
  for (const t of ready) {
    const file = toFile ? path! : join(dir!, `${t.hardened!.name}.yaml`);
    if (resolve(file) === resolve(input)) throw new UsageError(`--write would overwrite the input ${input}; give another path`);
    refuseForeignYaml(file, force, 'harden');
    io.writeFile(file, t.hardened!.yaml);
    t.written = file;
  }
}
