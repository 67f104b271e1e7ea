import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sim/rng.ts';
import { Trace } from '../../src/sim/trace.ts';
import { formatDuration, parseDuration } from '../../src/sim/time.ts';

describe('Rng (seedrandom)', () => {
  it('repeats its stream for the same seed and differs for another', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, ((rng) => () => rng.int(1000))(new Rng(seed)));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('forks independent, reproducible child streams', () => {
    const a = new Rng(7).fork('attacker');
    const b = new Rng(7).fork('attacker');
    const c = new Rng(7).fork('victim');
    expect(a.next()).toBe(b.next());
    expect(a.next()).not.toBe(c.next());
  });

  it('rejects empty picks and non-positive bounds', () => {
    expect(() => new Rng(1).pick([])).toThrowError(RangeError);
    expect(() => new Rng(1).int(0)).toThrowError(RangeError);
  });
});

describe('Trace', () => {
  it('numbers records from 1 and stamps the clock', () => {
    const clock = { now: 5 };
    const trace = new Trace<{ type: 'x'; n: number }>(clock, { enabled: true });
    expect(trace.emit({ type: 'x', n: 1 })).toBe(1);
    clock.now = 9;
    expect(trace.emit({ type: 'x', n: 2 })).toBe(2);
    expect(trace.get(2)).toEqual({ type: 'x', n: 2, id: 2, time: 9 });
  });

  it('streams records to subscribers until they unsubscribe', () => {
    const trace = new Trace<{ type: 'x' }>({ now: 0 }, { enabled: true });
    const seen: number[] = [];
    const stop = trace.subscribe((r) => seen.push(r.id));
    trace.emit({ type: 'x' });
    stop();
    trace.emit({ type: 'x' });
    expect(seen).toEqual([1]);
  });
});

describe('durations', () => {
  it.each([
    ['100ns', 100],
    ['1us', 1000],
    ['2.5us', 2500],
    ['10ms', 10_000_000],
    ['1s', 1_000_000_000],
    ['42', 42],
    [42, 42],
  ])('parses %s', (text, ns) => expect(parseDuration(text)).toBe(ns));

  it.each(['', 'ms', '-1ns', '0.5ns', '1 hour', 1.5])('rejects %s', (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    [0, '0ns'],
    [1500, '1500ns'],
    [2000, '2us'],
    [10_000_000, '10ms'],
  ])('formats %d as %s', (ns, text) => expect(formatDuration(ns)).toBe(text));
});
