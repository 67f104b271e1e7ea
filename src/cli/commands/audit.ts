/**
 * `tlplab audit <lspci dump> | --sysfs [/sys]`: which of the library's
 * attacks succeed on a real machine. Exit 0 when none does, 1 when one
 * does (usable in CI), 2 for bad input.
 */
import { readFileSync } from 'node:fs';
import { parseLspci, type LspciDump } from '../../import/lspci/parse.ts';
import { readSysfs } from '../../import/sysfs/read.ts';
import { renderAuditMarkdown } from '../../report/audit-markdown.ts';
import { renderAuditText } from '../../report/audit-text.ts';
import { auditDump, type AuditReport } from '../../scenario/audit.ts';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { fileOption } from '../options.ts';
import { checkOutputs } from '../output.ts';
import { jsonTarget } from './explain.ts';

export interface AuditCommandOptions {
  readonly path?: string;
  readonly sysfs?: unknown;
  readonly iommu?: unknown;
  readonly interruptRemapping?: unknown;
  readonly nosid?: boolean;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
  readonly markdown?: unknown;
  readonly force?: unknown;
  readonly kernel?: unknown;
  readonly acsOverride?: unknown;
}

/** Re-throws input errors with the file name in front (file:line). */
export function inFile<T>(path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Error && (error as { userFacing?: boolean }).userFacing) {
      throw new UsageError(`${path}:${error.message.replace(/^line (\d+): /, '$1: ')}`, (error as { code?: string }).code ?? 'INPUT');
    }
    throw error;
  }
}

/** The machine to audit or group: an lspci dump file, or a sysfs tree (`--sysfs` alone: /sys). */
export function readMachine(path: string | undefined, sysfs: unknown): { dump: LspciDump; kind: 'lspci' | 'sysfs'; path: string; cmdline: string | null; release: string | null } {
  if (sysfs !== undefined && sysfs !== false) {
    if (path !== undefined && sysfs === true) return { ...inFile(path, () => readSysfs(path)), kind: 'sysfs', path };
    const root = typeof sysfs === 'string' ? sysfs : '/sys';
    return { ...inFile(root, () => readSysfs(root)), kind: 'sysfs', path: root };
  }
  if (path === undefined) throw new UsageError('give an lspci dump, or --sysfs [/sys] to read this machine');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read lspci dump '${path}': ${(error as Error).message}`, 'FILE');
  }
  return { dump: inFile(path, () => parseLspci(text)), kind: 'lspci', path, cmdline: null, release: null };
}

/** pcie_acs_override= from a kernel command line, if present. */
export function acsOverrideOf(cmdline: string | null): string | undefined {
  const m = cmdline === null ? null : /(?:^|\s)pcie_acs_override=(\S+)/.exec(cmdline);
  return m ? m[1] : undefined;
}

/** The audit's exit code (DESIGN.md §4 for audit): 0 nothing reachable, 1 an attack succeeded. */
export function auditExitCode(report: AuditReport): number {
  return report.summary.succeeds > 0 ? ExitCode.expectationFailed : ExitCode.ok;
}

export function runAudit(io: Io, options: AuditCommandOptions): number {
  const inputs = options.path === undefined ? [] : [options.path];
  const json = jsonTarget(io, options, inputs);
  const markdown = fileOption(options.markdown, '--markdown');
  if (markdown !== undefined) checkOutputs([{ flag: '--markdown', path: markdown }], inputs, options.force === true);
  const report = auditReportFor(options);
  if (markdown !== undefined) io.writeFile(markdown, renderAuditMarkdown(report));
  if (json) json(report);
  if (options.json !== true) io.out(renderAuditText(report, io.color));
  return auditExitCode(report);
}

/** Reads the machine and options and runs the audit (usage errors are UsageError: exit 2). */
export function auditReportFor(options: AuditCommandOptions): AuditReport {
  const iommu = String(options.iommu ?? 'vtd');
  if (iommu !== 'vtd' && iommu !== 'amd-vi' && iommu !== 'none') throw new UsageError(`--iommu must be vtd, amd-vi or none, got '${iommu}'`);
  const machine = readMachine(options.path, options.sysfs);
  // A live host's command line says what the dump cannot: intremap=off, intremap=nosid, pcie_acs_override=.
  const ir = String(options.interruptRemapping ?? (/(?:^|\s)intremap=off\b/.test(machine.cmdline ?? '') ? 'off' : 'on'));
  if (ir !== 'on' && ir !== 'off') throw new UsageError(`--interrupt-remapping must be on or off, got '${ir}'`);
  const nosid = options.nosid === true || / intremap=nosid\b/.test(` ${machine.cmdline ?? ''}`);
  const acsOverride = options.acsOverride === undefined ? acsOverrideOf(machine.cmdline) : String(options.acsOverride);
  return inFile(machine.path, () =>
    auditDump(machine.dump, {
      input: { kind: machine.kind, path: machine.path },
      iommu,
      interruptRemapping: ir === 'on',
      sourceIdValidation: !nosid,
      ...(options.kernel !== undefined ? { kernel: String(options.kernel) } : machine.release !== null ? { kernel: machine.release } : {}),
      ...(acsOverride !== undefined ? { acsOverride } : {}),
    }),
  );
}
