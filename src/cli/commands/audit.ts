/** `tlplab audit <lspci dump>`: which of the library's attacks would succeed on this machine. */
import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import { auditLspci, type AuditFinding, type AuditReport } from '../../scenario/audit.ts';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { jsonTarget } from './explain.ts';

export interface AuditCommandOptions {
  readonly path: string;
  readonly iommu?: unknown;
  readonly interruptRemapping?: unknown;
  readonly nosid?: boolean;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
}

export function runAudit(io: Io, options: AuditCommandOptions): number {
  const iommu = String(options.iommu ?? 'vtd');
  if (iommu !== 'vtd' && iommu !== 'amd-vi' && iommu !== 'none') throw new UsageError(`--iommu must be vtd, amd-vi or none, got '${iommu}'`);
  const ir = String(options.interruptRemapping ?? 'on');
  if (ir !== 'on' && ir !== 'off') throw new UsageError(`--interrupt-remapping must be on or off, got '${ir}'`);
  const json = jsonTarget(io, options, [options.path]);
  let text: string;
  try {
    text = readFileSync(options.path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read lspci dump '${options.path}': ${(error as Error).message}`);
  }
  let report: AuditReport;
  try {
    report = auditLspci(text, { iommu, interruptRemapping: ir === 'on', sourceIdValidation: options.nosid !== true });
  } catch (error) {
    if (error instanceof Error && (error as { userFacing?: boolean }).userFacing) throw new UsageError(`${options.path}:${error.message.replace(/^line (\d+): /, '$1: ')}`);
    throw error;
  }
  if (json) {
    json(report);
    return ExitCode.ok;
  }
  io.out(render(report, io.color));
  return ExitCode.ok;
}

const ATTACKS = [
  ['p2p-bar-write', 'writes into other devices’ BARs'],
  ['forged-requester-id', 'forged requester IDs accepted'],
  ['msi-injection', 'forged MSI'],
] as const;

function render(report: AuditReport, color: boolean): string {
  const out = ['assumptions:', ...report.assumptions.map((a) => `  - ${a}`), ''];
  const table = new Table({ head: ['attacker', ...ATTACKS.map(([, label]) => label)], style: color ? { head: ['cyan'] } : { head: [], border: [] } });
  for (const device of report.devices) {
    const mine = report.findings.filter((f) => f.attacker === device);
    table.push([device, ...ATTACKS.map(([attack]) => cell(mine.filter((f) => f.attack === attack)))]);
  }
  out.push(table.toString(), '');
  const hits = report.findings.filter((f) => f.result === 'succeeds');
  out.push(hits.length === 0 ? 'no attack succeeded' : `${hits.length} attack(s) succeed:`);
  for (const device of report.devices) {
    const mine = hits.filter((f) => f.attacker === device);
    if (mine.length === 0) continue;
    out.push(`  ${device}:`);
    for (const f of mine) out.push(`    ${f.attack}${f.victim ? ` → ${f.victim}` : ''}: ${f.detail}`);
  }
  if (report.skipped.length > 0) out.push('', `not simulated (${report.skipped.length}):`, ...report.skipped.map((s) => `  ${s.device}: ${s.reason}`));
  return `${out.join('\n')}\n`;
}

/** "2 of 17 succeed, 3 unknown", or the single result of a one-off attack. */
function cell(findings: readonly AuditFinding[]): string {
  if (findings.length === 0) return '-';
  if (findings.length === 1 && findings[0]!.victim === null) return findings[0]!.result;
  const hits = findings.filter((f) => f.result === 'succeeds').length;
  const unknown = findings.filter((f) => f.result === 'unknown').length;
  return `${hits} of ${findings.length} succeed${unknown > 0 ? `, ${unknown} unknown` : ''}`;
}
