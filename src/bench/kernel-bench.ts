/**
 * Kernel throughput: `processes` self-rescheduling event chains, each event
 * scheduling the next of its chain after a pseudo-random delay (an LCG, so
 * both loops do identical work), until `events` events have been handled.
 * The same workload runs on the tlplab kernel and on the bare heap loop.
 */
import { Kernel, type EventHandler } from '../sim/kernel.ts';
import { BareHeap } from './bare-heap.ts';
import { measure, type MeasureOptions } from './measure.ts';

export interface KernelFigures {
  readonly events: number;
  readonly kernelEventsPerSecond: number;
  readonly bareEventsPerSecond: number;
  /** kernel / bare: 1.0 means no overhead over a bare binary-heap loop. */
  readonly ratio: number;
}

const nextDelay = (state: number) => (Math.imul(state, 1103515245) + 12345) >>> 0;

export function kernelWorkload(events: number, processes = 1000): number {
  const kernel = new Kernel();
  let remaining = events;
  const chain: EventHandler<{ state: number }> = {
    name: 'chain',
    handle(payload, k) {
      if (--remaining <= 0) return;
      payload.state = nextDelay(payload.state);
      k.schedule(payload.state & 1023, chain, payload);
    },
  };
  for (let p = 0; p < processes; p++) kernel.schedule(p, chain, { state: p });
  kernel.run();
  return kernel.eventsHandled;
}

export function bareWorkload(events: number, processes = 1000): number {
  const heap = new BareHeap();
  const states = new Uint32Array(processes);
  let remaining = events;
  let handled = 0;
  for (let p = 0; p < processes; p++) {
    states[p] = p;
    heap.push(p, p);
  }
  for (let event = heap.pop(); event !== undefined; event = heap.pop()) {
    handled++;
    if (--remaining <= 0) continue;
    const state = nextDelay(states[event.payload]!);
    states[event.payload] = state;
    heap.push(event.time + (state & 1023), event.payload);
  }
  return handled;
}

export function benchKernel(events: number, options: MeasureOptions = {}): KernelFigures {
  const kernel = measure(() => kernelWorkload(events), options);
  const bare = measure(() => bareWorkload(events), options);
  const perSecond = (ms: number) => Math.round((events / ms) * 1000);
  return {
    events,
    kernelEventsPerSecond: perSecond(kernel.medianMs),
    bareEventsPerSecond: perSecond(bare.medianMs),
    ratio: bare.medianMs / kernel.medianMs,
  };
}
