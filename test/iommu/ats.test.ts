/**
 * ATS (PCIe 6.0 §10; VT-d 5.10 §4): translation requests answered from the
 * IOMMU's tables, translated requests let through only when the context
 * allows a device TLB, device-TLB invalidation, and what a hostile device
 * can do with a translation it keeps (Thunderclap, NDSS 2019).
 */
import { describe, expect, it } from 'vitest';
import { attachDevice } from '../../src/iommu/iommu.ts';
import { requestTranslation } from '../../src/iommu/ats.ts';
import type { InvalidationPolicy } from '../../src/iommu/config.ts';
import { acs, switchPair } from '../fabric/build.ts';
import { setup, twoPorts } from './harness.ts';

const RAM = 0x4000_0000;

function ats(deviceTlb: boolean, invalidation: InvalidationPolicy = 'strict') {
  const h = setup(twoPorts, { model: 'vtd', invalidation });
  const vm1 = h.iommu.createDomain('vm1', 'paging', { deviceTlb });
  attachDevice(h.fabric, 'nic', vm1);
  h.iommu.map(vm1, 0x3000, RAM + 0x3000, 0x1000, 'rw');
  h.iommu.map(vm1, 0x4000, RAM + 0x4000, 0x1000, 'r');
  return { ...h, vm1 };
}

function translate(h: ReturnType<typeof ats>, iova: number) {
  const tlp = requestTranslation(h.fabric, 'nic', iova);
  h.kernel.run();
  return tlp;
}

describe('ATS with device-TLB permission (VT-d 5.10 §4.2.3, §4.2.5; context TT=01b)', () => {
  it('a translation request is completed from the page table and the completion fills the ATC', () => {
    const h = ats(true);
    const tlp = translate(h, 0x3000);
    expect(tlp).toMatchObject({ outcome: 'completed', reason: 'ats.translated' });
    expect(h.events('ats.translate')[0]).toMatchObject({ iova: 0x3000, hpa: RAM + 0x3000, read: true, write: true, untranslatedOnly: false });
    expect(h.iommu.atc.lookup('nic', 0x3000)).toMatchObject({ hpa: RAM + 0x3000, read: true, write: true });
  });

  it.each([
    ['read-only page', 0x4000, { read: true, write: false }, { read: true, write: false }],
    ['unmapped page (Table 30: success with R=W=0, no fault)', 0x9000, { read: false, write: false }, undefined],
    ['interrupt window (Table 30 S.1: W=U=1, R=0)', 0xfee0_0000, { read: false, write: true, untranslatedOnly: true }, undefined],
  ] as const)('%s', (_case, iova, bits, cached) => {
    const h = ats(true);
    expect(translate(h, iova).outcome).toBe('completed');
    expect(h.events('ats.translate')[0]).toMatchObject(bits);
    expect(h.iommu.faults).toEqual([]);
    const entry = h.iommu.atc.lookup('nic', iova);
    if (cached === undefined) expect(entry).toBeUndefined();
    else expect(entry).toMatchObject(cached);
  });

  it('a translated request passes untranslated, to whatever address it names', () => {
    const h = ats(true);
    translate(h, 0x3000);
    const address = h.iommu.atc.translate('nic', 0x3010, true)!;
    const tlp = h.send('nic', { type: 'MemWr', address, at: 'translated' });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: RAM + 0x3010 });
    expect(h.events('iommu.translate').at(-1)).toMatchObject({ source: 'translated', domain: 'vm1' });
    // The IOMMU does not check the address against the page table (Thunderclap):
    expect(h.send('nic', { type: 'MemWr', address: 0x7000_0000, at: 'translated' }).outcome).toBe('delivered');
  });

  it('a translated request into the interrupt window is an Unsupported Request, not an LGN.4 fault (VT-d 4.1 §3.15)', () => {
    for (const deviceTlb of [true, false]) {
      const h = ats(deviceTlb);
      expect(h.send('nic', { type: 'MemWr', address: 0xfee0_0000, at: 'translated' })).toMatchObject({ outcome: 'unsupported-request', reason: 'iommu.translated-interrupt-range', faultCode: null });
      expect(h.iommu.faults).toEqual([]);
    }
  });
});

describe('ATS without device-TLB permission (VT-d 5.10 Table 30 LCT.5, context TT=00b)', () => {
  it.each([
    ['translation request', { type: 'MemRd', address: 0x3000, length: 8, at: 'translation-request' }, 'iommu.translation-request-blocked'],
    ['translated write', { type: 'MemWr', address: RAM + 0x3000, at: 'translated' }, 'iommu.translated-request-blocked'],
    ['translated read', { type: 'MemRd', address: RAM + 0x3000, at: 'translated' }, 'iommu.translated-request-blocked'],
  ] as const)('%s faults 0xD', (_case, init, reason) => {
    const h = ats(false);
    expect(h.send('nic', init)).toMatchObject({ outcome: 'faulted', reason, faultCode: 0xd });
    expect(h.iommu.faults[0]?.name).toBe('LCT.5');
  });

  it('a memory write with AT = translation request is an Unsupported Request (§4.2.1)', () => {
    const h = ats(true);
    expect(h.send('nic', { type: 'MemWr', address: 0x3000, at: 'translation-request' })).toMatchObject({ outcome: 'unsupported-request', reason: 'ats.malformed' });
  });
});

describe('ACS Translation Blocking stops translated requests at the port (VT-d 5.10 §4.2.2; PCIe 6.0 §6.12.1.1)', () => {
  it.each([
    ['TB on', 'blocked', acs(['SV', 'TB', 'RR', 'CR', 'UF'])],
    ['TB off', 'delivered', acs(['SV', 'RR', 'CR', 'UF'])],
  ] as const)('%s at the downstream port → %s', (_case, outcome, dp0) => {
    const h = setup(switchPair(dp0), { model: 'vtd' });
    attachDevice(h.fabric, 'a', h.iommu.createDomain('d', 'paging', { deviceTlb: true }));
    const tlp = h.send('a', { type: 'MemWr', address: RAM, at: 'translated' });
    expect(tlp.outcome).toBe(outcome);
    if (outcome === 'blocked') {
      expect(tlp).toMatchObject({ reason: 'acs.translation-blocking', decidedAt: 'dp0' });
      expect(h.events('iommu.translate')).toEqual([]); // never presented to the IOMMU
      expect(h.events('iommu.fault')).toEqual([]);
    }
  });
});

describe('device-TLB invalidation (VT-d 5.10 §4.3; PCIe 6.0 §10.3)', () => {
  it('strict unmap sends an invalidate request; a compliant device drops the entry', () => {
    const h = ats(true);
    translate(h, 0x3000);
    h.iommu.unmap(h.vm1, 0x3000, 0x1000);
    h.kernel.run();
    expect(h.events('ats.invalidate')).toMatchObject([{ target: h.fabric.fn('nic').bdf, iova: 0x3000, size: 0x1000 }]);
    expect(h.events('ats.invalidated')).toMatchObject([{ fn: 'nic', dropped: 1, ignored: false }]);
    expect(h.iommu.atc.entries('nic')).toEqual([]);
  });

  it('a hostile device keeps its translation and still reaches the unmapped page with translated requests', () => {
    const h = ats(true);
    h.iommu.atc.ignoreInvalidations('nic');
    translate(h, 0x3000);
    h.iommu.unmap(h.vm1, 0x3000, 0x1000);
    h.kernel.run();
    expect(h.events('ats.invalidated')).toMatchObject([{ fn: 'nic', dropped: 0, ignored: true }]);
    const address = h.iommu.atc.translate('nic', 0x3000, true)!;
    const tlp = h.send('nic', { type: 'MemWr', address, at: 'translated' });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: RAM + 0x3000 });
    expect(h.vm1.lookup(0x3000)).toBeUndefined();
  });

  it('deferred: the device TLB is invalidated only when the flush queue drains', () => {
    const h = ats(true, 'deferred');
    translate(h, 0x3000);
    h.iommu.unmap(h.vm1, 0x3000, 0x1000);
    h.kernel.run(h.kernel.now + 1_000);
    expect(h.iommu.atc.lookup('nic', 0x3000)).toBeDefined();
    h.kernel.run();
    expect(h.events('ats.invalidate')).toMatchObject([{ iova: null }]);
    expect(h.iommu.atc.lookup('nic', 0x3000)).toBeUndefined();
  });

  it('a translation request after a deferred unmap is answered from the stale IOTLB entry', () => {
    const h = ats(true, 'deferred');
    h.send('nic', { type: 'MemWr', address: 0x3000 });
    h.iommu.unmap(h.vm1, 0x3000, 0x1000);
    const tlp = requestTranslation(h.fabric, 'nic', 0x3000);
    h.kernel.run(h.kernel.now + 1_000);
    expect(tlp.outcome).toBe('completed');
    expect(h.events('ats.translate')[0]).toMatchObject({ stale: true, write: true, hpa: RAM + 0x3000 });
  });
});
