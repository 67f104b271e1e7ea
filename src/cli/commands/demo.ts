import Table from 'cli-table3';
import { runDemo } from '../../scenario/demo.ts';
import { ExitCode } from '../exit.ts';
import type { Io } from '../io.ts';
import { seedOf } from '../options.ts';

export function runDemoCommand(io: Io, options: { paths: string[]; seed: unknown }): number {
  const seed = seedOf(options.seed);
  io.out(`tlplab demo (seed ${seed}): the scenario runner is not built yet; routing the built-in demo TLPs.`);
  const table = new Table({ head: ['variant', 'TLP', 'outcome', 'reason', 'decided at', 't (ns)'] });
  for (const row of runDemo()) table.push([row.variant, row.tlp, row.outcome, row.reason, row.decidedAt, row.timeNs]);
  io.out(table.toString());
  return ExitCode.ok;
}
