/**
 * `tlplab hunt <scenario.yaml | lspci dump>`: every way the attacker's
 * devices reach what they do not own, each with a minimal reproducer
 * (`--write-repro DIR` writes them, each replayed from its YAML). Exit 1
 * when anything is found, 0 when nothing is.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { keyOfFinding } from '../../hunt/hunt.ts';
import type { InputSpec } from '../../hunt/input.ts';
import { DEFAULT_HUNT, type HuntOptions, type HuntResult } from '../../hunt/model.ts';
import { reproFile } from '../../hunt/repro.ts';
import { runHunt } from '../../hunt/session.ts';
import { renderHuntHtml } from '../../report/html-hunt.ts';
import { countFindings, renderHuntJson, renderHuntMarkdown, renderHuntText } from '../../report/hunt-text.ts';
import { huntExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { fileOption, listOption, nonNegativeInteger, positiveInteger, seedOf, variantFilter } from '../options.ts';
import { checkOutputs } from '../output.ts';
import { existsSync, readFileSync } from 'node:fs';

export interface HuntCommandOptions {
  readonly input: string;
  readonly seed?: unknown;
  readonly budget?: unknown;
  readonly variant?: unknown;
  readonly json?: unknown;
  readonly jsonFile?: unknown;
  readonly force?: unknown;
  readonly markdown?: unknown;
  readonly html?: unknown;
  readonly writeRepro?: unknown;
  readonly jobs?: unknown;
  readonly attacker?: unknown;
  readonly iommu?: unknown;
  readonly interruptRemapping?: unknown;
  readonly nosid?: boolean;
  /** false with --no-own-steps. */
  readonly ownSteps?: boolean;
}

/** The input and hunt options from the flags (shared with harden). */
export function huntInputOf(options: Omit<HuntCommandOptions, 'json' | 'jsonFile' | 'force' | 'markdown' | 'html' | 'writeRepro'>): { spec: InputSpec; hunt: HuntOptions; jobs: number } {
  const iommu = String(options.iommu ?? 'vtd');
  if (iommu !== 'vtd' && iommu !== 'amd-vi' && iommu !== 'none') throw new UsageError(`--iommu must be vtd, amd-vi or none, got '${iommu}'`);
  const ir = String(options.interruptRemapping ?? 'on');
  if (ir !== 'on' && ir !== 'off') throw new UsageError(`--interrupt-remapping must be on or off, got '${ir}'`);
  return {
    spec: {
      path: options.input,
      variants: variantFilter(options.variant),
      dump: { iommu, interruptRemapping: ir === 'on' && iommu !== 'none', sourceIdValidation: options.nosid !== true },
      attackers: listOption(options.attacker),
    },
    hunt: {
      ...DEFAULT_HUNT,
      seed: seedOf(options.seed ?? 1),
      budget: options.budget === undefined ? DEFAULT_HUNT.budget : nonNegativeInteger(options.budget, '--budget'),
      ownSteps: options.ownSteps !== false,
    },
    jobs: options.jobs === undefined ? 1 : positiveInteger(options.jobs, '--jobs'),
  };
}

export async function runHuntCommand(io: Io, options: HuntCommandOptions): Promise<number> {
  const { spec, hunt, jobs } = huntInputOf(options);
  if (options.writeRepro !== undefined && (typeof options.writeRepro !== 'string' || options.writeRepro === '')) throw new UsageError('--write-repro needs a directory, e.g. --write-repro repros/');
  const outputs = reportOutputs(options, options.input);
  const result = await runHunt(spec, hunt, { jobs, clock: () => performance.now() });
  if (typeof options.writeRepro === 'string') writeRepros(io, result, options.writeRepro, options.force === true);
  if (outputs.json !== undefined) io.writeFile(outputs.json, renderHuntJson(result));
  if (options.json === true) io.out(renderHuntJson(result));
  else io.out(renderHuntText(result, { color: io.color }));
  if (outputs.markdown !== undefined) io.writeFile(outputs.markdown, renderHuntMarkdown(result));
  if (outputs.html !== undefined) io.writeFile(outputs.html, renderHuntHtml(result));
  return huntExitCode(countFindings(result));
}

/** --json-file, --markdown and --html, checked before anything runs (never the input, never an unrelated file without --force). */
export function reportOutputs(options: { jsonFile?: unknown; markdown?: unknown; html?: unknown; force?: unknown }, input: string): { json?: string; markdown?: string; html?: string } {
  const outputs = { json: fileOption(options.jsonFile, '--json-file'), markdown: fileOption(options.markdown, '--markdown'), html: fileOption(options.html, '--html') };
  const targets = Object.entries(outputs).flatMap(([flag, path]) => (path === undefined ? [] : [{ flag: flag === 'json' ? '--json-file' : `--${flag}`, path }]));
  checkOutputs(targets, [input], options.force === true);
  return Object.fromEntries(Object.entries(outputs).filter(([, path]) => path !== undefined));
}

/** Each finding's reproducer as DIR/<name>.yaml, replayed from the YAML written; an existing file is replaced only if hunt wrote it, or with --force. */
function writeRepros(io: Io, result: HuntResult, dir: string, force: boolean): void {
  for (const t of result.targets) {
    for (const f of t.findings) {
      const { yaml, replayed } = reproFile(f.repro, keyOfFinding(f), result.seed);
      const file = join(dir, `${f.repro.name}.yaml`);
      refuseForeignYaml(file, force, 'hunt');
      io.writeFile(file, yaml);
      f.repro.file = file;
      f.repro.replayed = replayed;
    }
  }
}

/** A YAML file we are about to write over: only one tlplab wrote (its header says so), unless --force. */
export function refuseForeignYaml(file: string, force: boolean, by: 'hunt' | 'harden'): void {
  if (force || !existsSync(file)) return;
  const head = readFileSync(file, 'utf8').slice(0, 400);
  if (!/^# .*(reproducer written by tlplab hunt|Hardened by tlplab harden)/m.test(head)) {
    throw new UsageError(`${file}: the file exists and was not written by tlplab ${by}; refusing to overwrite it (pass --force to replace it)`, 'OUTPUT_PATH');
  }
}
