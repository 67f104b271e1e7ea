/**
 * Steps that wait on an event (`after:`) instead of a time: an attacker
 * that races the host's unmap or its IOTLB flush, or reacts to what its
 * read returned. Each waiting step is armed on its trigger; when the
 * trigger happens its step is scheduled on the kernel (plus its delay) —
 * never found by polling. Listeners are installed only for the kinds of
 * event some step waits on, so a scenario without `after:` pays nothing.
 * A trigger fires once; a step whose event never comes does not run, and
 * the run lists it (it is not an invariant violation).
 */
import type { Tlp } from '../pcie/tlp.ts';
import type { Machine } from './machine.ts';
import type { AfterSpec, StepEvent } from './model.ts';
import type { StepRecord } from './steps.ts';

type Fire = (record: StepRecord, delay: number) => void;

/** What a trigger needs told: steps that ran, TLPs that ended, IOTLB flushes. */
export interface WaitingSteps {
  /** A step's event ran (call after it was performed). */
  ran(record: StepRecord): void;
}

const HOST_EVENTS: Partial<Record<StepRecord['step']['kind'], StepEvent>> = { unmap: 'unmap', map: 'map', invalidate: 'invalidate' };
const NONE: WaitingSteps = { ran: () => undefined };

interface Waiter {
  readonly record: StepRecord;
  readonly after: AfterSpec;
  /** Listening (events after `after.step` ran, or from the start). */
  active: boolean;
  fired: boolean;
}

export function armWaitingSteps(machine: Machine, records: readonly StepRecord[], fire: Fire): WaitingSteps {
  const waiters: Waiter[] = records.flatMap((record) => (record.step.after ? [{ record, after: record.step.after, active: listensFromStart(record.step.after), fired: false }] : []));
  if (waiters.length === 0) return NONE;
  const byIndex = new Map(records.map((r) => [r.step.index, r]));
  const trigger = (w: Waiter) => {
    if (w.fired) return;
    w.fired = true;
    w.record.waitedFor = describeAfter(w.after);
    fire(w.record, w.after.delay);
  };
  const needs = (...events: StepEvent[]) => waiters.some((w) => events.includes(w.after.event));

  /** `tlp-ended`: the step ran, each TLP it issued ended, and each that completed had its completion end. */
  const settled = (step: number): boolean => {
    const record = byIndex.get(step);
    if (record === undefined || !record.performed) return false;
    return record.tlps.every((t) => t.outcome !== null && (t.outcome !== 'completed' || answered.has(t.id)));
  };
  const answered = new Set<number>();
  const onTlp = (tlp: Tlp) => {
    if (tlp.request !== null) answered.add(tlp.request.id);
    for (const w of waiters) {
      if (w.fired || !w.active) continue;
      const own = w.after.step === null || tlp.step === w.after.step;
      if (w.after.event === 'fault' && own && tlp.outcome === 'faulted') trigger(w);
      else if (w.after.event === 'interrupt' && own && tlp.reason === 'interrupt.delivered') trigger(w);
      else if (w.after.event === 'tlp-ended' && w.after.step !== null && tlp.step === w.after.step && settled(w.after.step)) trigger(w);
    }
  };
  if (needs('fault', 'interrupt', 'tlp-ended')) machine.fabric.onEnd(onTlp);
  if (needs('iotlb-flush')) {
    machine.trace.subscribe((r) => {
      if (r.type !== 'iommu.invalidate') return;
      for (const w of waiters) if (w.active && w.after.event === 'iotlb-flush') trigger(w);
    });
  }

  return {
    ran(record) {
      const index = record.step.index;
      const hostEvent = HOST_EVENTS[record.step.kind];
      for (const w of waiters) {
        if (w.fired) continue;
        // Host events count once the waiter listens: the step it names does not trigger itself.
        if (hostEvent !== undefined && w.active && w.after.event === hostEvent) trigger(w);
      }
      for (const w of waiters) {
        if (w.fired || w.after.step !== index) continue;
        w.active = true;
        if (w.after.event === 'ran') trigger(w);
        else if (w.after.event === 'tlp-ended' && settled(index)) trigger(w);
      }
    },
  };
}

/** Events about a step's own TLPs filter by step, so they listen from the start; host events after the step ran. */
function listensFromStart(after: AfterSpec): boolean {
  return after.step === null || after.event === 'fault' || after.event === 'interrupt' || after.event === 'tlp-ended';
}

/** "after step 2 ran + 1ns", "after the next iotlb-flush". */
export function describeAfter(after: AfterSpec): string {
  const delay = after.delay > 0 ? ` + ${after.delay}ns` : '';
  if (after.step === null) return `after the next ${after.event}${delay}`;
  if (after.event === 'ran') return `after step ${after.step} ran${delay}`;
  if (after.event === 'tlp-ended') return `after step ${after.step}'s TLPs ended${delay}`;
  if (after.event === 'fault' || after.event === 'interrupt') return `after step ${after.step}'s ${after.event}${delay}`;
  return `after the first ${after.event} after step ${after.step}${delay}`;
}
