/** The flush queue, as Linux's dma-iommu.c queue_iova / fq_flush_timeout do it. */
import { describe, expect, it } from 'vitest';
import { Kernel } from '../../src/sim/kernel.ts';
import { Domain } from '../../src/iommu/domain.ts';
import { FlushQueue, type FlushTrigger } from '../../src/iommu/flush-queue.ts';

function queue(size: number, timeout = 1000) {
  const kernel = new Kernel();
  const flushes: { at: number; trigger: FlushTrigger; queued: number; pages: number }[] = [];
  const target = { flushDomain: (_d: Domain, trigger: FlushTrigger, queued: number, pages: number) => void flushes.push({ at: kernel.now, trigger, queued, pages }) };
  const q = new FlushQueue(new Domain(1, 'd', 'paging', 'deferred', {}), size, timeout, kernel, target);
  return { kernel, flushes, q };
}

describe('FlushQueue (Linux dma-iommu.c queue_iova, fq_full, fq_flush_timeout)', () => {
  it('holds size-1 entries; queueing into a full ring flushes first, then adds (fq_full)', () => {
    const { q, flushes } = queue(4);
    for (let i = 0; i < 3; i++) q.queue(i, 1);
    expect(flushes).toEqual([]);
    q.queue(3, 2);
    expect(flushes).toEqual([{ at: 0, trigger: 'full', queued: 3, pages: 3 }]);
    expect(q.length).toBe(1);
    expect(q.holds(4)).toBe(true);
  });

  it('arms the timer once, on the first entry; the timeout flushes everything queued since', () => {
    const { q, flushes, kernel } = queue(16, 1000);
    q.queue(1, 1);
    kernel.run(500);
    q.queue(2, 1);
    kernel.run();
    expect(flushes).toEqual([{ at: 1000, trigger: 'timeout', queued: 2, pages: 2 }]);
    expect(q.armed).toBe(false);
  });

  it('the timer still fires (and flushes) after a full-queue flush emptied the ring', () => {
    const { q, flushes, kernel } = queue(2, 1000);
    q.queue(1, 1);
    q.queue(2, 1); // full: flushes entry 1, queues entry 2
    kernel.run();
    expect(flushes.map((f) => [f.at, f.trigger, f.queued])).toEqual([
      [0, 'full', 1],
      [1000, 'timeout', 1],
    ]);
  });
});
