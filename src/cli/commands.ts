/** The command table: each command parses its flags here and hands typed options to its module. */
import type { CAC } from 'cac';
import type { Io } from './io.ts';
import { runRun, type RunOptions } from './commands/run.ts';
import { UsageError } from './exit.ts';
import { runExplain, runSend } from './commands/explain.ts';
import { runAudit } from './commands/audit.ts';
import { runBench, type BenchFlags } from './commands/bench.ts';
import { runGroups } from './commands/groups.ts';

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
    .action((file: string, options: { variant?: unknown; seed: unknown; json?: boolean }) => complete(runExplain(io, { file, ...options })));

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
    .command('audit <lspci-dump>', 'Run the library\'s attacks against a real machine (lspci -vvv as root)')
    .option('--iommu <model>', 'vtd | amd-vi | none (lspci does not show it)', { default: 'vtd' })
    .option('--interrupt-remapping <on|off>', 'Whether interrupt remapping is on (dmesg: DMAR-IR)', { default: 'on' })
    .option('--nosid', 'intremap=nosid: no source-ID validation')
    .option('--json', 'Print { schema: "tlplab/audit-v1", assumptions, findings, skipped }')
    .action((path: string, options: { iommu?: unknown; interruptRemapping?: unknown; nosid?: boolean; json?: boolean }) => complete(runAudit(io, { path, ...options })));

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
    .command('groups <input>', 'IOMMU groups Linux would form for a scenario (topology.yaml) or an lspci dump')
    .option('--algorithm <name>', 'classic | per-bus | both', { default: 'classic' })
    .option('--json', 'Print { schema: "tlplab/groups-v1", algorithm, groups, unknown }')
    .option('--compare <file>', 'Compare with a kernel group listing (sysfs script output, IOMMU group: lines, dmesg); exit 1 on mismatch')
    .option('--acs-override <value>', 'Model pcie_acs_override=downstream,multifunction,id:vvvv:dddd')
    .option('--config-acs <value>', 'Model pci=config_acs=<flags>@<device>[;...]')
    .option('--variant <axis=value>', 'For a scenario: which variant (default: the first)')
    .action((input: string, options: { algorithm?: unknown; json?: boolean; compare?: unknown; acsOverride?: unknown; configAcs?: unknown; variant?: unknown }) =>
      complete(runGroups(io, { path: input, ...options })),
    );
}
