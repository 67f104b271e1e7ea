/**
 * Runs one variant: builds the machine, applies Linux's gates, replays the
 * steps TLP by TLP, and judges what landed (DESIGN.md §3).
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { Bar } from '../fabric/function.ts';
import type { InterruptDelivery } from '../interrupts/delivery.ts';
import { judge, type Effect, type Judgement } from '../policy/verdict.ts';
import { evaluateGates } from './gates.ts';
import type { LoadedScenario, ScenarioVariant } from './load.ts';
import { buildMachine, type Machine, type MachineEvent } from './machine.ts';
import { faultCodeText, type RunResult } from './results.ts';
import { scheduleSteps, type StepRecord } from './steps.ts';
import type { TraceRecord } from '../sim/trace.ts';

export interface VariantRun {
  readonly result: RunResult;
  readonly machine: Machine;
  readonly judgement: Judgement;
  /** TLPs in the order they ended. */
  readonly ended: readonly Tlp[];
  /** Each step with the TLPs it put on the fabric. */
  readonly steps: readonly StepRecord[];
}

export function runVariant(loaded: Pick<LoadedScenario, 'file'>, variant: ScenarioVariant, seed: number): VariantRun {
  const spec = variant.spec;
  const machine = buildMachine(spec, seed);
  const gates = evaluateGates(machine);
  const refused = gates.filter((g) => g.enforced && !g.passed);
  const ended: Tlp[] = [];
  let judgement: Judgement = { verdict: 'isolated', breaches: [], refusals: [] };
  let records: StepRecord[] = [];
  if (refused.length === 0) {
    machine.fabric.onEnd((tlp) => ended.push(tlp));
    records = scheduleSteps(machine);
    machine.kernel.run();
    judgement = judge(spec.attacker, effectsOf(machine, ended, records), machine.ownership, machine.grants);
  }
  const result: RunResult = {
    scenario: spec.name,
    file: loaded.file,
    title: spec.title,
    variant: variant.assignment,
    verdict: judgement.verdict,
    expected: variant.expected,
    pass: judgement.verdict === variant.expected,
    breaches: judgement.breaches.map((b) => ({ kind: b.kind, attacker: b.attacker, victim: b.victim, evidence: b.evidence, detail: b.detail })),
    stopped: judgement.refusals.map((r) => ({ tlp: r.tlp, outcome: r.outcome, reason: r.reason, faultCode: faultCodeText(r.faultCode), at: r.decidedAt })),
    gates,
    endTime: machine.kernel.now,
  };
  return { result, machine, judgement, ended, steps: records };
}

/** Turns ended TLPs into the effects the verdict engine judges. */
export function effectsOf(machine: Machine, ended: readonly Tlp[], records: readonly StepRecord[]): Effect[] {
  const evidence = evidenceIndex(machine.trace.records);
  const configBy = new Map<number, StepRecord>();
  for (const record of records) if (record.step.kind === 'config-write') for (const tlp of record.tlps) configBy.set(tlp.id, record);
  const completions = new Map<number, Tlp>();
  for (const tlp of ended) if (tlp.request !== null) completions.set(tlp.request.id, tlp);
  const effects: Effect[] = [];
  for (const record of records) {
    if (record.refused !== null && 'by' in record.step && record.step.by === machine.spec.attacker) {
      effects.push({ kind: 'refusal', tlp: 0, origin: record.step.by, outcome: 'blocked', reason: record.refused.reason, faultCode: null, decidedAt: 'host', evidence: [] });
    }
  }
  for (const tlp of ended) {
    const ids = evidence.get(tlp.id) ?? [];
    const step = configBy.get(tlp.id);
    if (step !== undefined && step.step.kind === 'config-write') {
      if (tlp.outcome === 'delivered') effects.push({ kind: 'config', principal: step.step.by, device: step.step.device, offset: step.step.offset, evidence: ids });
      continue;
    }
    if (tlp.origin === 'host' || tlp.type === 'Cpl' || tlp.type === 'CplD' || tlp.type === 'Msg') continue;
    const principal = machine.ownership.ownerOfFunction(tlp.origin) ?? 'host';
    if (tlp.outcome === 'delivered' || tlp.outcome === 'completed') {
      const target = tlp.target as (InterruptDelivery | Bar | { kind?: string }) | null;
      if (target !== null && 'kind' in target && target.kind === 'interrupt') {
        const d = target as InterruptDelivery;
        effects.push({ kind: 'interrupt', tlp: tlp.id, principal, origin: tlp.origin, vector: d.vector, destination: d.destination, vectorOwner: d.vectorOwner, irte: d.irte, irteOwner: d.entryOwner, evidence: ids });
      } else if (target !== null && (('kind' in target && target.kind === 'memory') || 'fn' in target)) {
        const op = tlp.type === 'MemWr' ? 'write' : 'read';
        const readBy = op === 'read' ? readerOf(machine, completions.get(tlp.id)) : principal;
        if (readBy !== principal) {
          // A read under a forged requester ID is answered to that ID: the data does not reach the attacker.
          effects.push({ kind: 'refusal', tlp: tlp.id, origin: tlp.origin, outcome: 'misrouted', reason: `completion went to ${readBy ?? 'nobody'}`, faultCode: null, decidedAt: tlp.decidedAt, evidence: ids });
          continue;
        }
        effects.push({ kind: 'access', tlp: tlp.id, principal, origin: tlp.origin, op, address: tlp.address, length: tlp.length, time: tlp.endedAt, evidence: ids, how: howItGotThere(machine, tlp, ids) });
      }
    } else if (principal === machine.spec.attacker) {
      effects.push({ kind: 'refusal', tlp: tlp.id, origin: tlp.origin, outcome: tlp.outcome!, reason: tlp.reason, faultCode: tlp.faultCode, decidedAt: tlp.decidedAt, evidence: ids });
    }
  }
  return effects;
}

/** Who received a read's data: the owner of the function its completion was delivered to. */
function readerOf(machine: Machine, completion: Tlp | undefined): string | null {
  if (completion === undefined || completion.outcome !== 'delivered' || completion.target === null) return null;
  const fn = completion.target as { id?: string };
  return fn.id === undefined ? null : (machine.ownership.ownerOfFunction(fn.id) ?? 'host');
}

/** Trace record ids per TLP id, in order. */
function evidenceIndex(records: readonly TraceRecord<MachineEvent>[]): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (const record of records) {
    const tlp = (record as { tlp?: unknown }).tlp;
    if (typeof tlp !== 'number' || tlp === 0) continue;
    const list = index.get(tlp) ?? [];
    list.push(record.id);
    index.set(tlp, list);
  }
  return index;
}

/** The facts in a TLP's trace that explain how it reached what it reached. */
function howItGotThere(machine: Machine, tlp: Tlp, ids: readonly number[]): string {
  const records = machine.trace.records;
  const facts: string[] = [];
  if (tlp.issuedRequesterId !== machine.fabric.fn(tlp.origin).rid) facts.push(`forged requester ID ${formatRid(tlp.issuedRequesterId)}`);
  for (const id of ids) {
    const r = records[id - 1]!;
    if (r.type === 'iommu.translate') {
      if (r.stale) facts.push(`stale IOTLB entry (${r.source}) after unmap`);
      else if (r.source === 'translated') facts.push('AT=translated request passed without translation');
      else if (r.source === 'identity') facts.push('identity (pass-through) domain');
      else if (r.source === 'remapping-off') facts.push('DMA remapping off');
      else if (r.source === 'untranslated-range') facts.push('address consumed before the IOMMU');
      else facts.push(`translated by domain ${r.domain} (${r.source})`);
    } else if (r.type === 'tlp.hop') {
      if (r.decision === 'p2p-direct') facts.push(`routed peer-to-peer at ${r.node} (${r.rule})`);
      else if (r.decision === 'reflect-down') facts.push(`reflected back down at ${r.node}: no ACS Upstream Forwarding`);
    }
  }
  return [...new Set(facts)].join('; ');
}
