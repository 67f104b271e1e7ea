/**
 * The one adapter between a variant run and the audit: each TLP a device
 * step put on the fabric, with what the verdict engine made of it (a
 * breach, a stopped attempt, or neither: it stayed within the attacker's
 * grants) and its path hop by hop from the trace. The audit judges nothing
 * itself; it reads runVariant's judgement (DESIGN.md §3).
 *
 * When every TLP ends in one typed ending record (issue 11), this is the
 * function to switch over: take `judged` from the record's verdict and
 * `path` from its hops.
 */
import type { Breach, Refusal } from '../../policy/verdict.ts';
import type { DeviceStep } from '../model.ts';
import type { VariantRun } from '../runner.ts';
import { tlpStories, type TlpStory } from '../story.ts';

export interface Attempt {
  readonly step: DeviceStep;
  readonly tlp: number;
  readonly judged: 'breach' | 'stopped' | 'within-grants';
  readonly breach: Breach | null;
  readonly refusal: Refusal | null;
  /** Hops, translations and the ending, from the trace. */
  readonly story: TlpStory;
}

export function attemptsOf(run: VariantRun): Attempt[] {
  const records = run.machine.trace.records;
  const stories = tlpStories(records);
  const tlpOfRecord = (id: number) => (records[id - 1] as { tlp?: number } | undefined)?.tlp;
  const breachOf = new Map<number, Breach>();
  for (const breach of run.judgement.breaches) {
    const tlp = breach.evidence.map(tlpOfRecord).find((t) => t !== undefined);
    if (tlp !== undefined && !breachOf.has(tlp)) breachOf.set(tlp, breach);
  }
  const refusalOf = new Map(run.judgement.refusals.map((r) => [r.tlp, r]));
  const attempts: Attempt[] = [];
  for (const record of run.steps) {
    if (!('from' in record.step)) continue;
    for (const { id } of record.tlps) {
      const breach = breachOf.get(id) ?? null;
      const refusal = refusalOf.get(id) ?? null;
      attempts.push({
        step: record.step,
        tlp: id,
        judged: breach !== null ? 'breach' : refusal !== null ? 'stopped' : 'within-grants',
        breach,
        refusal,
        story: stories.get(id)!,
      });
    }
  }
  return attempts;
}
