/**
 * A run told as plain data, for reports and `explain`: each step, each TLP
 * with every trace record it left (as hops: node, decision, rule), its one
 * ending and its effects, the breaches with the trace ids that show them,
 * the gates, and the machine's picture data. Built by one adapter from what
 * the runner gives (`runStory`), so the readers never look at the trace
 * or the runtime objects themselves; when the ending records of the
 * verdict path land in RunResult, only the adapter changes.
 */
import type { Tlp } from '../pcie/tlp.ts';
import type { Effect, Ending } from '../fabric/ending.ts';
import type { TraceRecord } from '../sim/trace.ts';
import { describeStep } from './explain.ts';
import type { LoadedScenario, ScenarioVariant } from './load.ts';
import type { MachineEvent } from './machine.ts';
import { machineView, type MachineView } from './machine-view.ts';
import { faultCodeText, type GateResult, type StopResult } from './results.ts';
import { reasonInfo } from './reasons.ts';
import { runVariant, type VariantRun } from './runner.ts';
import { describeRecord, recordsByTlp } from './story.ts';
import type { VariantAssignment } from './model.ts';

export interface StoryHop {
  /** Trace record id: what breach evidence cites. */
  readonly id: number;
  /** Simulated time, ns. */
  readonly at: number;
  /** The node or unit that decided, as traced. */
  readonly node: string;
  /** The MachineView node the TLP is at after this hop; null = where it already was. */
  readonly place: string | null;
  readonly decision: string;
  readonly rule: string;
  readonly detail: string;
}

export interface StoryEnding {
  readonly outcome: string;
  /** Reason code, with its registry entry's title and source. */
  readonly reason: string;
  readonly title: string;
  readonly source: string;
  readonly rule: string;
  readonly decidedAt: string;
  readonly faultCode: string | null;
  readonly target: string | null;
}

/** What a TLP did (bytes with owners, CPUs with vector owners…): the ending record's effects. */
export type StoryEffect = Effect;

export interface StoryTlp {
  readonly tlp: number;
  readonly kind: string;
  readonly by: string;
  readonly requester: string;
  readonly address: number;
  /** Index of the step that issued it (completions: their request's step). */
  readonly step: number;
  /** For a completion, the request it answers. */
  readonly answers: number | null;
  readonly hops: readonly StoryHop[];
  readonly ending: StoryEnding | null;
  readonly effects: readonly StoryEffect[];
}

export interface StoryBreach {
  readonly kind: string;
  readonly attacker: string;
  readonly victim: string;
  readonly detail: string;
  /** Bytes outside the attacker's grants. */
  readonly bytes: number;
  /** Trace record ids; each is a hop of one of `tlps`. */
  readonly evidence: readonly number[];
  readonly tlps: readonly number[];
  readonly effects: readonly StoryEffect[];
}

export interface StoryStep {
  readonly index: number;
  readonly at: number;
  readonly text: string;
  readonly tlps: readonly number[];
  /** Why the host refused it, or why it never ran (a gate refused the assignment). */
  readonly refused: string | null;
}

export interface RunStory {
  readonly scenario: string;
  readonly file: string;
  readonly variant: VariantAssignment;
  readonly verdict: 'breached' | 'isolated';
  readonly expected: 'breached' | 'isolated';
  readonly pass: boolean;
  /** The matching expect rule's `because`. */
  readonly because: string | null;
  /** How the run differs from its expectation (empty when it passes). */
  readonly differences: readonly string[];
  readonly attacker: string;
  readonly gates: readonly GateResult[];
  readonly steps: readonly StoryStep[];
  readonly tlps: readonly StoryTlp[];
  readonly breaches: readonly StoryBreach[];
  readonly stopped: readonly StopResult[];
  readonly view: MachineView;
}

/**
 * The adapter: what `runVariant` returns, as a story. Endings, effects and
 * breaches come from the run's ending records (RunResult.tlps); the hops
 * from the trace records each TLP left.
 */
export function runStory(loaded: Pick<LoadedScenario, 'rules'>, variant: ScenarioVariant, run: VariantRun): RunStory {
  const { result, machine } = run;
  const view = machineView(machine);
  const records = machine.trace.records;
  const byTlp = recordsByTlp(records);
  // Completions by the request they answer: one pass, not one per TLP.
  const completions = new Map<Tlp, Tlp[]>();
  for (const t of run.ended) if (t.request !== null) completions.set(t.request, [...(completions.get(t.request) ?? []), t]);
  const ended = new Map(run.ended.map((t) => [t.id, t]));
  const places = new Set(view.nodes.map((n) => n.id));
  const endings = new Map(result.tlps.filter((e) => e.tlp !== null).map((e) => [e.tlp!, e]));
  const tlps: StoryTlp[] = [];
  const steps: StoryStep[] = [];
  const add = (tlp: Tlp, step: number) => {
    tlps.push(storyTlp(tlp, step, byTlp.get(tlp.id) ?? [], places, endings.get(tlp.id) ?? null));
    for (const t of completions.get(tlp) ?? []) add(t, step);
  };
  if (run.steps.length === 0 && result.gates.some((g) => g.enforced && !g.passed)) {
    const gate = result.gates.find((g) => g.enforced && !g.passed)!;
    for (const step of machine.spec.steps) steps.push({ index: step.index, at: step.at, text: describeStep(step), tlps: [], refused: `not run: ${gate.gate} refused the assignment` });
  }
  for (const record of run.steps) {
    const before = tlps.length;
    for (const tlp of record.tlps) add(ended.get(tlp.id) ?? tlp, record.step.index);
    steps.push({ index: record.step.index, at: record.step.at, text: describeStep(record.step), tlps: tlps.slice(before).map((t) => t.tlp), refused: record.refused === null ? null : `${record.refused.reason} — ${record.refused.rule}` });
  }
  const tlpOfRecord = new Map<number, number>();
  for (const t of tlps) for (const h of t.hops) tlpOfRecord.set(h.id, t.tlp);
  const breaches = result.breaches.map((b): StoryBreach => {
    const cited = [...new Set([b.tlp, ...b.evidence.map((id) => tlpOfRecord.get(id))].filter((t): t is number => t !== undefined && t !== null && t > 0))];
    const effects = tlps.filter((t) => cited.includes(t.tlp)).flatMap((t) => t.effects);
    return { kind: b.kind, attacker: b.attacker, victim: b.victim, detail: b.detail, bytes: b.bytes, evidence: b.evidence, tlps: cited, effects };
  });
  return {
    scenario: result.scenario,
    file: result.file,
    variant: result.variant,
    verdict: result.verdict,
    expected: result.expected,
    pass: result.pass,
    because: result.expectation.because ?? loaded.rules[variant.rule]?.because ?? null,
    differences: result.differences,
    attacker: machine.spec.attacker,
    gates: result.gates,
    steps,
    tlps,
    breaches,
    stopped: result.stopped,
    view,
  };
}

const ROOT_COMPLEX_UNITS = new Set(['host-bridge', 'interrupts']);

/**
 * Where each record leaves the TLP in the picture. Decisions traced at the
 * root complex happen at the host bridge (the IOMMU) unless the TLP already
 * moved on to the interrupt hardware; delivered interrupts end at the CPUs,
 * memory accesses at their region.
 */
function storyTlp(tlp: Tlp, step: number, records: readonly TraceRecord<MachineEvent>[], places: ReadonlySet<string>, record: Ending | null): StoryTlp {
  let here: string | null = null;
  const move = (to: string | null) => {
    if (to === null || to === here) return null;
    here = to;
    return to;
  };
  const hops: StoryHop[] = [];
  let issued: Extract<MachineEvent, { type: 'tlp.issued' }> | null = null;
  let ending: StoryEnding | null = null;
  for (const r of records) {
    let place: string | null = null;
    let entry = describeRecord(r);
    switch (r.type) {
      case 'tlp.issued':
        issued = r;
        place = move(r.by === 'host' ? (r.kind === 'CplD' || r.kind === 'Cpl' ? 'host-bridge' : 'cpus') : places.has(r.by) ? r.by : null);
        entry = { at: r.time, device: r.by, decision: 'issue', rule: `${r.kind} ${r.at === 'untranslated' ? '' : `(AT=${r.at}) `}as requester ${r.requester}`, detail: `0x${r.address.toString(16)}, ${r.length} byte(s)` };
        break;
      case 'tlp.hop':
        if (r.node !== 'root-complex') place = move(places.has(r.node) ? r.node : null);
        else if (r.decision === 'decode' && isInterruptTarget(r.note)) place = move('interrupts');
        else if (here === null || !ROOT_COMPLEX_UNITS.has(here)) place = move('host-bridge');
        break;
      case 'tlp.ended': {
        const info = reasonInfo(record?.reason ?? r.reason);
        ending = {
          outcome: record?.outcome ?? r.outcome,
          reason: record?.reason ?? r.reason,
          title: info?.title ?? '',
          source: info?.source ?? '',
          rule: record?.rule ?? r.rule,
          decidedAt: record?.decidedAt ?? r.node,
          faultCode: faultCodeText(record?.faultCode ?? r.faultCode),
          target: r.target,
        };
        const target = tlp.target as { kind?: string; name?: string } | null;
        if (target?.kind === 'memory' && places.has(`mem:${target.name}`)) place = move(`mem:${target.name}`);
        else if (target?.kind === 'interrupt') place = move('cpus');
        else if (r.node !== 'root-complex' && places.has(r.node)) place = move(r.node);
        break;
      }
      case 'iommu.translate':
      case 'iommu.fault':
        place = move('host-bridge');
        break;
      case 'ir.remapped':
      case 'ir.fault':
      case 'gicv2m.spi':
      case 'gicv2m.dropped':
      case 'its.translated':
      case 'its.error':
        place = move('interrupts');
        break;
      case 'msi.delivered':
        place = move('cpus');
        break;
      default:
        break;
    }
    const e = entry ?? { at: r.time, device: r.type.split('.')[0]!, decision: r.type, rule: '', detail: '' };
    hops.push({ id: r.id, at: e.at, node: e.device, place, decision: e.decision, rule: e.rule, detail: e.detail ?? '' });
  }
  const first = issued as Extract<MachineEvent, { type: 'tlp.issued' }> | null;
  return {
    tlp: tlp.id,
    kind: first?.kind ?? tlp.type,
    by: first?.by ?? tlp.origin,
    requester: first?.requester ?? '?',
    address: tlp.issuedAddress,
    step,
    answers: tlp.request?.id ?? null,
    hops,
    ending,
    effects: record?.effects ?? [],
  };
}

function isInterruptTarget(name: string | undefined): boolean {
  return name === 'lapic-msi-window' || name === 'gicv2m' || name === 'gicv3-its';
}

/** Runs one variant and tells it (`explain`). */
export function storyOfVariant(loaded: Pick<LoadedScenario, 'file' | 'rules'>, variant: ScenarioVariant, seed: number): RunStory {
  return runStory(loaded, variant, runVariant(loaded, variant, seed));
}
