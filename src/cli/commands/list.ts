/** `tlplab list [paths…]`: the scenarios, their variants and what each is expected to give — nothing runs. */
import Table from 'cli-table3';
import pc from 'picocolors';
import { ScenarioError } from '../../scenario/diagnostics.ts';
import { BUILT_IN_LIBRARY, discoverScenarios, planSuite } from '../../scenario/suite.ts';
import { assignmentAt, matches } from '../../scenario/variants.ts';
import { formatValue, shortAxis } from '../../report/variant-text.ts';
import { ExitCode } from '../exit.ts';
import type { Io } from '../io.ts';
import { patternOption, variantFilter } from '../options.ts';
import { jsonTarget } from './explain.ts';

export interface ListOptions {
  readonly paths: readonly string[];
  readonly variant?: unknown;
  readonly filter?: unknown;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
}

interface Listed {
  readonly file: string;
  readonly name: string;
  readonly title: string;
  readonly variants: readonly { readonly variant: Record<string, unknown>; readonly expected: string; readonly rule: number; readonly because: string | null }[];
}

export function runList(io: Io, options: ListOptions): number {
  const files = discoverScenarios(options.paths.length > 0 ? options.paths : [BUILT_IN_LIBRARY]);
  const json = jsonTarget(io, options, files);
  const { planned } = planSuite(files, { filter: variantFilter(options.variant), pattern: patternOption(options.filter) });
  const listed: Listed[] = [];
  const errors: { file: string; message: string }[] = [];
  for (const item of planned) {
    if ('failure' in item) {
      errors.push({ file: item.file, message: item.failure.message });
      continue;
    }
    let loaded;
    try {
      loaded = item.opened.check();
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      errors.push({ file: item.file, message: error.message });
      continue;
    }
    const variants = item.indices.map((index) => {
      const { assignment } = assignmentAt(loaded.axes, index);
      const rule = loaded.rules.findIndex((r) => matches(r, assignment));
      return { variant: { ...assignment }, expected: loaded.rules[rule]!.verdict, rule, because: loaded.rules[rule]!.because };
    });
    listed.push({ file: item.file, name: loaded.name, title: loaded.title, variants });
  }
  if (json) json({ schema: 'tlplab/list-v1', scenarios: listed, errors });
  else io.out(render(listed, errors, io.color));
  return errors.length > 0 ? ExitCode.usage : ExitCode.ok;
}

function render(listed: readonly Listed[], errors: readonly { file: string; message: string }[], color: boolean): string {
  const paint = pc.createColors(color);
  const out: string[] = [];
  for (const s of listed) {
    out.push(`${paint.bold(`${s.name} — ${s.title}`)}  ${s.file}`);
    const axes = Object.keys(s.variants[0]!.variant);
    const table = new Table({ head: [...axes.map(shortAxis), 'expected', 'rule'], style: color ? { head: ['cyan'] } : { head: [], border: [] } });
    for (const v of s.variants) table.push([...axes.map((a) => formatValue(v.variant[a])), v.expected, `expect[${v.rule}]${v.because ? ` ${v.because}` : ''}`]);
    out.push(table.toString(), '');
  }
  for (const e of errors) out.push(paint.red(`invalid scenario ${e.file}:`), e.message.split('\n').map((l) => `  ${l}`).join('\n'), '');
  const variants = listed.reduce((n, s) => n + s.variants.length, 0);
  out.push(`${listed.length} scenario(s), ${variants} variant(s)${errors.length ? `, ${errors.length} invalid` : ''}`);
  return `${out.join('\n')}\n`;
}
