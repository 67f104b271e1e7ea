/**
 * `tlplab audit`: the attack library's machine-independent attacks, run
 * against an imported machine (an lspci dump or a live sysfs tree) taken
 * as firmware assigned it. Every endpoint in turn is the attacker (a
 * hostile device or firmware) and tries the attacks of audit/spec.ts;
 * runVariant replays them and its verdict engine judges them, and
 * audit/attempts.ts turns that judgement and the trace into findings.
 * What the input cannot show is an assumption, printed as such; a result
 * that depends on a fact the input hides is "unknown", never guessed.
 */
import type { LspciDump } from '../import/lspci/parse.ts';
import { fabricsFromLspci, type FabricImport } from '../import/lspci/to-fabric.ts';
import { compileFabric } from '../fabric/fabric.ts';
import type { FunctionConfig } from '../fabric/topology.ts';
import { Kernel } from '../sim/kernel.ts';
import { faultCodeText } from './results.ts';
import { runVariant } from './runner.ts';
import { unexpectedVariant } from './load.ts';
import { attemptsOf, type Attempt } from './audit/attempts.ts';
import { auditGroups, acsOverrideWhatIf } from './audit/groups.ts';
import type { AuditAttack, AuditDevice, AuditFinding, AuditReport, FindingResult } from './audit/report.ts';
import { auditMachine, auditSpec, BUFFER_SIZE, decodingBar, type AuditSettings } from './audit/spec.ts';
import { stoppersFor } from './audit/stoppers.ts';

export type { AuditFinding, AuditReport } from './audit/report.ts';

export interface AuditOptions extends AuditSettings {
  readonly input: AuditReport['input'];
  /** Linux version whose quirk table and grouping to use (default: the newest modelled). */
  readonly kernel?: string;
  /** pcie_acs_override=… what-if. */
  readonly acsOverride?: string;
}

const ENDPOINT_KINDS = new Set(['endpoint', 'rciep', 'pci-device']);
/** Facts a routed result depends on when the TLP passed the function that lacks them. */
const ROUTING_FACTS = new Set(['PCIe port type', 'ACS capability', 'bridge windows']);

export function auditDump(dump: LspciDump, options: AuditOptions): AuditReport {
  const segments = fabricsFromLspci(dump);
  const topology = segments[0]!.topology;
  const findings: AuditFinding[] = [];
  const devices: AuditDevice[] = [];
  const decodeConflicts: string[] = [];
  for (const segment of segments) {
    const byId = new Map(segment.config.functions.map((f) => [f.id, f]));
    for (const f of segment.config.functions) {
      devices.push({ id: f.id, label: topology.byKey.get(f.id)?.label ?? f.id, segment: segment.domain, kind: f.kind, unknown: segment.unknown.get(f.id) ?? [], assumed: segment.assumed.get(f.id) ?? null });
    }
    decodeConflicts.push(...compileFabric(segment.config, new Kernel()).decodeConflicts);
    findings.push(...auditSegment(segment, byId, topology.byKey.get.bind(topology.byKey), options));
  }
  const summary: Record<FindingResult, number> = { succeeds: 0, stopped: 0, contained: 0, unknown: 0 };
  for (const f of findings) summary[f.result]++;
  const groups = auditGroups(topology, options.kernel);
  return {
    schema: 'tlplab/audit-v1',
    input: options.input,
    options: { iommu: options.iommu, interruptRemapping: options.interruptRemapping, sourceIdValidation: options.sourceIdValidation, kernel: options.kernel ?? null, acsOverride: options.acsOverride ?? null },
    assumptions: assumptions(options, segments),
    devices,
    findings,
    summary,
    groups,
    whatIf: options.acsOverride === undefined ? null : acsOverrideWhatIf(topology, options.kernel, options.acsOverride, findings),
    skipped: segments.flatMap((s) => s.skipped),
    decodeConflicts,
  };
}

function assumptions(options: AuditOptions, segments: readonly FabricImport[]): string[] {
  const out = [
    `IOMMU: ${options.iommu}${options.iommu === 'none' ? '' : `, DMA remapping on, every device in its own paging domain with one ${BUFFER_SIZE / 1024} KiB buffer`}`,
    `interrupt remapping ${options.iommu !== 'none' && options.interruptRemapping ? 'on' : 'off'}${options.iommu !== 'none' && options.interruptRemapping ? `, source-ID validation ${options.sourceIdValidation ? 'on' : 'off (intremap=nosid)'}` : ''} — the PCI dump does not show it; dmesg 'DMAR-IR: Enabled IRQ remapping' does`,
    'each endpoint in turn is a hostile device; buses, BARs, windows and ACS as the input shows them (unknown where it hides them)',
  ];
  if (segments.length > 1) out.push(`${segments.length} PCI segments, each simulated on its own; attacks across segments are not tried`);
  for (const s of segments) if (s.domain >= 0x10000) out.push(`segment ${s.domain.toString(16)} is a VMD domain: its devices reach the IOMMU as the VMD endpoint (pci_real_dma_dev), so they share one IOMMU domain here`);
  return out;
}

function auditSegment(segment: FabricImport, byId: ReadonlyMap<string, FunctionConfig>, topologyFn: (key: string) => { realDmaDev?: string } | undefined, options: AuditOptions): AuditFinding[] {
  const endpoints = segment.config.functions.filter((f) => ENDPOINT_KINDS.has(f.kind)).map((f) => f.id);
  if (endpoints.length === 0) return [];
  const shared = segment.domain >= 0x10000 && endpoints.every((id) => topologyFn(id)?.realDmaDev !== undefined);
  const machine = auditMachine(segment.config, endpoints, shared);
  const unknownRouting = (id: string) => (segment.unknown.get(id) ?? []).filter((f) => ROUTING_FACTS.has(f));
  const findings: AuditFinding[] = [];
  for (const attacker of endpoints) {
    const victims = endpoints.filter((v) => v !== attacker).map((id) => ({ id, bar: decodingBar(byId.get(id)!), forge: true }));
    for (const v of victims) {
      const hidden = (segment.unknown.get(v.id) ?? []).filter((f) => f.startsWith('BAR '));
      if (v.bar === null && hidden.length > 0) findings.push(unknownFinding(attacker, 'p2p-bar-write', v.id, `${v.id}: ${hidden.join(', ')}`));
    }
    const run = runVariant({ file: 'audit' }, unexpectedVariant(auditSpec(machine, attacker, victims, options)), 1);
    for (const attempt of attemptsOf(run)) {
      const [attack, victim] = (attempt.step.note ?? '').split(' ') as [AuditAttack, string | undefined];
      findings.push(findingOf(attacker, attack, victim ?? null, attempt, byId, options, unknownRouting, segment.assumed));
    }
  }
  return findings;
}

function unknownFinding(attacker: string, attack: AuditAttack, victim: string | null, detail: string): AuditFinding {
  return { id: `${attack}:${attacker}->${victim ?? 'host'}`, attacker, attack, victim, result: 'unknown', detail, reason: null, path: [], stoppers: [], evidence: [] };
}

function findingOf(
  attacker: string,
  attack: AuditAttack,
  victim: string | null,
  attempt: Attempt,
  byId: ReadonlyMap<string, FunctionConfig>,
  settings: AuditSettings,
  unknownRouting: (id: string) => string[],
  assumed: ReadonlyMap<string, string>,
): AuditFinding {
  const story = attempt.story;
  const base = { id: `${attack}:${attacker}->${victim ?? 'host'}`, attacker, attack, victim, path: story.path, evidence: story.evidence };
  if (attack !== 'msi-injection') {
    // A routed result depends on every function that decided a hop; what the input hides there makes it unknown.
    const hidden = [...new Set(story.path.map((p) => p.device.replace(/\*$/, '')))].flatMap((id) => {
      const facts = unknownRouting(id);
      return facts.length > 0 ? [`${id}: ${facts.join(', ')} not shown`] : assumed.has(id) && id !== attacker ? [`${id}: ${assumed.get(id)}`] : [];
    });
    if (hidden.length > 0) return { ...base, result: 'unknown', detail: `depends on ${hidden.join('; ')}`, reason: null, stoppers: [] };
  }
  if (attempt.judged === 'breach') {
    const breach = attempt.breach!;
    if (attack === 'forged-requester-id' && byId.get(attacker)?.parent === undefined) {
      return { ...base, result: 'unknown', detail: `${breach.detail}; but no ACS port validates an integrated device's requester ID, and whether the root complex does is implementation-specific`, reason: { code: breach.kind, decidedAt: attempt.ending.decidedAt, faultCode: null }, stoppers: [] };
    }
    return { ...base, result: 'succeeds', detail: breach.detail, reason: { code: breach.kind, decidedAt: attempt.ending.decidedAt, faultCode: null }, stoppers: stoppersFor(attack, attempt, byId, settings, victim) };
  }
  if (attempt.judged === 'stopped') {
    const r = attempt.stop!;
    return { ...base, result: 'stopped', detail: `${r.outcome} at ${r.decidedAt}: ${r.reason}${r.faultCode === null ? '' : ` ${faultCodeText(r.faultCode)}`}`, reason: { code: r.reason, decidedAt: r.decidedAt, faultCode: faultCodeText(r.faultCode) }, stoppers: [] };
  }
  const e = attempt.ending;
  return { ...base, result: 'contained', detail: `${e.outcome} at ${e.decidedAt}, within what ${attacker} is granted (${e.reason})`, reason: { code: e.reason, decidedAt: e.decidedAt, faultCode: faultCodeText(e.faultCode) }, stoppers: [] };
}
