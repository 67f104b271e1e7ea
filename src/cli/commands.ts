/**
 * The command table: each command declares its flags here and hands them to
 * its module, which is imported only when the command runs (start-up cost
 * stays that of cac).
 */
import type { CAC, Command } from 'cac';
import type { Io } from './io.ts';
import { UsageError } from './exit.ts';

export type Complete = (exitCode: Promise<number> | number) => void;

export const COMMAND_NAMES = ['run', 'list', 'explain', 'send', 'groups', 'audit', 'report', 'merge', 'init', 'bench'] as const;

/** Flags shared by commands that run scenarios. */
function selection(command: Command): Command {
  return command
    .option('--variant <axis=value>', 'Only variants with this axis value, e.g. iommu.x2apic=on (repeatable; the table header spelling works)')
    .option('-t, --filter <pattern>', 'Only scenarios or variants whose name matches this regular expression')
    .option('--seed <n>', 'Seed for the simulation RNG (always printed)', { default: 1 });
}

function jsonOutput(command: Command, what: string): Command {
  return command
    .option('--json', `Print ${what} as JSON on stdout`)
    .option('--json-file <file>', `Write ${what} as JSON to a file (also --json=FILE)`);
}

const force = (command: Command) => command.option('--force', 'Allow overwriting a file that is not an earlier tlplab output');

/** `exact`: address and data flags as typed (argv.ts), which replace cac's numbers. */
export function registerCommands(cli: CAC, io: Io, complete: Complete, exact: Readonly<Record<string, string>> = {}): void {
  const run = <T>(load: () => Promise<T>, call: (module: T) => Promise<number> | number) => complete(load().then(call));

  const runCommand = selection(cli.command('run [...paths]', 'Run scenarios and print the isolation matrix (default: the built-in attack library)'));
  jsonOutput(runCommand, 'the results (tlplab/run-v1)');
  force(
    runCommand
      .option('--seeds <A..B>', 'Run every seed from A to B and report runs whose outcome depends on the seed (races); exit 1 if any seed misses an expectation')
      .option('--reporter <name>', 'pretty (default) | json (same as --json)')
      .option('--junit <file>', 'Write JUnit XML: one testcase per scenario × variant')
      .option('--html <file>', 'Also write the matrix as a self-contained HTML page')
      .option('--markdown <file>', 'Also write the matrix as Markdown')
      .option('--verbose', 'Explain every run, not only those that missed their expectation')
      .option('--bail [n]', 'Stop after the first n failed expectations or errors (default 1)')
      .option('--jobs <n>', 'Worker threads (default 1). The pool starts only from 16 000 runs, where it pays on 2 cores (BENCHMARKS.md, figure 8); below, everything runs in one thread')
      .option('--shard <i/n>', 'Run only the i-th of n equal slices of all runs (merge the outputs with tlplab merge)')
      .option('--max-runs <n>', 'Refuse a matrix of more runs than this', { default: 100_000 }),
  )
    .example('  $ tlplab run                                   # the built-in attack library')
    .example('  $ tlplab run my.yaml --variant iommu.interrupt-remapping=on')
    .example('  $ tlplab run scenarios/ -t spoofed --json > results.json')
    .example('  $ tlplab run scenarios/ --junit reports/tlplab.xml --shard 1/4')
    .action((paths: string[], options: Record<string, unknown>) =>
      run(() => import('./commands/run.ts'), (m) => m.runRun(io, { paths, ...options })),
    );

  force(
    selection(cli.command('report [...paths]', 'Run scenarios and write the matrix as HTML (--html out.html) and/or Markdown (--markdown out.md)'))
      .option('--html <file>', 'Write a self-contained HTML page')
      .option('--markdown <file>', 'Write Markdown')
      .option('--jobs <n>', 'Worker threads (the pool starts only from 16 000 runs; see run --help)')
      .option('--max-runs <n>', 'Refuse a matrix of more runs than this', { default: 100_000 }),
  )
    .example('  $ tlplab report scenarios/ --html reports/matrix.html')
    .action((paths: string[], options: Record<string, unknown>) => {
      if (options.html === undefined && options.markdown === undefined) throw new UsageError('report needs --html <file> and/or --markdown <file>');
      run(() => import('./commands/run.ts'), (m) => m.runReport(io, { paths, ...options }));
    });

  jsonOutput(
    selection(cli.command('list [...paths]', 'List scenarios, their variants and the verdict each is expected to give (runs nothing)')),
    'the list (tlplab/list-v1)',
  )
    .example('  $ tlplab list scenarios/spoofed-msi.yaml')
    .action((paths: string[], options: Record<string, unknown>) => run(() => import('./commands/list.ts'), (m) => m.runList(io, { paths, ...options })));

  jsonOutput(cli.command('explain <scenario>', 'Replay a scenario TLP by TLP, printing the rule that decided each hop (exit 1 if a run is not as expected)'), 'the explanation')
    .option('--variant <axis=value>', 'Which variant (repeatable; default: every variant)')
    .option('-t, --filter <pattern>', 'Only variants whose name matches this regular expression')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .option('--svg <file>', "Also write the run's picture (machine, groups, ACS, its TLPs' paths) as SVG; needs one variant")
    .example('  $ tlplab explain scenarios/spoofed-msi.yaml --variant iommu.interrupt-remapping=on --variant iommu.source-id-validation=on')
    .action((file: string, options: Record<string, unknown>) => run(() => import('./commands/explain.ts'), (m) => m.runExplain(io, { file, ...options })));

  jsonOutput(cli.command('send <scenario>', 'Send one what-if TLP on a scenario machine and show where it goes'), '{ schema: "tlplab/send-v1", outcome, reason, faultCode, path }')
    .option('--from <device>', 'Issuing device')
    .option('--write <addr>', 'Memory write to this address')
    .option('--read <addr>', 'Memory read at this address')
    .option('--data <d>', 'Write payload (DWORD)')
    .option('--as <bdf>', 'Forged requester ID')
    .option('--translated', 'AT = translated')
    .option('--expect <verdict>', 'isolated | breached: judge the TLP as a run would; exit 1 when it is not')
    .option('--variant <axis=value>', 'Which variant (repeatable; must select exactly one)')
    .option('--seed <n>', 'Seed for the simulation RNG', { default: 1 })
    .example('  $ tlplab send scenarios/spoofed-msi.yaml --from nic --write 0xfee00000 --data 0x30 --expect isolated \\')
    .example('      --variant iommu.interrupt-remapping=on --variant iommu.source-id-validation=on')
    .action((file: string, options: Record<string, unknown>) => run(() => import('./commands/explain.ts'), (m) => m.runSend(io, { file, ...options, ...exact })));

  force(
    jsonOutput(cli.command('audit [lspci-dump]', "Run the library's attacks against a real machine: an lspci -vvv dump (as root) or --sysfs [/sys]; exit 1 when one succeeds"), '{ schema: "tlplab/audit-v1", findings, groups, … }'),
  )
    .option('--sysfs [root]', 'Read the machine from sysfs (default /sys): config space, resources, drivers, groups, /proc/cmdline')
    .option('--iommu <model>', 'vtd | amd-vi | none (lspci does not show it)', { default: 'vtd' })
    .option('--interrupt-remapping <on|off>', 'Whether interrupt remapping is on (dmesg: DMAR-IR); default on, or off with intremap=off on a live host')
    .option('--nosid', 'intremap=nosid: no source-ID validation')
    .option('--kernel <version>', 'Linux release whose ACS quirks and grouping to use (e.g. 5.9); default: the newest modelled, or the running one with --sysfs')
    .option('--acs-override <value>', 'What-if pcie_acs_override=downstream,multifunction,id:vvvv:dddd: which P2P paths it leaves open')
    .option('--markdown <file>', 'Write the audit report as Markdown')
    .example('  $ sudo lspci -vvv > lspci.txt && tlplab audit lspci.txt --markdown audit.md')
    .example('  $ sudo tlplab audit --sysfs')
    .action((path: string | undefined, options: Record<string, unknown>) => run(() => import('./commands/audit.ts'), (m) => m.runAudit(io, { ...(path !== undefined ? { path } : {}), ...options })));

  jsonOutput(cli.command('groups [...input]', 'IOMMU groups Linux would form for a scenario (topology.yaml), an lspci dump, or --sysfs [/sys]'), '{ schema: "tlplab/groups-v1", algorithm, groups, unknown }')
    .option('--algorithm <name>', 'classic | per-bus | both', { default: 'classic' })
    .option('--why', 'For every group of more than one device, the facts that merged it (and the quirks that applied)')
    .option('--kernel <version>', 'The ACS quirk table of this Linux release (e.g. 5.9); default: the newest modelled, or the running one with --sysfs')
    .option('--diff-kernel <a>', 'Which groups change between two releases, and why: --diff-kernel 5.8 5.9')
    .option('--sysfs [root]', 'Read this machine from sysfs (default /sys) and compare with its live groups')
    .option('--compare <file>', 'Compare with a kernel group listing (sysfs script output, IOMMU group: lines, dmesg); exit 1 on mismatch')
    .option('--acs-override <value>', 'Model pcie_acs_override=downstream,multifunction,id:vvvv:dddd')
    .option('--config-acs <value>', 'Model pci=config_acs=<flags>@<device>[;...]')
    .option('--variant <axis=value>', 'For a scenario: which variant (default: the first)')
    .example('  $ tlplab groups scenarios/p2p-behind-switch.yaml --algorithm both')
    .example('  $ tlplab groups lspci.txt --why --diff-kernel 5.8 5.9')
    .action((inputs: string[], options: Record<string, unknown>) => {
      // `--diff-kernel A B`: B arrives as a positional argument.
      const versionLast = options.diffKernel !== undefined && inputs.length > 0 && /^v?\d+\.\d+/.test(inputs.at(-1)!) && (inputs.length > 1 || options.sysfs !== undefined);
      const rest = versionLast ? [inputs.at(-1)!] : inputs.slice(1);
      const path = versionLast ? (inputs.length > 1 ? inputs[0] : undefined) : inputs[0];
      if (!versionLast && rest.length > 0) throw new UsageError(`groups takes one input, got ${inputs.length}: ${inputs.join(' ')}`);
      run(() => import('./commands/groups.ts'), (m) => m.runGroups(io, { ...(path !== undefined ? { path } : {}), rest, ...options }));
    });

  force(cli.command('merge <...files>', 'Merge the JSON outputs of tlplab run --shard i/n into one result, as if from one run'))
    .option('--json-file <file>', 'Write the merged JSON here (default: stdout)')
    .option('--junit <file>', 'Also write the merged result as JUnit XML')
    .example('  $ tlplab merge shard-*.json --json-file all.json --junit all.xml')
    .action((files: string[], options: Record<string, unknown>) => run(() => import('./commands/merge.ts'), (m) => m.runMerge(io, { files, ...options })));

  force(cli.command('init <name>', 'Write NAME.yaml: a commented scenario to start from'))
    .example('  $ tlplab init my-attack && tlplab run my-attack.yaml')
    .action((name: string, options: Record<string, unknown>) => run(() => import('./commands/init.ts'), (m) => m.runInit(io, { name, ...options })));

  jsonOutput(cli.command('bench', 'Measure speed and memory against their targets (whole-process start-up, flood vs a bare event loop, groups, matrix scaling, memory)'), 'the figures (tlplab/bench-v1)')
    .option('--check', 'Exit 1 when a measured target is missed')
    .option('--endpoints <n>', 'Flood: endpoints (default 64)')
    .option('--tlps <n>', 'Flood: writes per endpoint (default 2000)')
    .option('--devices <n>', 'Groups: functions of the generated machine (default 10000)')
    .option('--in-flight <n>', 'Memory: TLPs in flight, a multiple of 64 (default 1000000)')
    .option('--runs <n>', 'Timed runs per figure; the median is reported (default 5)')
    .option('--warmups <n>', 'Untimed runs first (default 2)')
    .option('--events <n>', 'Events per kernel micro-benchmark run (default 1000000)')
    .option('--only <figures>', 'Comma-separated figures to measure (startup,flood,scenarios,matrix,groups,memory,kernel)')
    .action((options: Record<string, unknown>) => run(() => import('./commands/bench.ts'), (m) => m.runBench(io, options)));
}
