/** `tlplab explain <file>` and `tlplab send <file> …`: why each TLP went where it went. */
import { loadScenarioFile, type LoadedScenario, type ScenarioVariant } from '../../scenario/load.ts';
import { explainVariant, sendWhatIf } from '../../scenario/explain.ts';
import { storyOfVariant } from '../../scenario/run-story.ts';
import { selectVariants } from '../../scenario/suite.ts';
import { parseQuantity } from '../../scenario/units.ts';
import { renderExplanation, renderSend } from '../../report/explain.ts';
import { renderRunSvg } from '../../report/svg-run.ts';
import { describeVariant } from '../../report/variant-text.ts';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { seedOf, variantFilter } from '../options.ts';

export interface ExplainOptions {
  readonly file: string;
  readonly seed: unknown;
  readonly variant?: unknown;
  readonly json?: boolean;
  /** Write the selected run's picture (one variant) as SVG. */
  readonly svg?: unknown;
  /** false with --no-color. */
  readonly color?: boolean;
}

function variantsOf(loaded: LoadedScenario, filter: Record<string, string>): ScenarioVariant[] {
  for (const axis of Object.keys(filter)) {
    if (!loaded.axes.some((a) => a.name === axis)) {
      throw new UsageError(`--variant ${axis}: not a variant axis of ${loaded.file} (axes: ${loaded.axes.map((a) => a.name).join(', ') || 'none'})`);
    }
  }
  const variants = selectVariants(loaded, filter);
  if (variants.length === 0) throw new UsageError(`no variant of ${loaded.file} matches ${Object.entries(filter).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return variants;
}

export async function runExplain(io: Io, options: ExplainOptions): Promise<number> {
  const seed = seedOf(options.seed);
  const loaded = loadScenarioFile(options.file);
  const variants = variantsOf(loaded, variantFilter(options.variant));
  if (options.svg !== undefined) {
    if (typeof options.svg !== 'string' || options.svg === '') throw new UsageError('--svg needs a file name, e.g. --svg run.svg');
    if (variants.length !== 1) {
      throw new UsageError(`--svg draws one run, and ${variants.length} variants match; pin one with --variant (e.g. ${describeVariant(variants[0]!.assignment).split(', ').map((v) => `--variant ${v}`).join(' ')})`);
    }
  }
  const explanations = variants.map((v) => explainVariant(loaded, v, seed));
  if (typeof options.svg === 'string') io.writeFile(options.svg, await renderRunSvg(storyOfVariant(loaded, variants[0]!, seed), loaded.title));
  if (options.json) io.out(`${JSON.stringify({ schema: 'tlplab/explain-v1', seed, explanations: explanations.map((e) => ({ ...e, bdfs: Object.fromEntries(e.bdfs) })) }, null, 2)}\n`);
  else io.out(explanations.map((e) => renderExplanation(e, { color: io.color && options.color !== false })).join('\n'));
  return ExitCode.ok;
}

export interface SendOptions {
  readonly file: string;
  readonly from?: unknown;
  readonly write?: unknown;
  readonly read?: unknown;
  readonly data?: unknown;
  readonly as?: unknown;
  readonly translated?: boolean;
  readonly variant?: unknown;
  readonly seed: unknown;
  readonly json?: boolean;
}

export function runSend(io: Io, options: SendOptions): number {
  const seed = seedOf(options.seed);
  if (typeof options.from !== 'string') throw new UsageError('send needs --from <device>');
  if ((options.write === undefined) === (options.read === undefined)) throw new UsageError('send needs exactly one of --write ADDR or --read ADDR');
  const addressText = options.write ?? options.read;
  const address = parseQuantity(typeof addressText === 'number' ? addressText : String(addressText));
  if (address === undefined) throw new UsageError(`'${String(addressText)}' is not an address (write 0xfee00000 or 4096)`);
  const data = options.data === undefined ? 0 : parseQuantity(typeof options.data === 'number' ? options.data : String(options.data));
  if (data === undefined) throw new UsageError(`--data '${String(options.data)}' is not a number`);
  const loaded = loadScenarioFile(options.file);
  const variants = variantsOf(loaded, variantFilter(options.variant));
  if (variants.length > 1) {
    throw new UsageError(`${variants.length} variants match; pin one with --variant (e.g. ${describeVariant(variants[0]!.assignment).split(', ').join(' --variant ')})`);
  }
  const result = sendWhatIf(variants[0]!, seed, {
    from: options.from,
    op: options.write !== undefined ? 'write' : 'read',
    address,
    data,
    as: options.as === undefined ? null : String(options.as),
    translated: options.translated === true,
  });
  io.out(options.json ? `${JSON.stringify(result, null, 2)}\n` : renderSend(result, { color: io.color }));
  return ExitCode.ok;
}
