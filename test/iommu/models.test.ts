/**
 * VT-d, AMD-Vi and SMMUv3 differ where the hardware does: fault codes and
 * event names, the device-TLB permission bit, the x86 interrupt window
 * (SMMUv3 has none), AMD's HyperTransport range, and what passes while
 * remapping is off. Each row names its source.
 */
import '../../src/interrupts/reasons.ts';
import { describe, expect, it } from 'vitest';
import { requesterId } from '../../src/pcie/bdf.ts';
import { attachDevice } from '../../src/iommu/iommu.ts';
import { IommuError, type IommuModel } from '../../src/iommu/config.ts';
import { requestTranslation } from '../../src/iommu/ats.ts';
import type { IssueInit } from '../../src/fabric/fabric.ts';
import type { AddressTarget } from '../../src/fabric/root-complex.ts';
import { setup, twoPorts } from './harness.ts';

const RAM = 0x4000_0000;

type Mode = 'unattached' | 'blocked' | 'paging' | 'paging+atc';

function machine(model: IommuModel, mode: Mode) {
  const h = setup(twoPorts, { model });
  if (mode !== 'unattached') {
    const d = h.iommu.createDomain('d', mode === 'blocked' ? 'blocked' : 'paging', { deviceTlb: mode === 'paging+atc' });
    attachDevice(h.fabric, 'nic', d);
    if (mode !== 'blocked') h.iommu.map(d, 0x1000, RAM + 0x1000, 0x1000, 'r');
  }
  return h;
}

type Expect = readonly [outcome: string, code: number | null, name: string | null];

const ROWS: readonly (readonly [string, Mode, IssueInit, Record<IommuModel, Expect>])[] = [
  ['DMA from a never-attached device (VT-d Table 30 LRT.2; Linux default DTE; SMMU abort STE)', 'unattached', { type: 'MemWr', address: 0x1000 }, {
    vtd: ['faulted', 0x1, 'LRT.2'], 'amd-vi': ['faulted', 0x2, 'IO_PAGE_FAULT'], smmuv3: ['faulted', null, null],
  }],
  ['DMA from a device in a blocking domain', 'blocked', { type: 'MemWr', address: 0x1000 }, {
    vtd: ['faulted', 0x2, 'LCT.2'], 'amd-vi': ['faulted', 0x2, 'IO_PAGE_FAULT'], smmuv3: ['faulted', null, null],
  }],
  ['write to an unmapped IOVA', 'paging', { type: 'MemWr', address: 0x8000 }, {
    vtd: ['faulted', 0x5, 'LGN.2'], 'amd-vi': ['faulted', 0x2, 'IO_PAGE_FAULT'], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
  ['read of an unmapped IOVA', 'paging', { type: 'MemRd', address: 0x8000 }, {
    vtd: ['faulted', 0x6, 'LGN.3'], 'amd-vi': ['faulted', 0x2, 'IO_PAGE_FAULT'], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
  ['write to a read-only page', 'paging', { type: 'MemWr', address: 0x1000 }, {
    vtd: ['faulted', 0x5, 'LGN.2'], 'amd-vi': ['faulted', 0x2, 'IO_PAGE_FAULT'], smmuv3: ['faulted', 0x13, 'F_PERMISSION'],
  }],
  ['translated request, device TLB not allowed (TT≠01b / DTE.I=0 / STE.EATS=0)', 'paging', { type: 'MemWr', address: RAM, at: 'translated' }, {
    vtd: ['faulted', 0xd, 'LCT.5'], 'amd-vi': ['faulted', 0x8, 'INVALID_DEVICE_REQUEST'], smmuv3: ['faulted', 0x07, 'F_TRANSL_FORBIDDEN'],
  }],
  ['translation request, device TLB not allowed', 'paging', { type: 'MemRd', address: 0x1000, length: 8, at: 'translation-request' }, {
    vtd: ['faulted', 0xd, 'LCT.5'], 'amd-vi': ['faulted', 0x8, 'INVALID_DEVICE_REQUEST'], smmuv3: ['faulted', 0x05, 'F_BAD_ATS_TREQ'],
  }],
  ['translated request, device TLB allowed: passes unchecked', 'paging+atc', { type: 'MemWr', address: RAM, at: 'translated' }, {
    vtd: ['delivered', null, null], 'amd-vi': ['delivered', null, null], smmuv3: ['delivered', null, null],
  }],
  ['request with a PASID prefix and no PASID tables', 'paging', { type: 'MemRd', address: 0x1000, pasid: 3 }, {
    vtd: ['faulted', 0x31, 'RTA.2'], 'amd-vi': ['faulted', 0x8, 'INVALID_DEVICE_REQUEST'], smmuv3: ['faulted', 0x08, 'C_BAD_SUBSTREAMID'],
  }],
  ['DWORD write to FEE0_0000h: an interrupt on x86, a DMA to translate on SMMUv3', 'paging', { type: 'MemWr', address: 0xfee0_0000, length: 4 }, {
    vtd: ['delivered', null, null], 'amd-vi': ['delivered', null, null], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
  ['2-byte write to FEE0_0000h (VT-d §3.15 requires a single DWORD)', 'paging', { type: 'MemWr', address: 0xfee0_0000, length: 2 }, {
    vtd: ['faulted', 0x29, 'IR.29h'], 'amd-vi': ['delivered', null, null], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
  ['read of FEE0_0000h', 'paging', { type: 'MemRd', address: 0xfee0_0000, length: 4 }, {
    vtd: ['faulted', 0x29, 'IR.29h'], 'amd-vi': ['faulted', 0x8, 'INVALID_DEVICE_REQUEST'], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
  ['write into the HyperTransport range FD_F800_0000h (AMD spec §2.1.2 Table 3)', 'paging', { type: 'MemWr', address: 0xfd_f800_0000 }, {
    vtd: ['faulted', 0x5, 'LGN.2'], 'amd-vi': ['faulted', 0x8, 'INVALID_DEVICE_REQUEST'], smmuv3: ['faulted', 0x10, 'F_TRANSLATION'],
  }],
];

describe.each(['vtd', 'amd-vi', 'smmuv3'] as const)('%s', (model) => {
  it.each(ROWS)('%s', (_case, mode, init, expected) => {
    const [outcome, code, name] = expected[model];
    const h = machine(model, mode);
    const tlp = h.send('nic', init);
    expect(tlp.outcome).toBe(outcome);
    expect(tlp.faultCode).toBe(code);
    expect(h.iommu.faults.map((f) => f.name)).toEqual(name === null ? [] : [name]);
  });
});

describe('remapping off: translated requests (VT-d §4.2.1 UR; AMD IommuEn=0 and SMMU GBPA bypass forward them)', () => {
  it.each([
    ['vtd', 'unsupported-request'],
    ['amd-vi', 'delivered'],
    ['smmuv3', 'delivered'],
  ] as const)('%s → %s', (model, outcome) => {
    const h = setup(twoPorts, { model, dmaRemapping: false });
    expect(h.send('nic', { type: 'MemWr', address: RAM, at: 'translated' }).outcome).toBe(outcome);
  });
});

describe('identity domains and device TLBs', () => {
  it.each(['vtd', 'smmuv3'] as const)('%s refuses: pass-through/bypass contexts deny ATS (VT-d §9.3 TT=10b; SMMUv3 §3.9.1.1)', (model) => {
    const h = setup(twoPorts, { model });
    expect(() => h.iommu.createDomain('host', 'identity', { deviceTlb: true })).toThrow(IommuError);
  });

  it('amd-vi allows it (DTE Mode 0 with I=1): translation requests get the identity translation', () => {
    const h = setup(twoPorts, { model: 'amd-vi' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('host', 'identity', { deviceTlb: true }));
    requestTranslation(h.fabric, 'nic', 0x12_3000);
    h.kernel.run();
    expect(h.iommu.atc.lookup('nic', 0x12_3000)).toMatchObject({ hpa: 0x12_3000, read: true, write: true });
  });
});

describe('SMMUv3 MSIs: translated writes to a doorbell the kernel maps (Linux iommu_dma_get_msi_page)', () => {
  const its: AddressTarget = { name: 'gits-translater', accept: (tlp, _a, root) => root.finish(tlp, 'delivered', 'interrupt.delivered', 'test ITS doorbell', its) };

  it.each([
    ['write to the doorbell IOVA reaches the ITS', 'MemWr', 0x800_0040, 'delivered', null],
    ['read of the doorbell IOVA is refused (mapped write-only)', 'MemRd', 0x800_0040, 'faulted', 0x13],
    ['write to the doorbell’s physical address is just an unmapped IOVA', 'MemWr', 0x9000_0040, 'faulted', 0x10],
  ] as const)('%s', (_case, type, address, outcome, code) => {
    const h = setup(twoPorts, { model: 'smmuv3' });
    h.fabric.root.platform.add({ base: 0x9000_0000, size: 0x1_0000 }, its);
    const d = h.iommu.createDomain('vfio', 'paging');
    attachDevice(h.fabric, 'nic', d);
    expect(h.iommu.mapMsiDoorbell(d, 0x9000_0040)).toBe(0x800_0040);
    const tlp = h.send('nic', { type, address });
    expect(tlp).toMatchObject({ outcome, faultCode: code });
    if (outcome === 'delivered') expect(tlp.target?.name).toBe('gits-translater');
  });
});

describe('AMD-Vi: fault suppression is DTE.SA and covers IO_PAGE_FAULT only', () => {
  it('suppresses the page fault but not INVALID_DEVICE_REQUEST', () => {
    const h = setup(twoPorts, { model: 'amd-vi' });
    attachDevice(h.fabric, 'nic', h.iommu.createDomain('d', 'paging'), { faultProcessingDisable: true });
    expect(h.send('nic', { type: 'MemWr', address: 0x1000 }).faultCode).toBe(0x2);
    expect(h.send('nic', { type: 'MemRd', address: 0xfee0_0000 }).faultCode).toBe(0x8);
    expect(h.iommu.faults.map((f) => f.name)).toEqual(['INVALID_DEVICE_REQUEST']);
    expect(h.iommu.faults[0]?.requesterId).toBe(requesterId(1, 0, 0));
  });
});
