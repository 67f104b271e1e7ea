/** The command table: each command parses its flags here and hands typed options to its module. */
import type { CAC } from 'cac';
import type { Io } from './io.ts';
import { runDemoCommand } from './commands/demo.ts';
import { runBench } from './commands/bench.ts';
import { runGroups } from './commands/groups.ts';

export type Complete = (exitCode: Promise<number> | number) => void;

export function registerCommands(cli: CAC, io: Io, complete: Complete): void {
  cli
    .command('run [...paths]', 'Run scenarios and print the isolation matrix (default: scenarios/)')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .action((paths: string[], options: { seed: unknown }) => complete(runDemoCommand(io, { paths, seed: options.seed })));

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
