/** The audit report for the terminal: one row per attacker, then every successful attack with its path and what would stop it. */
import Table from 'cli-table3';
import type { AuditFinding, AuditReport } from '../scenario/audit/report.ts';

const ATTACKS = [
  ['p2p-bar-write', 'writes into other devices’ BARs'],
  ['forged-requester-id', 'forged requester IDs accepted'],
  ['msi-injection', 'forged MSI'],
] as const;

/** "2 of 17 succeed, 3 unknown", or the single result of a one-off attack. */
function cell(findings: readonly AuditFinding[]): string {
  if (findings.length === 0) return '-';
  if (findings.length === 1 && findings[0]!.victim === null) return findings[0]!.result;
  const hits = findings.filter((f) => f.result === 'succeeds').length;
  const unknown = findings.filter((f) => f.result === 'unknown').length;
  return `${hits} of ${findings.length} succeed${unknown > 0 ? `, ${unknown} unknown` : ''}`;
}

export function renderAuditText(report: AuditReport, color: boolean): string {
  const out = ['assumptions:', ...report.assumptions.map((a) => `  - ${a}`), ''];
  const attackers = [...new Set(report.findings.map((f) => f.attacker))];
  const table = new Table({ head: ['attacker', ...ATTACKS.map(([, label]) => label)], style: color ? { head: ['cyan'] } : { head: [], border: [] } });
  for (const device of attackers) {
    const mine = report.findings.filter((f) => f.attacker === device);
    table.push([device, ...ATTACKS.map(([attack]) => cell(mine.filter((f) => f.attack === attack)))]);
  }
  out.push(table.toString(), '');
  const s = report.summary;
  out.push(`${report.findings.length} attempts: ${s.succeeds} succeed, ${s.stopped} stopped, ${s.contained} contained, ${s.unknown} unknown`);
  for (const f of report.findings.filter((x) => x.result === 'succeeds')) {
    out.push(`  ${f.attack} ${f.attacker} → ${f.victim ?? 'host'}: ${f.detail}`);
    out.push(`    path: ${f.path.map((p) => `${p.device} ${p.decision}`).join(' → ')}`);
    for (const st of f.stoppers) out.push(`    stop: ${st.text}`);
  }
  const multi = report.groups.groups.filter((g) => g.devices.length > 1);
  if (multi.length > 0) {
    out.push('', `groups of more than one device (${report.groups.algorithm}, ${report.groups.kernel}):`);
    for (const g of multi) out.push(`  group ${g.id}: ${g.devices.join(' ')}`, ...g.why.map((w) => `    - ${w}`));
  }
  if (report.whatIf !== null) {
    const w = report.whatIf;
    out.push('', `what-if pcie_acs_override=${w.option}: splits ${w.splits.length} group(s); P2P between the new groups: ${w.open.length} still land, ${w.closed.length} stopped, ${w.unknown.length} unknown`);
    for (const id of w.open) {
      const f = report.findings.find((x) => x.id === id)!;
      out.push(`  open: ${f.attacker} → ${f.victim}: ${f.path.map((p) => `${p.device} ${p.decision}`).join(' → ')}`);
    }
  }
  if (report.skipped.length > 0) out.push('', `not simulated (${report.skipped.length}):`, ...report.skipped.map((x) => `  ${x.device}: ${x.reason}`));
  if (report.decodeConflicts.length > 0) out.push('', 'overlapping decode left by firmware (first claimant kept):', ...report.decodeConflicts.map((c) => `  ${c}`));
  return `${out.join('\n')}\n`;
}
