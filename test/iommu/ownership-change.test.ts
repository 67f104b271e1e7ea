/**
 * IOMMU state that changes with ownership: quarantine domains (Xen
 * iommu=quarantine, XSA-302), contexts that may not use a device TLB
 * (Linux pci_ats_supported for untrusted devices), the translation state
 * across boot phases (firmware tables, off, the OS's), and a function
 * reset emptying its ATC (PCIe 6.0 §6.6.2).
 */
import '../../src/interrupts/reasons.ts';
import { describe, expect, it } from 'vitest';
import { attachDevice } from '../../src/iommu/iommu.ts';
import { requestTranslation } from '../../src/iommu/ats.ts';
import { setup, twoPorts } from './harness.ts';

const RAM = 0x4000_0000;

describe('a quarantine domain (xen/drivers/passthrough/vtd/iommu.c intel_iommu_quarantine_init)', () => {
  it.each([
    ['vtd', 0x2, 'LCT.2'],
    ['amd-vi', 0x2, 'IO_PAGE_FAULT'],
  ] as const)('basic on %s: every unmapped IOVA faults as quarantined (%s %s)', (model, code, name) => {
    const h = setup(twoPorts, { model });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('q', 'paging', { quarantine: { scratchPage: null } }));
    const tlp = h.send('nic', { type: 'MemWr', address: 0x2000 });
    expect(tlp).toMatchObject({ outcome: 'faulted', reason: 'iommu.quarantined', faultCode: code });
    expect(h.iommu.faults).toMatchObject([{ name, domain: 'q' }]);
  });

  it('its RMRR mappings still translate; the rest goes to the scratch page, keeping the offset in the page', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    const q = h.iommu.createDomain('q', 'paging', { quarantine: { scratchPage: RAM + 0x7000 } });
    h.iommu.map(q, 0x3a00_0000, 0x3a00_0000, 0x1000, 'rw');
    attachDevice(h.fabric, 'nic', q);
    expect(h.send('nic', { type: 'MemWr', address: 0x3a00_0010 })).toMatchObject({ outcome: 'delivered', address: 0x3a00_0010 });
    expect(h.send('nic', { type: 'MemWr', address: 0x1234 })).toMatchObject({ outcome: 'delivered', address: RAM + 0x7234 });
    expect(h.events('iommu.translate').map((e) => e.source)).toEqual(['walk', 'quarantine-scratch']);
  });
});

describe('a context that may not use a device TLB although its domain could (pci_ats_supported: untrusted)', () => {
  it.each([
    [undefined, 'ats.translated', 'completed'],
    [false, 'iommu.translation-request-blocked', 'faulted'],
  ])('attach deviceTlb=%s: a translation request ends %s', (deviceTlb, reason, outcome) => {
    const h = setup(twoPorts, { model: 'vtd' });
    const d = h.iommu.createDomain('dma', 'paging', { deviceTlb: true });
    h.iommu.map(d, 0x1000, RAM, 0x1000, 'rw');
    attachDevice(h.fabric, 'nic', d, deviceTlb === undefined ? {} : { deviceTlb });
    const tlp = requestTranslation(h.fabric, 'nic', 0x1000);
    h.kernel.run();
    expect(tlp).toMatchObject({ outcome, reason });
  });

  it('and its AT=translated writes fault LCT.5 (0xd)', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('dma', 'paging', { deviceTlb: true }), { deviceTlb: false });
    expect(h.send('nic', { type: 'MemWr', address: RAM, at: 'translated' })).toMatchObject({ outcome: 'faulted', reason: 'iommu.translated-request-blocked', faultCode: 0xd });
  });
});

describe('translation state across boot phases', () => {
  it.each([
    ['firmware', 'faulted', 'iommu.pre-boot-blocked', 'the firmware\'s tables block it (EDK2 IntelVTdDxe)'],
    ['off', 'delivered', 'memory.write', 'translation disabled: decoded as is'],
    ['os', 'faulted', 'iommu.no-mapping', 'the OS\'s empty domain'],
  ] as const)('%s: a DMA write ends %s (%s) — %s', (state, outcome, reason, _why) => {
    const h = setup(twoPorts, { model: 'vtd' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('dma', 'paging'));
    h.iommu.translation = state;
    expect(h.send('nic', { type: 'MemWr', address: 0x1000 })).toMatchObject({ outcome, reason });
  });

  it('firmware tables leave the interrupt window to interrupt remapping', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    h.iommu.translation = 'firmware';
    expect(h.send('nic', { type: 'MemWr', address: 0xfee0_0000 })).toMatchObject({ outcome: 'delivered', reason: 'interrupt.delivered' });
  });
});

describe('a function reset empties its ATC (PCIe 6.0 §6.6.2; §10.5.1.3)', () => {
  it('the cached translation is gone after the reset', () => {
    const h = setup(twoPorts, { model: 'vtd' });
    const d = h.iommu.createDomain('dma', 'paging', { deviceTlb: true });
    h.iommu.map(d, 0x1000, RAM, 0x1000, 'rw');
    attachDevice(h.fabric, 'nic', d);
    requestTranslation(h.fabric, 'nic', 0x1000);
    h.kernel.run();
    expect(h.iommu.atc.entries('nic')).toHaveLength(1);
    expect(h.iommu.atc.reset('nic')).toBe(1);
    expect(h.iommu.atc.entries('nic')).toEqual([]);
  });
});
