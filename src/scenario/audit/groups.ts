/**
 * The audit's view of Linux's IOMMU groups: the classic grouping on the
 * chosen kernel with the facts that merged each group, and the
 * pcie_acs_override what-if — which groups the override splits, and for
 * every pair of devices it puts in different groups the routed P2P write
 * between them (a finding of the same audit run), open or stopped. The
 * override changes what Linux believes, never what the fabric does.
 */
import { parseKernelVersion } from '../../policy/kernel-version.ts';
import { parseAcsOverride, type KernelModel } from '../../policy/kernel-options.ts';
import { classicGroups } from '../../policy/groups-classic.ts';
import { appliedQuirks, explainClassicGroups } from '../../policy/group-why.ts';
import type { PciTopology } from '../../policy/pci-topology.ts';
import type { AcsOverrideWhatIf, AuditFinding, AuditGroups } from './report.ts';

export function kernelModel(version: string | undefined): KernelModel {
  return version === undefined ? {} : { version: parseKernelVersion(version) };
}

export function auditGroups(topology: PciTopology, version: string | undefined): AuditGroups {
  const kernel = kernelModel(version);
  const result = classicGroups(topology, kernel);
  const why = new Map(explainClassicGroups(topology, kernel, result).map((g) => [g.id, g.why]));
  return {
    algorithm: 'classic',
    kernel: version ?? 'newest modelled',
    groups: result.groups.map((g) => ({ id: g.id, devices: g.devices, why: why.get(g.id) ?? [] })),
    unknown: result.unknown,
    quirks: appliedQuirks(topology, kernel),
  };
}

export function acsOverrideWhatIf(topology: PciTopology, version: string | undefined, option: string, findings: readonly AuditFinding[]): AcsOverrideWhatIf {
  const kernel = kernelModel(version);
  const before = classicGroups(topology, kernel);
  const after = classicGroups(topology, { ...kernel, acsOverride: parseAcsOverride(option) });
  const groupAfter = new Map(after.groups.flatMap((g) => g.devices.map((d) => [d, g.id] as const)));
  const splits = before.groups.flatMap((g) => {
    const parts = new Map<number | undefined, string[]>();
    for (const d of g.devices) parts.set(groupAfter.get(d), [...(parts.get(groupAfter.get(d)) ?? []), d]);
    return parts.size > 1 ? [{ before: g.devices, after: [...parts.values()] }] : [];
  });
  const byId = new Map(findings.map((f) => [f.id, f]));
  const open: string[] = [];
  const closed: string[] = [];
  const unknown: string[] = [];
  for (const split of splits) {
    for (const a of split.before) {
      for (const b of split.before) {
        if (a === b || groupAfter.get(a) === groupAfter.get(b)) continue;
        const finding = byId.get(`p2p-bar-write:${a}->${b}`);
        if (finding === undefined) continue;
        (finding.result === 'succeeds' ? open : finding.result === 'unknown' ? unknown : closed).push(finding.id);
      }
    }
  }
  return { option, splits, open, closed, unknown };
}
