/**
 * `explain`: one variant run told step by step — each TLP's path with the
 * rule that decided each hop — and `send`: a single what-if TLP on a
 * variant's machine.
 */
import { ACS_FLAGS, Acs } from '../pcie/acs.ts';
import { formatRid, parseBdf, requesterId } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { Effect, Ending } from '../fabric/ending.ts';
import { evaluateGates } from './gates.ts';
import type { LoadedScenario, ScenarioVariant } from './load.ts';
import { buildMachine } from './machine.ts';
import type { HostAction } from './machine-host.ts';
import type { ScenarioSpec, StepSpec } from './model.ts';
import type { GateResult, RunResult } from './results.ts';
import { judgeContext, runVariant } from './runner.ts';
import { judge } from '../policy/verdict.ts';
import { recordsByTlp, tlpStory, type PathEntry, type TlpStory } from './story.ts';
import { describeAfter } from './triggers.ts';

export interface StepExplanation {
  readonly step: StepSpec;
  readonly tlps: readonly TlpStory[];
  /** The host's refusal of the step (VFIO, xen-pciback), when it never became a TLP. */
  readonly refused: Ending | null;
  /** What the host did for a host step, each part with its source. */
  readonly actions: readonly HostAction[];
  /** When it ran (ns); -1 when it waited on an event that never came. */
  readonly ranAt: number;
}

export interface Explanation {
  readonly scenario: string;
  readonly title: string;
  readonly summary: string;
  readonly result: RunResult;
  readonly gates: readonly GateResult[];
  readonly steps: readonly StepExplanation[];
  readonly bdfs: ReadonlyMap<string, string>;
  /** What the host set up before any step (ACS it enabled, the IOMMU it forced on, Thunderbolt's DMA protection). */
  readonly setup: readonly HostAction[];
  /** What each device's identity says about its silicon (Linux's quirk and the fact it relies on). */
  readonly hardware: readonly HardwareFact[];
}

export interface HardwareFact {
  readonly device: string;
  readonly fact: string;
  readonly quirk: string;
  readonly title: string;
  readonly honoured: boolean;
  /** The controls the silicon puts in force here, e.g. "SV RR CR UF"; empty when none. */
  readonly inForce: string;
  readonly source: string;
}

/** The silicon facts the variant's devices carry, as `explain` prints them. */
export function hardwareFacts(spec: ScenarioSpec): HardwareFact[] {
  return spec.machine.fabric.functions.flatMap((f) => {
    if (f.silicon === undefined) return [];
    const { fact, honoured, forced } = f.silicon;
    const inForce = honoured ? ACS_FLAGS.filter((flag) => (forced & Acs[flag]) !== 0).join(' ') : '';
    return [{ device: f.id, fact: fact.id, quirk: fact.quirk, title: fact.title, honoured, inForce, source: fact.source }];
  });
}

export function explainVariant(loaded: LoadedScenario, variant: ScenarioVariant, seed: number): Explanation {
  const run = runVariant(loaded, variant, seed);
  const records = run.machine.trace.records;
  const completionsOf = new Map<number, Tlp[]>();
  for (const tlp of run.ended) {
    if (tlp.request === null) continue;
    const list = completionsOf.get(tlp.request.id) ?? [];
    list.push(tlp);
    completionsOf.set(tlp.request.id, list);
  }
  const index = recordsByTlp(records);
  const endingOf = new Map(run.endings.flatMap((e) => (e.tlp === null ? [] : [[e.tlp, e] as const])));
  const steps = run.steps.map((record) => ({
    step: record.step,
    tlps: record.tlps.flatMap((tlp) => [tlp, ...(completionsOf.get(tlp.id) ?? [])]).map((tlp) => tlpStory(records, tlp.id, endingOf.get(tlp.id), index)),
    refused: record.refused,
    actions: record.actions,
    ranAt: record.ranAt,
  }));
  const bdfs = new Map([...run.machine.fabric.functions.values()].map((fn) => [fn.id, fn.bdf]));
  return { scenario: loaded.name, title: loaded.title, summary: loaded.summary, result: run.result, gates: run.result.gates, steps, bdfs, setup: run.machine.host.setup, hardware: hardwareFacts(variant.spec) };
}

export interface WhatIf {
  readonly from: string;
  readonly op: 'write' | 'read';
  readonly address: number;
  readonly data: number;
  readonly as: string | null;
  readonly translated: boolean;
  /** Exact hex text of an address at or above 2^53 (`address` stands for it). */
  readonly exactAddress?: string | null;
}

export interface SendResult {
  readonly schema: 'tlplab/send-v1';
  readonly outcome: string;
  readonly reason: string;
  readonly faultCode: string | null;
  readonly path: readonly PathEntry[];
  readonly interrupt?: { readonly vector: number; readonly destination: number; readonly irte: number | null };
  readonly target: string | null;
  /** What it touched: the ending record's effects (byte spans with owners, interrupt receivers). */
  readonly effects: readonly Effect[];
  readonly gates: readonly GateResult[];
  /** The TLP judged as a run judges its steps, with the owner of `from` as the attacker (DESIGN.md §3). */
  readonly verdict: 'breached' | 'isolated';
  readonly attacker: string;
  readonly breaches: readonly { readonly kind: string; readonly victim: string; readonly detail: string }[];
}

export class WhatIfError extends Error {
  readonly userFacing = true;
  readonly code = 'BAD_WHAT_IF';
}

/** One TLP from `from` on the variant's machine at t=0, with no scenario steps. */
export function sendWhatIf(variant: ScenarioVariant, seed: number, whatIf: WhatIf): SendResult {
  const machine = buildMachine(variant.spec, seed);
  const fn = machine.fabric.functions.get(whatIf.from);
  if (fn === undefined) throw new WhatIfError(`--from '${whatIf.from}' is not a device of this scenario (devices: ${[...machine.fabric.functions.keys()].join(', ')})`);
  let forged: number | undefined;
  if (whatIf.as !== null) {
    try {
      const bdf = parseBdf(whatIf.as);
      forged = requesterId(bdf.bus, bdf.device, bdf.fn);
    } catch (error) {
      throw new WhatIfError(`--as: ${(error as Error).message}`);
    }
  }
  const endings: Ending[] = [];
  machine.fabric.onEnding((e) => endings.push(e));
  const tlp = machine.fabric.issue(fn, {
    type: whatIf.op === 'write' ? 'MemWr' : 'MemRd',
    address: whatIf.address,
    ...(whatIf.exactAddress ? { exactAddress: whatIf.exactAddress } : {}),
    data: whatIf.data,
    length: 4,
    at: whatIf.translated ? 'translated' : 'untranslated',
    ...(forged === undefined ? {} : { requesterId: forged }),
  });
  machine.kernel.run();
  const attacker = machine.ownership.ownerOfFunction(whatIf.from) ?? 'host';
  const judgement = judge(attacker, endings, machine.grants, judgeContext(machine));
  const ending = endings.find((e) => e.tlp === tlp.id);
  const story = tlpStory(machine.trace.records, tlp.id, ending);
  const delivery = ending?.effects.find((e) => e.kind === 'interrupt') ?? null;
  return {
    schema: 'tlplab/send-v1',
    outcome: tlp.outcome ?? 'in-flight',
    reason: tlp.reason,
    faultCode: story.faultCode,
    path: story.path,
    ...(delivery === null ? {} : { interrupt: { vector: delivery.vector, destination: delivery.destination, irte: delivery.entry } }),
    target: story.target,
    effects: ending?.effects ?? [],
    gates: evaluateGates(machine),
    verdict: judgement.verdict,
    attacker,
    breaches: judgement.breaches.map((b) => ({ kind: b.kind, victim: b.victim, detail: b.detail })),
  };
}

export function describeStep(step: StepSpec): string {
  const what = describeAction(step);
  return step.after ? `${what} (${describeAfter(step.after)})` : what;
}

function describeAction(step: StepSpec): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const target = (t: { address: number; exact?: string | null } | { bar: { device: string; index: number }; offset: number }) =>
    'address' in t ? (t.exact ?? hex(t.address)) : `${t.bar.device}.bar${t.bar.index}+${hex(t.offset)}`;
  const mods = 'from' in step ? `${step.as === null ? '' : ` as ${formatRid(step.as)}`}${step.translated ? ' (AT=translated)' : ''}` : '';
  switch (step.kind) {
    case 'write':
      return `${step.from} writes ${hex(step.data)} to ${target(step.target)}${mods}`;
    case 'read':
      return `${step.from} reads ${step.size} byte(s) at ${target(step.target)}${mods}`;
    case 'msi':
      return step.irte !== null
        ? `${step.from} sends a remappable MSI naming IRTE ${step.irte}${mods}`
        : step.irteOf !== null
          ? `${step.from} replays ${step.irteOf}'s MSI message for vector ${step.vector ?? 0}${mods}`
          : `${step.from} raises its own vector ${step.vector ?? 0}${mods}`;
    case 'ats-translate':
      return `${step.from} asks the IOMMU to translate ${hex(step.address)} (ATS)${mods}`;
    case 'map':
      return `host maps ${hex(step.mapping.iova)}+${hex(step.mapping.size)} in domain ${step.domain} (${step.mapping.perm})`;
    case 'unmap':
      return `host unmaps ${hex(step.iova)}+${hex(step.size)} from domain ${step.domain}`;
    case 'invalidate':
      return `host invalidates the ${step.what === 'iec' ? 'interrupt entry cache' : step.what === 'ats' ? 'device TLBs' : 'IOTLB'}`;
    case 'irte-write': {
      const e = step.irte;
      const what = !e.present ? 'not present' : e.posted !== null ? `posted vector ${hex(e.vector)} to descriptor ${hex(e.posted.descriptor)}` : `vector ${hex(e.vector)} to CPU ${e.destination}`;
      return `host writes IRTE ${e.index} (${what}, owner ${e.owner ?? 'none'}) without invalidating the interrupt entry cache`;
    }
    case 'config-write':
      return `${step.by} writes ${hex(step.value)} to config offset ${hex(step.offset)} of ${step.device}`;
    case 'mmio-write':
      return `${step.by} stores ${hex(step.value)} at ${target(step.target)} (MMIO)`;
    case 'wait':
      return `wait ${step.duration}ns`;
    case 'assign':
      return `host assigns ${step.device} to ${step.to}${step.domain === null ? '' : ` (domain ${step.domain})`}`;
    case 'release':
      return `host takes ${step.device} back${step.domain === null ? '' : ` (domain ${step.domain})`}`;
    case 'reset':
      return `host resets ${step.device} (${step.reset === 'none' ? 'no reset method' : step.reset === 'flr' ? 'function level reset' : 'secondary bus reset'})`;
    case 'reassign-memory':
      return `memory ${step.region} passes to ${step.to}`;
    case 'free':
      return `memory ${step.region} is freed to the host's allocator`;
    case 'hot-plug':
      return `${step.device} is plugged in`;
    case 'hot-unplug':
      return `${step.device} is removed`;
    case 'boot':
      return step.phase === 'exit-boot-services' ? 'firmware calls ExitBootServices' : 'the OS initialises its IOMMU driver';
  }
}
