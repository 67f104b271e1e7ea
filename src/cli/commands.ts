/** The command table: each command parses its flags here and hands typed options to its module. */
import type { CAC } from 'cac';
import type { Io } from './io.ts';
import { runRun } from './commands/run.ts';
import { runBench } from './commands/bench.ts';
import { runGroups } from './commands/groups.ts';

export type Complete = (exitCode: Promise<number> | number) => void;

export function registerCommands(cli: CAC, io: Io, complete: Complete): void {
  cli
    .command('run [...paths]', 'Run scenarios and print the isolation matrix (default: scenarios/)')
    .option('--seed <n>', 'Seed for the simulation RNG (always printed)', { default: 1 })
    .option('--json [file]', 'Print JSON (tlplab/run-v1) instead of the table, or also write it to a file')
    .option('--junit <file>', 'Write JUnit XML: one testcase per scenario × variant')
    .option('--variant <axis=value>', 'Only run variants with this axis value (repeatable)')
    .option('--verbose', 'Explain every run, not only those that missed their expectation')
    .action((paths: string[], options: { seed: unknown; json?: boolean | string; junit?: unknown; variant?: unknown; verbose?: boolean }) =>
      complete(runRun(io, { paths, ...options })),
    );

  cli
    .command('bench', 'Measure simulation speed against a bare event loop in the same process')
    .option('--json', 'Print figures as JSON')
    .option('--events <n>', 'Events per kernel run', { default: 1_000_000 })
    .action((options: { json?: boolean; events: unknown }) => complete(runBench(io, options)));

  cli
    .command('groups <input>', 'IOMMU groups Linux would form for an lspci dump (topology.yaml once the scenario loader lands)')
    .option('--algorithm <name>', 'classic | per-bus | both', { default: 'classic' })
    .option('--json', 'Print { schema: "tlplab/groups-v1", algorithm, groups, unknown }')
    .option('--compare <file>', 'Compare with a kernel group listing (sysfs script output, IOMMU group: lines, dmesg); exit 1 on mismatch')
    .option('--acs-override <value>', 'Model pcie_acs_override=downstream,multifunction,id:vvvv:dddd')
    .option('--config-acs <value>', 'Model pci=config_acs=<flags>@<device>[;...]')
    .action((input: string, options: { algorithm?: unknown; json?: boolean; compare?: unknown; acsOverride?: unknown; configAcs?: unknown }) =>
      complete(runGroups(io, { path: input, ...options })),
    );
}
