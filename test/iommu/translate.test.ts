/** DMA remapping end to end on VT-d (legacy mode, the reference model). */
import '../../src/interrupts/reasons.ts';
import { describe, expect, it } from 'vitest';
import { requesterId } from '../../src/pcie/bdf.ts';
import { attachDevice } from '../../src/iommu/iommu.ts';
import type { AddressTarget } from '../../src/fabric/root-complex.ts';
import { behindBridge, setup, twoPorts } from './harness.ts';

const RAM = 0x4000_0000;

function vtd(extra: Parameters<typeof setup>[1] = { model: 'vtd' }) {
  const h = setup(twoPorts, extra);
  const vm1 = h.iommu.createDomain('vm1', 'paging');
  attachDevice(h.fabric, 'nic', vm1);
  return { ...h, vm1 };
}

describe('domain modes (VT-d 5.10 §3.4.2, §3.7, §3.9)', () => {
  it('paging: the IOVA is translated and the HPA decoded to host memory; the second access hits the IOTLB', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x1000, RAM + 0x1000, 0x1000, 'rw');
    const first = h.send('nic', { type: 'MemWr', address: 0x1010 });
    const second = h.send('nic', { type: 'MemWr', address: 0x1020 });
    expect(first).toMatchObject({ outcome: 'delivered', address: RAM + 0x1010, issuedAddress: 0x1010 });
    expect(first.target?.name).toBe('ram');
    expect(h.events('iommu.translate').map((e) => [e.source, e.domain, e.hpa, e.perm])).toEqual([
      ['walk', 'vm1', RAM + 0x1010, 'rw'],
      ['iotlb', 'vm1', RAM + 0x1020, 'rw'],
    ]);
    expect(second.outcome).toBe('delivered');
  });

  it('identity: the bus address is the host-physical address (pass-through TT=10b)', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('host', 'identity'));
    const tlp = h.send('nic', { type: 'MemWr', address: 0x1234_5678 });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: 0x1234_5678 });
    expect(h.events('iommu.translate')[0]).toMatchObject({ source: 'identity', domain: 'host' });
  });

  it('blocked: everything faults LCT.2 (Linux device_block_translation clears the context entry)', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('none', 'blocked'));
    const tlp = h.send('nic', { type: 'MemRd', address: 0x1000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.blocked-domain', faultCode: 0x2 });
    expect(h.iommu.faults).toMatchObject([{ code: 0x2, name: 'LCT.2', requester: h.fabric.fn('nic').bdf, address: 0x1000, access: 'read', domain: 'none' }]);
  });
});

describe('contexts per requester ID (VT-d 5.10 §3.4.2, Table 30 LRT.2 / LCT.2)', () => {
  it('a bus whose root entry was never set faults LRT.2 (0x1)', () => {
    const h = vtd();
    const tlp = h.send('nvme', { type: 'MemWr', address: 0x1000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.root-not-present', faultCode: 0x1 });
  });

  it('a forged requester ID on an attached bus finds no context: LCT.2 (0x2)', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x1000, RAM, 0x1000, 'rw');
    const tlp = h.send('nic', { type: 'MemWr', address: 0x1000, requesterId: requesterId(1, 0, 1) });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.context-not-present', faultCode: 0x2 });
  });
});

describe('permissions (VT-d 5.10 §3.7.1; Table 30 LGN.1-LGN.3)', () => {
  it.each([
    ['r', 'MemRd', 'completed', null, null],
    ['r', 'MemWr', 'faulted', 'iommu.write-denied', 0x5],
    ['w', 'MemWr', 'delivered', null, null],
    ['w', 'MemRd', 'faulted', 'iommu.read-denied', 0x6],
    ['rw', 'MemRd', 'completed', null, null],
    ['rw', 'MemWr', 'delivered', null, null],
  ] as const)('page mapped %s, %s → %s', (perm, type, outcome, reason, code) => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x2000, RAM + 0x2000, 0x1000, perm);
    const tlp = h.send('nic', { type, address: 0x2000 });
    expect(tlp.outcome).toBe(outcome);
    if (reason !== null) expect(tlp).toMatchObject({ reason, faultCode: code });
  });

  it.each([
    ['MemRd', 0x6, 'LGN.3'],
    ['MemWr', 0x5, 'LGN.2'],
  ] as const)('unmapped IOVA, %s → no-mapping, reason code %i (%s: an R=W=0 entry lacks the permission)', (type, code, name) => {
    const h = vtd();
    const tlp = h.send('nic', { type, address: 0x7000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.no-mapping', faultCode: code });
    expect(h.iommu.faults[0]?.name).toBe(name);
  });

  it('an IOVA above 2^AGAW faults LGN.1.1 (0x4)', () => {
    const h = vtd({ model: 'vtd', addressWidth: 39 });
    const tlp = h.send('nic', { type: 'MemWr', address: 2 ** 39 + 0x1000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.address-width', faultCode: 0x4 });
  });

  it('sub-page exposure: bytes sharing a page with a 64-byte buffer are reachable (dma-iommu.c maps whole pages)', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x3fc0, RAM + 0x3fc0, 0x40, 'rw');
    const neighbour = h.send('nic', { type: 'MemWr', address: 0x3000 });
    expect(neighbour).toMatchObject({ outcome: 'delivered', address: RAM + 0x3000 });
    expect(h.vm1.lookup(0x3000)?.perm).toBe('rw');
    expect(h.vm1.bufferAt(0x3000)).toBeUndefined();
  });

  it('a request crossing a 4 KiB boundary is blocked (PCIe 6.0 §2.2.7, VT-d §3.13)', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x1000, RAM + 0x1000, 0x2000, 'rw');
    expect(h.send('nic', { type: 'MemWr', address: 0x1ffe, length: 4 })).toMatchObject({ outcome: 'blocked', reason: 'iommu.crosses-page' });
  });
});

describe('fault-processing disable (VT-d 5.10 §9.3 FPD; Table 30 "Qualified")', () => {
  it('suppresses recording of qualified faults, never the blocking', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('none', 'blocked'), { faultProcessingDisable: true });
    const tlp = h.send('nic', { type: 'MemWr', address: 0x1000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', faultCode: 0x2 });
    expect(h.iommu.faults).toEqual([]);
    expect(h.events('iommu.fault')[0]).toMatchObject({ recorded: false, code: 0x2 });
  });

  it('does not suppress non-qualified faults (RTA.2, 0x31: request with PASID in legacy mode)', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('d', 'paging'), { faultProcessingDisable: true });
    const tlp = h.send('nic', { type: 'MemWr', address: 0x1000, pasid: 5 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.pasid-unsupported', faultCode: 0x31 });
    expect(h.iommu.faults.map((f) => f.name)).toEqual(['RTA.2']);
  });
});

describe('the interrupt window FEEx_xxxxh (VT-d 5.10 §3.15, Table 15 fault 29h, Table 30 LGN.4)', () => {
  it.each([
    ['DWORD write', 'delivered', 'interrupt.delivered', null, { type: 'MemWr', length: 4 }],
    ['2-byte write', 'faulted', 'iommu.interrupt-range-illegal', 0x29, { type: 'MemWr', length: 2 }],
    ['8-byte write', 'faulted', 'iommu.interrupt-range-illegal', 0x29, { type: 'MemWr', length: 8 }],
    ['DWORD read', 'faulted', 'iommu.interrupt-range-illegal', 0x29, { type: 'MemRd', length: 4 }],
    ['zero-length read', 'completed', 'iommu.zlr-interrupt-range', null, { type: 'MemRd', length: 0 }],
    ['DWORD write with PASID', 'faulted', 'iommu.pasid-unsupported', 0x31, { type: 'MemWr', length: 4, pasid: 1 }],
  ] as const)('%s → %s (%s)', (_case, outcome, reason, code, init) => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('none', 'blocked'));
    const tlp = h.send('nic', { ...init, address: 0xfee0_0000 });
    expect(tlp).toMatchObject({ outcome, reason, faultCode: code });
  });

  it('a DWORD write there is never translated, even when a page table maps the IOVA', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0xfee0_0000, RAM, 0x1000, 'rw');
    const tlp = h.send('nic', { type: 'MemWr', address: 0xfee0_0000, data: 0x30 });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: 0xfee0_0000 });
    expect(tlp.target?.name).toBe('interrupt-window');
    expect(h.events('iommu.translate')[0]).toMatchObject({ source: 'interrupt-window', hpa: 0xfee0_0000 });
  });

  it('a translation whose output lands in the window is blocked LGN.4 (0xE)', () => {
    const h = vtd();
    h.iommu.map(h.vm1, 0x2000, 0xfee0_0000, 0x1000, 'w');
    expect(h.send('nic', { type: 'MemWr', address: 0x2000 })).toMatchObject({ outcome: 'faulted', reason: 'iommu.interrupt-range-output', faultCode: 0xe });
  });
});

describe('after translation the address goes where it decodes (VT-d 5.10 §3.17)', () => {
  it('an IOVA mapped onto another device’s BAR reaches it peer-to-peer through the root complex', () => {
    const h = vtd();
    const bar = h.fabric.fn('nvme').bars[0]!;
    h.iommu.map(h.vm1, 0x5000, bar.base, 0x1000, 'rw');
    const tlp = h.send('nic', { type: 'MemWr', address: 0x5008 });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: bar.base + 8 });
    expect(tlp.target?.name).toBe('nvme.bar0');
  });
});

describe('DMA remapping off (VT-d 5.10 §4.2.1, GSTS.TES = 0)', () => {
  it.each([
    ['untranslated write', 'delivered', 'memory.write', { type: 'MemWr', address: RAM }],
    ['DWORD write to the interrupt window', 'delivered', 'interrupt.delivered', { type: 'MemWr', address: 0xfee0_0000 }],
    ['translation request', 'unsupported-request', 'iommu.remapping-disabled', { type: 'MemRd', address: RAM, length: 8, at: 'translation-request' }],
    ['translated write', 'unsupported-request', 'iommu.remapping-disabled', { type: 'MemWr', address: RAM, at: 'translated' }],
  ] as const)('%s → %s (%s)', (_case, outcome, reason, init) => {
    const h = setup(twoPorts, { model: 'vtd', dmaRemapping: false });
    expect(h.send('nic', init)).toMatchObject({ outcome, reason });
  });
});

describe('ranges consumed before translation (the 2016 MSI-passthrough placement)', () => {
  const doorbell: AddressTarget = {
    name: 'gicv2m-frame',
    accept: (tlp, _a, root) => root.finish(tlp, 'delivered', 'interrupt.delivered', 'test doorbell', doorbell),
  };

  it.each([
    ['upstream of the IOMMU: reached untranslated, even from a blocked device', [{ base: 0x9000_0000, size: 0x1000 }], 'delivered'],
    ['behind the IOMMU: translated like any DMA (here: blocked)', [], 'faulted'],
  ] as const)('doorbell %s', (_case, untranslated, outcome) => {
    const h = setup(twoPorts, { model: 'smmuv3', untranslated });
    h.fabric.root.platform.add({ base: 0x9000_0000, size: 0x1000 }, doorbell);
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('none', 'blocked'));
    const tlp = h.send('nic', { type: 'MemWr', address: 0x9000_0040 });
    expect(tlp.outcome).toBe(outcome);
    if (outcome === 'delivered') expect(h.events('iommu.translate')[0]).toMatchObject({ source: 'untranslated-range' });
  });
});

describe('alias sharing behind a PCIe-to-PCI bridge (VT-d 5.10 §3.12.1; Linux pci_for_each_dma_alias)', () => {
  it('a mapping made for one conventional device serves the other: they share one context', () => {
    const h = setup(behindBridge, { model: 'vtd' });
    const d = h.iommu.createDomain('p0-dma', 'paging');
    expect(attachDevice(h.fabric, 'p0', d)).toEqual([requesterId(2, 0, 0)]);
    h.iommu.map(d, 0x1000, RAM, 0x1000, 'rw');
    const tlp = h.send('p1', { type: 'MemWr', address: 0x1000 });
    expect(tlp).toMatchObject({ outcome: 'delivered', address: RAM, requesterId: requesterId(2, 0, 0) });
  });

  it('attaching the other device elsewhere re-points the shared alias context for both', () => {
    const h = setup(behindBridge, { model: 'vtd' });
    const d0 = h.iommu.createDomain('d0', 'paging');
    attachDevice(h.fabric, 'p0', d0);
    h.iommu.map(d0, 0x1000, RAM, 0x1000, 'rw');
    expect(attachDevice(h.fabric, 'p1', h.iommu.createDomain('d1', 'blocked'))).toEqual([h.fabric.fn('p1').rid, requesterId(2, 0, 0)]);
    expect(h.send('p0', { type: 'MemWr', address: 0x1000 })).toMatchObject({ outcome: 'faulted', reason: 'iommu.blocked-domain' });
  });
});
