/**
 * The audit report (tlplab/audit-v1) as Markdown: assumptions, a summary,
 * every successful attack with its path and what would stop it, the groups
 * with why, the pcie_acs_override what-if, and what is unknown. The HTML
 * report can render the same AuditReport data.
 */
import type { AuditFinding, AuditReport } from '../scenario/audit/report.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function pathTable(f: AuditFinding): string[] {
  const out = ['| ns | at | decision | rule | detail |', '|---|---|---|---|---|'];
  for (const p of f.path) out.push(`| ${p.at} | ${cell(p.device)} | ${cell(p.decision)} | ${cell(p.rule)} | ${cell(p.detail ?? '')} |`);
  return out;
}

export function renderAuditMarkdown(report: AuditReport): string {
  const s = report.summary;
  const out = [`# tlplab audit: ${report.input.path}`, '', `${report.findings.length} attempts: **${s.succeeds} succeed**, ${s.stopped} stopped, ${s.contained} contained, ${s.unknown} unknown.`, ''];
  out.push('## Assumptions', '', ...report.assumptions.map((a) => `- ${a}`), '');
  const hits = report.findings.filter((f) => f.result === 'succeeds');
  out.push('## Attacks that succeed', '');
  if (hits.length === 0) out.push('None.', '');
  for (const f of hits) {
    out.push(`### ${f.attack}: ${f.attacker} → ${f.victim ?? 'host'}`, '', f.detail, '');
    out.push(...pathTable(f), '');
    out.push('What would stop it:', '', ...(f.stoppers.length === 0 ? ['- (nothing found)'] : f.stoppers.map((st) => `- **${st.kind}**${st.at ? ` at ${st.at}` : ''}: ${st.text}`)), '');
  }
  out.push(`## IOMMU groups (${report.groups.algorithm}, ${report.groups.kernel})`, '');
  for (const g of report.groups.groups) {
    out.push(`- group ${g.id}: ${g.devices.join(' ')}`);
    for (const w of g.why) out.push(`  - ${w}`);
  }
  if (report.groups.quirks.length > 0) out.push('', 'Quirks that decided ACS:', '', ...report.groups.quirks.map((q) => `- ${q}`));
  if (report.groups.unknown.length > 0) out.push('', 'Group unknown:', '', ...report.groups.unknown.map((u) => `- ${u.device}: ${u.reason}`));
  out.push('');
  if (report.whatIf !== null) {
    const w = report.whatIf;
    out.push(`## What-if: pcie_acs_override=${w.option}`, '');
    out.push(w.splits.length === 0 ? 'It splits no group.' : `It splits ${w.splits.length} group(s):`, '');
    for (const sp of w.splits) out.push(`- {${sp.before.join(' ')}} → ${sp.after.map((g) => `{${g.join(' ')}}`).join(' ')}`);
    out.push('', `Peer-to-peer writes between devices it puts in different groups: ${w.open.length} still land, ${w.closed.length} are stopped, ${w.unknown.length} unknown.`, '');
    for (const id of w.open) {
      const f = report.findings.find((x) => x.id === id)!;
      out.push(`- ${f.attacker} → ${f.victim}: ${f.detail}`, `  - path: ${f.path.map((p) => `${p.device} ${p.decision}`).join(' → ')}`);
    }
    out.push('');
  }
  const unknown = report.findings.filter((f) => f.result === 'unknown');
  if (unknown.length > 0) {
    out.push('## Unknown', '', `${unknown.length} attempts depend on facts the input does not show, e.g.:`, '');
    for (const f of unknown.slice(0, 20)) out.push(`- ${f.attack}: ${f.attacker} → ${f.victim ?? 'host'}: ${f.detail}`);
    out.push('');
  }
  if (report.skipped.length > 0) out.push('## Not simulated', '', ...report.skipped.map((x) => `- ${x.device}: ${x.reason}`), '');
  if (report.decodeConflicts.length > 0) out.push('## Overlapping decode left by firmware', '', ...report.decodeConflicts.map((c) => `- ${c}`), '');
  return `${out.join('\n')}\n`;
}
