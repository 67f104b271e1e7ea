/** The command table: each command parses its flags here and hands typed options to its module. */
import type { CAC } from 'cac';
import type { Io } from './io.ts';
import { runRun, type RunOptions } from './commands/run.ts';
import { UsageError } from './exit.ts';
import { runExplain, runSend } from './commands/explain.ts';
import { runAudit, type AuditCommandOptions } from './commands/audit.ts';
import { runBench, type BenchFlags } from './commands/bench.ts';
import { runGroups, type GroupsOptions } from './commands/groups.ts';

export type Complete = (exitCode: Promise<number> | number) => void;

/** The same Io with the table kept off stdout (report writes files only). */
function quiet(io: Io): Io {
  return { ...io, out: () => undefined };
}

export function registerCommands(cli: CAC, io: Io, complete: Complete): void {
  cli
    .command('run [...paths]', 'Run scenarios and print the isolation matrix (default: the built-in attack library)')
    .option('--seed <n>', 'Seed for the simulation RNG (always printed)', { default: 1 })
    .option('--seeds <A..B>', 'Run every seed from A to B and report runs whose outcome depends on the seed (races); exit 1 if any seed misses an expectation')
    .option('--json [file]', 'Print JSON (tlplab/run-v1) instead of the table, or also write it to a file')
    .option('--junit <file>', 'Write JUnit XML: one testcase per scenario × variant')
    .option('--variant <axis=value>', 'Only run variants with this axis value (repeatable)')
    .option('--verbose', 'Explain every run, not only those that missed their expectation')
    .option('--jobs <n>', 'Run variants on n worker threads (output is the same as with 1)')
    .option('--shard <i/n>', 'Run only the i-th of n slices of the scenario files (for parallel CI jobs)')
    .option('--html <file>', 'Also write the matrix as a self-contained HTML page')
    .option('--markdown <file>', 'Also write the matrix as Markdown')
    .action((paths: string[], options: Omit<RunOptions, 'paths'>) => complete(runRun(io, { paths, ...options })));

  cli
    .command('report [...paths]', 'Run scenarios and write the matrix as HTML (--html out.html) and/or Markdown (--markdown out.md)')
    .option('--html <file>', 'Write a self-contained HTML page')
    .option('--markdown <file>', 'Write Markdown')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .option('--variant <axis=value>', 'Only run variants with this axis value (repeatable)')
    .option('--jobs <n>', 'Run variants on n worker threads')
    .action((paths: string[], options: Omit<RunOptions, 'paths'>) => {
      if (options.html === undefined && options.markdown === undefined) throw new UsageError('report needs --html <file> and/or --markdown <file>');
      complete(runRun(quiet(io), { paths, ...options }));
    });

  cli
    .command('explain <scenario>', 'Replay a scenario TLP by TLP, printing the rule that decided each hop')
    .option('--variant <axis=value>', 'Which variant (repeatable; default: every variant)')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .option('--json', 'Print the explanation as JSON')
    .option('--svg <file>', "Also write the run's picture (machine, groups, ACS, its TLPs' paths) as SVG; needs one variant")
    .option('--no-color', 'No colour (also: NO_COLOR set, or output not a terminal)')
    .action((file: string, options: { variant?: unknown; seed: unknown; json?: boolean; svg?: unknown; color?: boolean }) => complete(runExplain(io, { file, ...options })));

  cli
    .command('send <scenario>', 'Send one what-if TLP on a scenario machine and show where it goes')
    .option('--from <device>', 'Issuing device')
    .option('--write <addr>', 'Memory write to this address')
    .option('--read <addr>', 'Memory read at this address')
    .option('--data <d>', 'Write payload (DWORD)')
    .option('--as <bdf>', 'Forged requester ID')
    .option('--translated', 'AT = translated')
    .option('--variant <axis=value>', 'Which variant (repeatable; must select exactly one)')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .option('--json', 'Print { schema: "tlplab/send-v1", outcome, reason, faultCode, path }')
    .action((file: string, options: Omit<Parameters<typeof runSend>[1], 'file'>) => complete(runSend(io, { file, ...options })));

  cli
    .command('audit [lspci-dump]', 'Run the library\'s attacks against a real machine: an lspci -vvv dump (as root) or --sysfs [/sys]')
    .option('--sysfs [root]', 'Read the machine from sysfs (default /sys): config space, resources, drivers, groups, /proc/cmdline')
    .option('--iommu <model>', 'vtd | amd-vi | none (lspci does not show it)', { default: 'vtd' })
    .option('--interrupt-remapping <on|off>', 'Whether interrupt remapping is on (dmesg: DMAR-IR); default on, or off with intremap=off on a live host')
    .option('--nosid', 'intremap=nosid: no source-ID validation')
    .option('--kernel <version>', 'Linux release whose ACS quirks and grouping to use (e.g. 5.9); default: the newest modelled')
    .option('--acs-override <value>', 'What-if pcie_acs_override=downstream,multifunction,id:vvvv:dddd: which P2P paths it leaves open')
    .option('--json [file]', 'Print { schema: "tlplab/audit-v1", findings, groups, … }, or also write it to a file')
    .option('--markdown <file>', 'Write the audit report as Markdown')
    .action((path: string | undefined, options: Omit<AuditCommandOptions, 'path'>) => complete(runAudit(io, { ...(path !== undefined ? { path } : {}), ...options })));

  cli
    .command('bench', 'Measure speed and memory against their targets (flood vs a bare event loop, groups, in-flight memory)')
    .option('--json', 'Print the figures as one JSON object (tlplab/bench-v1)')
    .option('--check', 'Exit 1 when a measured target is missed')
    .option('--endpoints <n>', 'Flood: endpoints (default 64)')
    .option('--tlps <n>', 'Flood: writes per endpoint (default 2000)')
    .option('--devices <n>', 'Groups: functions of the generated machine (default 10000)')
    .option('--in-flight <n>', 'Memory: TLPs in flight, a multiple of 64 (default 1000000)')
    .option('--runs <n>', 'Timed runs per figure; the median is reported (default 5)')
    .option('--warmups <n>', 'Untimed runs first (default 2)')
    .option('--events <n>', 'Events per kernel micro-benchmark run (default 1000000)')
    .action((options: BenchFlags) => complete(runBench(io, options)));

  cli
    .command('groups [...input]', 'IOMMU groups Linux would form for a scenario (topology.yaml), an lspci dump, or --sysfs [/sys]')
    .option('--algorithm <name>', 'classic | per-bus | both', { default: 'classic' })
    .option('--json', 'Print { schema: "tlplab/groups-v1", algorithm, groups, unknown }')
    .option('--why', 'For every group of more than one device, the facts that merged it (and the quirks that applied)')
    .option('--kernel <version>', 'The ACS quirk table of this Linux release (e.g. 5.9); default: the newest modelled, or the running one with --sysfs')
    .option('--diff-kernel <a>', 'Which groups change between two releases, and why: --diff-kernel 5.8 5.9')
    .option('--sysfs [root]', 'Read this machine from sysfs (default /sys) and compare with its live groups')
    .option('--compare <file>', 'Compare with a kernel group listing (sysfs script output, IOMMU group: lines, dmesg); exit 1 on mismatch')
    .option('--acs-override <value>', 'Model pcie_acs_override=downstream,multifunction,id:vvvv:dddd')
    .option('--config-acs <value>', 'Model pci=config_acs=<flags>@<device>[;...]')
    .option('--variant <axis=value>', 'For a scenario: which variant (default: the first)')
    .action((inputs: string[], options: Omit<GroupsOptions, 'path' | 'rest'>) => {
      // `--diff-kernel A B`: B arrives as a positional argument.
      const versionLast = options.diffKernel !== undefined && inputs.length > 0 && /^v?\d+\.\d+/.test(inputs.at(-1)!) && (inputs.length > 1 || options.sysfs !== undefined);
      const rest = versionLast ? [inputs.at(-1)!] : inputs.slice(1);
      const path = versionLast ? (inputs.length > 1 ? inputs[0] : undefined) : inputs[0];
      if (!versionLast && rest.length > 0) throw new UsageError(`groups takes one input, got ${inputs.length}: ${inputs.join(' ')}`);
      complete(runGroups(io, { ...(path !== undefined ? { path } : {}), rest, ...options }));
    });
}
