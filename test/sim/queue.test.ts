/**
 * EventQueue against a reference model: whatever the interleaving of pushes
 * and pops, events leave in (time, priority, insertion) order — the SimPy
 * heap key (time, priority, id) — and each payload exactly once, including
 * across slot reuse and growth past the initial 1024 entries.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/queue.ts';

interface Ref {
  time: number;
  priority: number;
  seq: number;
}

const byKey = (a: Ref, b: Ref) => a.time - b.time || a.priority - b.priority || a.seq - b.seq;

type Op = { push: { time: number; priority: number } } | { pop: true };

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ push: fc.record({ time: fc.integer({ min: 0, max: 50 }), priority: fc.constantFrom(0, 10, 20) }) }) },
  { weight: 2, arbitrary: fc.constant({ pop: true as const }) },
);

function replay(ops: readonly Op[]): { got: number[]; want: number[] } {
  const queue = new EventQueue<string, number>();
  const pending: Ref[] = [];
  const got: number[] = [];
  const want: number[] = [];
  let seq = 0;
  for (const o of ops) {
    if ('push' in o) {
      queue.push(o.push.time, o.push.priority, 'h', seq);
      pending.push({ ...o.push, seq: seq++ });
    } else if (queue.pop()) {
      got.push(queue.poppedPayload!);
      pending.sort(byKey);
      want.push(pending.shift()!.seq);
    } else {
      expect(pending).toHaveLength(0);
    }
  }
  while (queue.pop()) got.push(queue.poppedPayload!);
  want.push(...pending.sort(byKey).map((r) => r.seq));
  return { got, want };
}

describe('EventQueue order (SimPy heap key: time, priority, sequence)', () => {
  it('matches a sorted reference for any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const { got, want } = replay(ops);
        expect(got).toEqual(want);
      }),
    );
  });

  it('reuses slots and grows past its initial capacity without losing or repeating a payload', () => {
    const ops: Op[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i++) ops.push({ push: { time: (i * 7919) % 1000, priority: 10 } });
      for (let i = 0; i < 2500; i++) ops.push({ pop: true });
    }
    const { got, want } = replay(ops);
    expect(got).toEqual(want);
    expect(new Set(got).size).toBe(9000);
  });

  it('releases popped payloads (a popped slot holds no reference)', () => {
    const queue = new EventQueue<string, object>();
    queue.push(1, 10, 'h', { big: true });
    queue.pop();
    const slots = (queue as unknown as { payloads: unknown[] }).payloads;
    expect(slots.every((p) => p === undefined)).toBe(true);
  });
});
