/**
 * Deferred invalidation as Linux's DMA API does it (drivers/iommu/dma-iommu.c):
 * __iommu_dma_unmap clears the page-table entries at once but, with a flush
 * queue, skips iommu_iotlb_sync and hands the IOVA to queue_iova. The queue
 * is a ring of `size` slots that holds size-1 entries (fq_full); queueing
 * into a full ring first flushes the domain's IOTLB (fq_flush_iotlb →
 * flush_iotlb_all) and then adds the new entry, which stays queued. The
 * first entry queued while no timer runs arms fq_timer for fq_timeout;
 * fq_flush_timeout flushes the whole domain when it fires, even if a
 * full-queue flush already emptied the ring. Until a flush, stale IOTLB
 * entries keep translating. Linux keeps one ring per CPU; the model has one.
 */
import { Priority, type EventHandler, type Kernel } from '../sim/kernel.ts';
import type { Domain } from './domain.ts';

export type FlushTrigger = 'timeout' | 'full';

export interface FlushTarget {
  /** Invalidates the domain's IOTLB entries and device TLBs (flush_iotlb_all). */
  flushDomain(domain: Domain, trigger: FlushTrigger, queued: number, pages: number): void;
}

interface QueuedUnmap {
  readonly first: number;
  readonly count: number;
}

export class FlushQueue implements EventHandler<null> {
  readonly name: string;
  private entries: QueuedUnmap[] = [];
  private timerOn = false;
  private readonly capacity: number;

  constructor(
    readonly domain: Domain,
    ringSize: number,
    private readonly timeoutNs: number,
    private readonly kernel: Kernel,
    private readonly target: FlushTarget,
  ) {
    this.name = `flush-queue:${domain.name}`;
    this.capacity = ringSize - 1;
  }

  /** Unmaps waiting for their IOTLB invalidation. */
  get length(): number {
    return this.entries.length;
  }

  /** True while the timer is armed. */
  get armed(): boolean {
    return this.timerOn;
  }

  /** Whether `page` was unmapped and its invalidation is still queued. */
  holds(page: number): boolean {
    return this.entries.some((e) => page >= e.first && page < e.first + e.count);
  }

  /** queue_iova: flush first when the ring is full, add, arm the timer if it is off. */
  queue(first: number, count: number): void {
    if (this.entries.length >= this.capacity) this.flush('full');
    this.entries.push({ first, count });
    if (!this.timerOn) {
      this.timerOn = true;
      this.kernel.schedule(this.timeoutNs, this, null, Priority.Timer);
    }
  }

  /** fq_flush_timeout. */
  handle(): void {
    this.timerOn = false;
    this.flush('timeout');
  }

  private flush(trigger: FlushTrigger): void {
    const queued = this.entries.length;
    let pages = 0;
    for (const e of this.entries) pages += e.count;
    this.entries = [];
    this.target.flushDomain(this.domain, trigger, queued, pages);
  }
}
