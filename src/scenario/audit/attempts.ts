/**
 * The one adapter between a variant run and the audit: each TLP a device
 * step put on the fabric, with what the verdict engine made of it (a
 * breach, a stopped attempt, or neither: it stayed within the attacker's
 * grants), its ending record (outcome, registered reason, where it was
 * decided, every effect with its owner) and its path hop by hop from the
 * trace. The audit judges nothing itself: the verdict comes from
 * runVariant's judgement, which reads only the ending records (DESIGN.md §3).
 */
import type { Ending } from '../../fabric/ending.ts';
import type { Breach, Stop } from '../../policy/verdict.ts';
import type { DeviceStep } from '../model.ts';
import type { VariantRun } from '../runner.ts';
import { recordsByTlp, tlpStory, type TlpStory } from '../story.ts';

export interface Attempt {
  readonly step: DeviceStep;
  readonly tlp: number;
  readonly judged: 'breach' | 'stopped' | 'within-grants';
  /** The first breach it caused (one per victim; the audit names one victim per attempt). */
  readonly breach: Breach | null;
  readonly stop: Stop | null;
  readonly ending: Ending;
  /** Hops, translations and the ending, from the trace. */
  readonly story: TlpStory;
}

export function attemptsOf(run: VariantRun): Attempt[] {
  const endings = new Map(run.endings.flatMap((e) => (e.tlp === null ? [] : [[e.tlp, e] as const])));
  const records = run.machine.trace.records;
  const index = recordsByTlp(records);
  const breachOf = new Map<number, Breach>();
  for (const breach of run.judgement.breaches) if (!breachOf.has(breach.tlp)) breachOf.set(breach.tlp, breach);
  const stopOf = new Map(run.judgement.stopped.flatMap((s) => (s.tlp === null ? [] : [[s.tlp, s] as const])));
  const attempts: Attempt[] = [];
  for (const record of run.steps) {
    if (!('from' in record.step)) continue;
    for (const { id } of record.tlps) {
      const breach = breachOf.get(id) ?? null;
      const stop = stopOf.get(id) ?? null;
      attempts.push({
        step: record.step,
        tlp: id,
        judged: breach !== null ? 'breach' : stop !== null ? 'stopped' : 'within-grants',
        breach,
        stop,
        ending: endings.get(id)!,
        story: tlpStory(records, id, endings.get(id), index),
      });
    }
  }
  return attempts;
}
