/**
 * Runs one variant: builds the machine, applies Linux's gates, replays the
 * steps TLP by TLP, checks the run's invariants, and judges what the ending
 * records say landed (DESIGN.md §3).
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { Ending } from '../fabric/ending.ts';
import { judge, type Judgement } from '../policy/verdict.ts';
import { HOST_REASONS } from '../policy/reasons.ts';
import { differences } from './expectations.ts';
import { evaluateGates } from './gates.ts';
import type { LoadedScenario, ScenarioVariant } from './load.ts';
import { buildMachine, type Machine } from './machine.ts';
import type { GateName } from './model.ts';
import { faultCodeText, type RunResult } from './results.ts';
import { scheduleSteps, type StepRecord } from './steps.ts';
import { describeAfter } from './triggers.ts';
import { recordsByTlp } from './story.ts';

export interface VariantRun {
  readonly result: RunResult;
  readonly machine: Machine;
  readonly judgement: Judgement;
  /** TLPs in the order they ended. */
  readonly ended: readonly Tlp[];
  /** Ending records (TLPs and host refusals) in the order they happened. */
  readonly endings: readonly Ending[];
  /** Each step with the TLPs it put on the fabric. */
  readonly steps: readonly StepRecord[];
}

/** A run broke a rule the simulator guarantees (every TLP ends once, every step runs): a bug, exit 3. */
export class InvariantError extends Error {
  readonly code = 'INVARIANT';
}

const GATE_REASON: Record<GateName, string> = {
  'vfio-viability': HOST_REASONS['gate.vfio-viability'].code,
  'isolated-msi': HOST_REASONS['gate.isolated-msi'].code,
  rmrr: HOST_REASONS['gate.rmrr'].code,
};

export function runVariant(loaded: Pick<LoadedScenario, 'file'>, variant: ScenarioVariant, seed: number): VariantRun {
  const spec = variant.spec;
  const machine = buildMachine(spec, seed);
  const ended: Tlp[] = [];
  const endings: Ending[] = [];
  machine.fabric.onEnd((tlp) => ended.push(tlp));
  machine.fabric.onEnding((ending) => endings.push(ending));
  const gates = evaluateGates(machine);
  const refused = gates.filter((g) => g.enforced && !g.passed);
  let records: StepRecord[] = [];
  if (refused.length > 0) {
    for (const gate of refused) machine.fabric.refuse({ principal: spec.attacker, reason: GATE_REASON[gate.gate], rule: gate.detail, decidedAt: 'host (vfio)', step: -1 });
  } else {
    records = scheduleSteps(machine);
    machine.kernel.run();
    checkInvariants(machine, records, ended);
  }
  const judgement = judge(spec.attacker, endings, machine.grants, judgeContext(machine));
  const refusedBy = refused.length > 0 ? refused[0]!.gate : assignRefusal(records);
  const breaches = judgement.breaches.map((b) => ({ kind: b.kind, attacker: b.attacker, victim: b.victim, tlp: b.tlp, bytes: b.bytes, spans: b.spans, cpus: b.cpus, evidence: b.evidence, detail: b.detail }));
  const stopped = judgement.stopped.map((s) => ({ tlp: s.tlp, origin: s.origin, outcome: s.outcome, reason: s.reason, faultCode: faultCodeText(s.faultCode), at: s.decidedAt, evidence: s.evidence }));
  const rule = variant.expectation;
  const differ = differences(rule, { verdict: judgement.verdict, breaches, stopped, refusedBy });
  const result: RunResult = {
    scenario: spec.name,
    file: loaded.file,
    title: spec.title,
    variant: variant.assignment,
    verdict: judgement.verdict,
    expected: variant.expected,
    expectation: { verdict: rule.verdict, breaches: rule.breaches, stopped: rule.stopped, refusedBy: rule.refusedBy, because: rule.because },
    pass: differ.length === 0,
    differences: differ,
    breaches,
    stopped,
    refusedBy,
    gates,
    tlps: endings,
    endTime: machine.kernel.now,
    ...notRun(records),
  };
  return { result, machine, judgement, ended, endings, steps: records };
}

/** Steps that waited (`after:`) on an event that never came. */
function notRun(records: readonly StepRecord[]): Pick<RunResult, 'notRun'> {
  const waiting = records.filter((r) => !r.performed && r.step.after);
  return waiting.length === 0 ? {} : { notRun: waiting.map((r) => ({ step: r.step.index, waitingFor: describeAfter(r.step.after!) })) };
}

/** The gate that refused an assign step's hand-over to the attacker, if one did. */
function assignRefusal(records: readonly StepRecord[]): GateName | null {
  for (const r of records) {
    const gate = (Object.keys(GATE_REASON) as GateName[]).find((g) => r.refused !== null && r.refused.reason === GATE_REASON[g]);
    if (gate !== undefined) return gate;
  }
  return null;
}

/**
 * What must hold after every run (DESIGN.md §1): every step ran, nothing is
 * left in flight, every TLP ended exactly once (a second ending already
 * throws in the fabric).
 */
function checkInvariants(machine: Machine, records: readonly StepRecord[], ended: readonly Tlp[]): void {
  // A step waiting on an event that never came did not run: the run lists it (notRun), it is no bug.
  const skipped = records.filter((r) => !r.performed && !r.step.after);
  if (skipped.length > 0) throw new InvariantError(`step(s) ${skipped.map((r) => r.step.index).join(', ')} never ran`);
  if (machine.fabric.inFlight !== 0) {
    const open = records.flatMap((r) => r.tlps).filter((t) => t.outcome === null);
    const named = open.length > 0 ? `: ${open.map((t) => t.label).join(', ')}` : '';
    throw new InvariantError(`${machine.fabric.inFlight} TLP(s) never ended${named}`);
  }
  const seen = new Set<number>();
  for (const tlp of ended) {
    if (seen.has(tlp.id)) throw new InvariantError(`${tlp.label} ended twice`);
    seen.add(tlp.id);
  }
  if (machine.kernel.pending > 0) throw new InvariantError(`${machine.kernel.pending} event(s) still queued after the run went quiet`);
}

/** Trace evidence per ending, and the trace facts that say how a TLP got where it landed. */
export function judgeContext(machine: Machine) {
  const records = machine.trace.records;
  const byTlp = recordsByTlp(records);
  const refusals = new Map<string, number[]>();
  for (const record of records) {
    if (record.type !== 'host.refused') continue;
    const key = `${record.step}/${record.reason}`;
    refusals.set(key, [...(refusals.get(key) ?? []), record.id]);
  }
  const evidence = (e: Ending) => (e.tlp === null ? (refusals.get(`${e.step}/${e.reason}`) ?? []) : (byTlp.get(e.tlp) ?? []).map((r) => r.id));
  return {
    evidence,
    how(e: Ending): string {
      if (e.tlp === null) return '';
      const facts: string[] = [];
      const fn = machine.fabric.functions.get(e.origin);
      if (fn !== undefined && e.requester !== fn.rid) facts.push(`forged requester ID ${formatRid(e.requester)}`);
      for (const r of byTlp.get(e.tlp) ?? []) {
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
    },
  };
}
