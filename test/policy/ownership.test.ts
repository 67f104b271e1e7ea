/**
 * Ownership over time (src/policy/ownership.ts, DESIGN.md §3): owners are
 * timelines, the fabric's Attribution reads them at the clock's instant
 * (when a TLP lands), and the verdict judges the spans so labelled. Both
 * sides of every change: 1 ns before, the old owner; at and after, the new.
 */
import { describe, expect, it } from 'vitest';
import type { Ending } from '../../src/fabric/ending.ts';
import { GrantLedger } from '../../src/policy/grants.ts';
import { Ownership, SCRATCH_SUB, Timeline } from '../../src/policy/ownership.ts';
import { judge } from '../../src/policy/verdict.ts';

const T = 1000;
const NIC_BAR = { name: 'nic.bar0', base: 0xc000_0000, size: 0x1_0000 };

function ownership(clock = { now: 0 }) {
  return new Ownership(
    [
      { name: 'host-ram', base: 0, size: 0x4000_0000, owner: 'host' },
      { name: 'vm1-page', base: 0x4000_0000, size: 0x1000, owner: 'vm1' },
    ],
    [{ ...NIC_BAR, owner: 'vm1', fn: 'nic', regions: [{ name: 'nic mailbox', offset: 0x8000, size: 0x1000, owner: 'host' }] }],
    new Map([['nic', 'vm1']]),
    clock,
  );
}

describe('Timeline: the value at t is the last change at or before t', () => {
  it.each([
    [T - 1, 'a'],
    [T, 'b'],
    [T + 1, 'b'],
    [2 * T, 'c'],
  ])('at %d', (time, value) => {
    const t = new Timeline('a');
    t.set(T, 'b');
    t.set(2 * T, 'c');
    expect(t.at(time)).toBe(value);
  });

  it('a second change at one instant replaces the first; a change in the past is refused', () => {
    const t = new Timeline('a');
    t.set(T, 'b');
    t.set(T, 'c');
    expect(t.changes()).toEqual([{ time: T, value: 'c' }]);
    expect(() => t.set(T - 1, 'd')).toThrow(RangeError);
  });
});

describe('memory regions changing owner', () => {
  it.each([
    [T - 1, 'vm1'],
    [T, 'host'],
    [T + 1, 'host'],
  ])('vm1-page freed at T, read at %d: %s', (time, owner) => {
    const o = ownership();
    o.reassignMemory('vm1-page', 'host', T);
    expect(o.memorySpansAt(time, 0x4000_0000, 4)).toEqual([{ base: 0x4000_0000, length: 4, kind: 'memory', region: 'vm1-page', sub: null, owner }]);
    expect(o.at(0x4000_0000, time)?.owner).toBe(owner);
  });

  it('the Attribution reads the clock: a TLP landing later sees the later owner', () => {
    const clock = { now: 0 };
    const o = ownership(clock);
    o.reassignMemory('vm1-page', 'vm2', T);
    clock.now = T - 1;
    expect(o.memorySpans(0x4000_0000, 4)[0]!.owner).toBe('vm1');
    clock.now = T + 1;
    expect(o.memorySpans(0x4000_0000, 4)[0]!.owner).toBe('vm2');
  });

  it('an unknown region is a programming error', () => expect(() => ownership().reassignMemory('nope', 'vm1', T)).toThrow(/no memory region 'nope'/));

  it('a scratch page (sink) holds nobody\'s data from its instant on, cut out of its region', () => {
    const o = ownership();
    o.addSink({ base: 0x1000, size: 0x1000 }, 'nic scratch page', T);
    expect(o.memorySpansAt(T - 1, 0x1ffe, 4).map((s) => s.owner)).toEqual(['host']);
    expect(o.memorySpansAt(T, 0x1ffe, 4)).toEqual([
      { base: 0x1ffe, length: 2, kind: 'memory', region: 'host-ram', sub: SCRATCH_SUB, owner: null },
      { base: 0x2000, length: 2, kind: 'memory', region: 'host-ram', sub: null, owner: 'host' },
    ]);
  });
});

describe('a BAR follows its function\'s owner; a sub-region another principal keeps does not', () => {
  it.each([
    ['0x100', T - 1, 'vm1'],
    ['0x100', T + 1, 'host'],
    ['0x8000 (the host\'s mailbox)', T - 1, 'host'],
    ['0x8000 (the host\'s mailbox)', T + 1, 'host'],
  ])('nic released to the host at T, BAR offset %s read at %d', (at, time, owner) => {
    const offset = parseInt(at, 16);
    const o = ownership();
    o.assignFunction('nic', 'host', T);
    expect(o.barSpansAt(time, NIC_BAR, NIC_BAR.base + offset, 4)[0]!.owner).toBe(owner);
    expect(o.ownerOfFunctionAt('nic', time)).toBe(offset === 0x100 ? owner : time < T ? 'vm1' : 'host');
  });

  it('a function nobody listed gets an owner from its first assignment', () => {
    const o = ownership();
    o.assignFunction('gpu', 'vm2', T);
    expect([o.ownerOfFunctionAt('gpu', T - 1), o.ownerOfFunctionAt('gpu', T)]).toEqual([null, 'vm2']);
  });

  it('actorOf defaults to the owner; DeviceControl\'s answer wins when set', () => {
    const o = ownership();
    expect(o.actorOf('nic')).toBe('vm1');
    o.actors = () => 'vm9';
    expect(o.actorOf('nic')).toBe('vm9');
  });
});

describe('the verdict judges records labelled at their landing instant (DESIGN.md §3)', () => {
  const write = (time: number, o: Ownership): Ending => ({
    tlp: time, type: 'MemWr', origin: 'gpu', principal: 'vm1', requester: 0x200, address: 0x4000_0000, length: 4, at: 'untranslated',
    outcome: 'delivered', reason: 'memory.write', rule: '', decidedAt: 'root-complex', faultCode: null, time, request: null, step: 0,
    effects: [{ kind: 'bytes', op: 'write', spans: o.memorySpansAt(time, 0x4000_0000, 4) }],
  });

  it.each([
    [T - 1, []],
    [T, [{ kind: 'memory-write', victim: 'host', bytes: 4 }]],
    [T + 1, [{ kind: 'memory-write', victim: 'host', bytes: 4 }]],
  ])('vm1-page freed at T; vm1\'s write landing at %d', (time, expected) => {
    const o = ownership();
    o.reassignMemory('vm1-page', 'host', T);
    expect(judge('vm1', [write(time, o)], new GrantLedger()).breaches).toMatchObject(expected);
  });

  it('a write into a scratch page is a stop, not a breach (xen.scratch-page)', () => {
    const o = ownership();
    o.addSink({ base: 0x4000_0000, size: 0x1000 }, 'scratch', T);
    const j = judge('vm1', [write(T, o)], new GrantLedger());
    expect(j.breaches).toEqual([]);
    expect(j.stopped).toMatchObject([{ reason: 'xen.scratch-page', outcome: 'delivered' }]);
  });
});

describe('GrantLedger.share: a principal joining a domain is granted what it maps from then on', () => {
  it.each([
    [T - 1, 1],
    [T, 0],
    [T + 1, 0],
  ])('vm2 joins at T; uncovered bytes for vm2 at %d', (time, holes) => {
    const ledger = new GrantLedger();
    ledger.map('d', ['vm1'], { iova: 0, hpa: 0x1000, size: 0x100, perm: 'rw' }, 0);
    ledger.share('d', 'vm2', T);
    expect(ledger.uncovered('vm2', 0x1000, 4, 'write', time)).toHaveLength(holes);
    expect(ledger.uncovered('vm1', 0x1000, 4, 'write', time)).toHaveLength(0);
  });

  it('a grant mapped after the join is unaffected, one mapped at the join instant is shared in place', () => {
    const ledger = new GrantLedger();
    ledger.map('d', ['vm1'], { iova: 0, hpa: 0x1000, size: 0x100, perm: 'rw' }, T);
    ledger.share('d', 'vm2', T);
    expect(ledger.all).toHaveLength(1);
    expect(ledger.all[0]!.principals).toEqual(['vm1', 'vm2']);
  });
});
