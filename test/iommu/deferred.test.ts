/**
 * Strict and deferred invalidation, as Linux's dma-iommu.c does them
 * (__iommu_dma_unmap, queue_iova, fq_flush_timeout), and the IOTLB window
 * they leave (VT-d 5.10 §3.7.1, §6.2.4, §6.5.3.6).
 */
import { describe, expect, it } from 'vitest';
import { attachDevice } from '../../src/iommu/iommu.ts';
import type { IommuConfigInput } from '../../src/iommu/config.ts';
import { setup, twoPorts } from './harness.ts';

const RAM = 0x4000_0000;
const US = 1_000;
const MS = 1_000_000;

function scenario(config: IommuConfigInput) {
  const h = setup(twoPorts, config);
  const vm1 = h.iommu.createDomain('vm1', 'paging');
  attachDevice(h.fabric, 'nic', vm1);
  h.iommu.map(vm1, 0x1000, RAM + 0x1000, 0x1000, 'rw');
  return { ...h, vm1 };
}

describe('the deferred-invalidation window (Linux __iommu_dma_unmap + queue_iova; VT-d §6.2.4)', () => {
  it.each([
    ['deferred', 'delivered', 'stale-iotlb'],
    ['strict', 'faulted', null],
  ] as const)('%s: a DMA 1 µs after unmap, IOTLB warmed before, is %s', (invalidation, outcome, source) => {
    const h = scenario({ model: 'vtd', invalidation });
    const warm = h.sendAt(1 * US, 'nic', { type: 'MemWr', address: 0x1000 });
    h.at(10 * US, () => h.iommu.unmap(h.vm1, 0x1000, 0x1000));
    const late = h.sendAt(11 * US, 'nic', { type: 'MemWr', address: 0x1040 });
    h.kernel.run(12 * US);
    expect(warm().outcome).toBe('delivered');
    expect(late().outcome).toBe(outcome);
    if (source !== null) {
      expect(late()).toMatchObject({ address: RAM + 0x1040 });
      expect(h.events('iommu.translate').at(-1)).toMatchObject({ tlp: late().id, source, stale: true, domain: 'vm1', hpa: RAM + 0x1040 });
      expect(h.vm1.lookup(0x1040)).toBeUndefined(); // the grant is gone; only the IOTLB still has it
      expect(h.iommu.grantFor(h.fabric.fn('nic').rid, 0x1040)).toBeUndefined();
      expect(h.iommu.iotlbLookup(h.vm1, 0x1040)).toEqual({ iova: 0x1000, hpa: RAM + 0x1000, perm: 'rw' });
    } else {
      expect(late()).toMatchObject({ reason: 'iommu.no-mapping', faultCode: 0x5 });
    }
  });

  it('deferred: faults again once the flush timer (IOVA_DEFAULT_FQ_TIMEOUT, 10 ms) has drained the queue', () => {
    const h = scenario({ model: 'vtd', invalidation: 'deferred' });
    h.sendAt(1 * US, 'nic', { type: 'MemWr', address: 0x1000 });
    h.at(10 * US, () => h.iommu.unmap(h.vm1, 0x1000, 0x1000));
    const before = h.sendAt(10 * US + 10 * MS - 1 * US, 'nic', { type: 'MemWr', address: 0x1000 });
    const after = h.sendAt(10 * US + 10 * MS + 1 * US, 'nic', { type: 'MemWr', address: 0x1000 });
    h.kernel.run();
    expect(before().outcome).toBe('delivered');
    expect(after()).toMatchObject({ outcome: 'faulted', reason: 'iommu.no-mapping', faultCode: 0x5 });
    expect(h.events('iommu.flush')).toMatchObject([{ domain: 'vm1', trigger: 'timeout', queued: 1, pages: 1 }]);
    expect(h.events('iommu.flush')[0]?.time).toBe(10 * US + 10 * MS);
  });

  it('deferred but never cached: the cleared page table faults at once (the window needs a warm IOTLB)', () => {
    const h = scenario({ model: 'vtd', invalidation: 'deferred' });
    h.iommu.unmap(h.vm1, 0x1000, 0x1000);
    expect(h.send('nic', { type: 'MemWr', address: 0x1000 }).outcome).toBe('faulted');
  });

  it('a full flush queue flushes the whole domain before queueing (fq_full → fq_flush_iotlb)', () => {
    const h = scenario({ model: 'vtd', invalidation: 'deferred', flushQueueSize: 2 });
    h.iommu.map(h.vm1, 0x2000, RAM + 0x2000, 0x1000, 'rw');
    h.send('nic', { type: 'MemWr', address: 0x1000 });
    h.send('nic', { type: 'MemWr', address: 0x2000 });
    h.iommu.unmap(h.vm1, 0x1000, 0x1000);
    h.iommu.unmap(h.vm1, 0x2000, 0x1000); // ring of 2 holds 1: flush, then queue this one
    expect(h.events('iommu.flush')).toMatchObject([{ trigger: 'full', queued: 1 }]);
    expect(h.send('nic', { type: 'MemWr', address: 0x1000 }).outcome).toBe('faulted');
    expect(h.send('nic', { type: 'MemWr', address: 0x2000 }).outcome).toBe('faulted'); // flush_iotlb_all took it too
  });

  it('a domain created strict stays strict on a deferred IOMMU (Linux: VFIO and untrusted devices)', () => {
    const h = setup(twoPorts, { model: 'vtd', invalidation: 'deferred' });
    const d = h.iommu.createDomain('vfio', 'paging', { invalidation: 'strict' });
    attachDevice(h.fabric, 'nic', d);
    h.iommu.map(d, 0x1000, RAM, 0x1000, 'rw');
    h.send('nic', { type: 'MemWr', address: 0x1000 });
    h.iommu.unmap(d, 0x1000, 0x1000);
    expect(h.send('nic', { type: 'MemWr', address: 0x1000 }).outcome).toBe('faulted');
    expect(h.iommu.flushQueue(d)).toBeUndefined();
  });

  it('strict unmap invalidates exactly the unmapped pages before it returns (iommu_iotlb_sync)', () => {
    const h = scenario({ model: 'vtd', invalidation: 'strict' });
    h.iommu.map(h.vm1, 0x2000, RAM + 0x2000, 0x1000, 'rw');
    h.send('nic', { type: 'MemWr', address: 0x1000 });
    h.send('nic', { type: 'MemWr', address: 0x2000 });
    h.iommu.unmap(h.vm1, 0x1000, 0x1000);
    expect(h.iommu.iotlb.list().map((e) => e.page)).toEqual([2]);
    expect(h.events('iommu.invalidate')).toMatchObject([{ scope: 'page', iova: 0x1000, pages: 1, dropped: 1, cause: 'unmap' }]);
  });
});

describe('IOTLB capacity and LRU replacement end to end (VT-d 5.10 §6.2.4)', () => {
  it('an evicted translation cannot go stale: only pages still cached outlive the unmap', () => {
    const h = scenario({ model: 'vtd', invalidation: 'deferred', iotlbCapacity: 2 });
    h.iommu.map(h.vm1, 0x2000, RAM + 0x2000, 0x2000, 'rw');
    for (const iova of [0x1000, 0x2000, 0x3000]) h.send('nic', { type: 'MemWr', address: iova }); // 0x3000 evicts 0x1000
    expect(h.iommu.iotlb.evictions).toBe(1);
    h.iommu.unmap(h.vm1, 0x1000, 0x3000);
    const results = [0x1000, 0x2000, 0x3000].map((iova) => h.fabric.issue('nic', { type: 'MemWr', address: iova }));
    h.kernel.run(h.kernel.now + 5 * US);
    expect(results.map((t) => t.outcome)).toEqual(['faulted', 'delivered', 'delivered']);
  });
});
