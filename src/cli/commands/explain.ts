/** `tlplab explain <file>` and `tlplab send <file> …`: why each TLP went where it went. */
import { loadScenarioFile, type LoadedScenario, type ScenarioVariant } from '../../scenario/load.ts';
import { explainVariant, sendWhatIf } from '../../scenario/explain.ts';
import { storyOfVariant } from '../../scenario/run-story.ts';
import { selectVariants } from '../../scenario/suite.ts';
import { quantityProblem, readQuantity, readRequestAddress } from '../../scenario/units.ts';
import { renderExplanation, renderSend } from '../../report/explain.ts';
import { renderRunSvg } from '../../report/svg-run.ts';
import { describeVariant } from '../../report/variant-text.ts';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { checkOutputs } from '../output.ts';
import { fileOption, patternOption, seedOf, variantFilter } from '../options.ts';

export interface ExplainOptions {
  readonly file: string;
  readonly seed?: unknown;
  readonly variant?: unknown;
  readonly filter?: unknown;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
  /** Write the selected run's picture (one variant) as SVG. */
  readonly svg?: unknown;
  readonly force?: unknown;
}

/** JSON to stdout (--json) or to a file (--json-file / --json=FILE), checked before any work. */
export function jsonTarget(io: Io, options: { json?: unknown; jsonFile?: unknown; force?: unknown }, inputs: readonly string[]): ((document: unknown) => void) | null {
  const file = fileOption(options.jsonFile, '--json-file');
  if (file !== undefined) {
    checkOutputs([{ flag: '--json-file', path: file }], inputs, options.force === true);
    return (document) => io.writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  }
  return options.json === true ? (document) => io.out(`${JSON.stringify(document, null, 2)}\n`) : null;
}

function variantsOf(loaded: LoadedScenario, options: { variant?: unknown; filter?: unknown }): ScenarioVariant[] {
  return selectVariants(loaded, variantFilter(options.variant), patternOption(options.filter));
}

/** Exit 1 when any explained run is not as its scenario expects (as `run` would). */
export async function runExplain(io: Io, options: ExplainOptions): Promise<number> {
  const seed = seedOf(options.seed ?? 1);
  const json = jsonTarget(io, options, [options.file]);
  const svg = fileOption(options.svg, '--svg');
  if (svg !== undefined) checkOutputs([{ flag: '--svg', path: svg }], [options.file], options.force === true);
  const loaded = loadScenarioFile(options.file);
  const variants = variantsOf(loaded, options);
  if (svg !== undefined && variants.length !== 1) {
    throw new UsageError(`--svg draws one run, and ${variants.length} variants match; pin one with --variant (e.g. ${describeVariant(variants[0]!.assignment).split(', ').map((v) => `--variant ${v}`).join(' ')})`);
  }
  const explanations = variants.map((v) => explainVariant(loaded, v, seed));
  if (svg !== undefined) io.writeFile(svg, await renderRunSvg(storyOfVariant(loaded, variants[0]!, seed), loaded.title));
  if (json) json({ schema: 'tlplab/explain-v1', seed, explanations: explanations.map((e) => ({ ...e, bdfs: Object.fromEntries(e.bdfs) })) });
  else io.out(explanations.map((e) => renderExplanation(e, { color: io.color })).join('\n'));
  return explanations.every((e) => e.result.pass) ? ExitCode.ok : ExitCode.expectationFailed;
}

export interface SendOptions {
  readonly file: string;
  readonly from?: unknown;
  readonly write?: unknown;
  readonly read?: unknown;
  readonly data?: unknown;
  readonly as?: unknown;
  readonly translated?: boolean;
  readonly expect?: unknown;
  readonly variant?: unknown;
  readonly seed?: unknown;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
}

/** An address or value flag, read exactly as scenario files are (units.ts): 64-bit limit, no rounding. */
function numberFlag(value: unknown, flag: string, example: string): number {
  const parsed = readQuantity(typeof value === 'number' ? value : String(value));
  if (!parsed.ok) throw new UsageError(`${flag} '${String(value)}' ${parsed.reason === 'malformed' ? `is not a number (write ${example})` : quantityProblem(parsed)}`);
  return parsed.value;
}

/** A request address: any 64-bit value, exact (units.ts readRequestAddress). */
function addressFlag(value: unknown, flag: string): { address: number; exact: string | null } {
  const parsed = readRequestAddress(typeof value === 'number' ? value : String(value));
  if (!parsed.ok) throw new UsageError(`${flag} '${String(value)}' ${parsed.reason === 'malformed' ? 'is not an address (write 0xfee00000 or 4096)' : quantityProblem(parsed)}`);
  return { address: parsed.value, exact: parsed.exact };
}

export function runSend(io: Io, options: SendOptions): number {
  const seed = seedOf(options.seed ?? 1);
  if (typeof options.from !== 'string') throw new UsageError('send needs --from <device>');
  if ((options.write === undefined) === (options.read === undefined)) throw new UsageError('send needs exactly one of --write ADDR or --read ADDR');
  const expect = options.expect === undefined ? undefined : String(options.expect);
  if (expect !== undefined && expect !== 'isolated' && expect !== 'breached') throw new UsageError(`--expect must be isolated or breached, got '${expect}'`);
  const { address, exact } = addressFlag(options.write ?? options.read, options.write !== undefined ? '--write' : '--read');
  const data = options.data === undefined ? 0 : numberFlag(options.data, '--data', '0x30');
  const json = jsonTarget(io, options, [options.file]);
  const loaded = loadScenarioFile(options.file);
  const variants = variantsOf(loaded, options);
  if (variants.length > 1) {
    throw new UsageError(`${variants.length} variants match; pin one with --variant (e.g. --variant ${describeVariant(variants[0]!.assignment).split(', ').join(' --variant ')})`);
  }
  const result = sendWhatIf(variants[0]!, seed, {
    from: options.from,
    op: options.write !== undefined ? 'write' : 'read',
    address,
    exactAddress: exact,
    data,
    as: options.as === undefined ? null : String(options.as),
    translated: options.translated === true,
  });
  if (json) json({ ...result, ...(expect === undefined ? {} : { expected: expect, pass: result.verdict === expect }) });
  else {
    io.out(renderSend(result, { color: io.color }));
    if (expect !== undefined) io.out(`verdict: ${result.verdict.toUpperCase()} for ${result.attacker} (expected ${expect}${result.verdict === expect ? ', as expected' : ', NOT as expected'})`);
  }
  return expect === undefined || result.verdict === expect ? ExitCode.ok : ExitCode.expectationFailed;
}
