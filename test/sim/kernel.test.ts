import { describe, expect, it } from 'vitest';
import { Kernel, Priority, SimulationError, type EventHandler } from '../../src/sim/kernel.ts';
import { EventQueue } from '../../src/sim/queue.ts';

function recorder() {
  const seen: string[] = [];
  const handler: EventHandler<string> = {
    name: 'recorder',
    handle(payload, kernel) {
      seen.push(`${kernel.now}:${payload}`);
    },
  };
  return { seen, handler };
}

describe('Kernel ordering (time, priority, sequence)', () => {
  it('runs events in time order', () => {
    const kernel = new Kernel();
    const { seen, handler } = recorder();
    kernel.schedule(30, handler, 'c');
    kernel.schedule(10, handler, 'a');
    kernel.schedule(20, handler, 'b');
    kernel.run();
    expect(seen).toEqual(['10:a', '20:b', '30:c']);
  });

  it('breaks time ties by priority, then first-in-first-out', () => {
    const kernel = new Kernel();
    const { seen, handler } = recorder();
    kernel.schedule(5, handler, 'timer', Priority.Timer);
    kernel.schedule(5, handler, 'n1');
    kernel.schedule(5, handler, 'control', Priority.Control);
    kernel.schedule(5, handler, 'n2');
    kernel.schedule(5, handler, 'n3');
    kernel.run();
    expect(seen).toEqual(['5:control', '5:n1', '5:n2', '5:n3', '5:timer']);
  });

  it('keeps FIFO order for thousands of simultaneous events', () => {
    const queue = new EventQueue<string, number>();
    for (let i = 0; i < 5000; i++) queue.push(7, 1, 'h', i);
    const order: number[] = [];
    while (queue.pop()) order.push(queue.poppedPayload!);
    expect(order).toEqual([...Array(5000).keys()]);
  });

  it('run(until) stops at the horizon and leaves the clock there', () => {
    const kernel = new Kernel();
    const { seen, handler } = recorder();
    kernel.schedule(10, handler, 'a');
    kernel.schedule(100, handler, 'b');
    expect(kernel.run(50)).toBe(1);
    expect(kernel.now).toBe(50);
    expect(kernel.pending).toBe(1);
    kernel.run();
    expect(seen).toEqual(['10:a', '100:b']);
  });

  it('step handles exactly one event', () => {
    const kernel = new Kernel();
    const { seen, handler } = recorder();
    kernel.schedule(1, handler, 'a');
    kernel.schedule(1, handler, 'b');
    expect(kernel.step()).toBe(true);
    expect(seen).toEqual(['1:a']);
    expect(kernel.step()).toBe(true);
    expect(kernel.step()).toBe(false);
  });

  it('events scheduled by handlers at delay 0 run at the same instant, after those already queued', () => {
    const kernel = new Kernel();
    const { seen, handler } = recorder();
    const spawner: EventHandler<null> = {
      name: 'spawner',
      handle(_p, k) {
        k.schedule(0, handler, 'child');
      },
    };
    kernel.schedule(3, spawner, null);
    kernel.schedule(3, handler, 'sibling');
    kernel.run();
    expect(seen).toEqual(['3:sibling', '3:child']);
  });
});

describe('Kernel failures are loud', () => {
  it('names the event and the simulated time when a handler throws', () => {
    const kernel = new Kernel();
    kernel.schedule(42, { name: 'port sw-dp0', handle: () => { throw new Error('boom'); } }, { label: 'tlp#7 MemWr' });
    expect(() => kernel.run()).toThrowError(SimulationError);
    try {
      kernel.run();
    } catch (error) {
      expect((error as Error).message).toBe("event 'port sw-dp0: tlp#7 MemWr' at t=42ns failed: boom");
    }
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
  ])('rejects a %s delay', (_name, delay) => {
    expect(() => new Kernel().schedule(delay, recorder().handler, 'x')).toThrowError(RangeError);
  });

  it('rejects scheduling in the past', () => {
    const kernel = new Kernel();
    kernel.run(100);
    expect(() => kernel.scheduleAt(50, recorder().handler, 'x')).toThrowError(/clock is at 100ns/);
  });
});
