/** MSI and MSI-X capability structures (PCIe Base 6.0 §7.7.1, §7.7.2; behaviour §6.1.4). */
import { describe, expect, it } from 'vitest';
import { CapabilityId, ConfigSpace } from '../../src/pcie/config-space.ts';
import { MSIX_ENTRY_BYTES, MsiCapability, MsixCapability } from '../../src/pcie/msi.ts';

describe('MSI capability (§7.7.1)', () => {
  it.each([
    { source: '§7.7.1: 64-bit with per-vector masking is 24 bytes; data at +0Ch, mask at +10h', addr64: true, pvm: true, dataAt: 0x0c, maskAt: 0x10, next: 0x58 },
    { source: '§7.7.1: 32-bit with per-vector masking; data at +08h, mask at +0Ch', addr64: false, pvm: true, dataAt: 0x08, maskAt: 0x0c, next: 0x54 },
    { source: '§7.7.1: 64-bit without masking', addr64: true, pvm: false, dataAt: 0x0c, maskAt: null, next: 0x50 },
  ])('$source', ({ addr64, pvm, dataAt, next }) => {
    const config = new ConfigSpace();
    const msi = MsiCapability.attach(config, { vectors: 4, addr64, perVectorMasking: pvm });
    expect(config.findCapability(CapabilityId.msi)).toBe(msi.offset);
    const control = config.read(msi.offset + 2, 2);
    expect([(control >> 1) & 7, (control >> 7) & 1, (control >> 8) & 1]).toEqual([2, addr64 ? 1 : 0, pvm ? 1 : 0]);
    config.write(msi.offset + dataAt, 2, 0x4321);
    expect(msi.data).toBe(0x4321);
    expect(config.addCapability(0x09, 4)).toBe(next);
  });

  it('§7.7.1.2: software writes cannot change the read-only capability bits, and MME is clamped to MMC', () => {
    const config = new ConfigSpace();
    const msi = MsiCapability.attach(config, { vectors: 2 });
    config.write(msi.offset + 2, 2, 0xffff);
    const control = config.read(msi.offset + 2, 2);
    expect({ enable: control & 1, mmc: (control >> 1) & 7, mme: (control >> 4) & 7, addr64: (control >> 7) & 1 }).toEqual({ enable: 1, mmc: 1, mme: 1, addr64: 1 });
    expect(msi.allocated).toBe(2);
  });

  it('§7.7.1.3: Message Address bits 1:0 are hard-wired to 0; §7.7.1.4 the upper DWORD completes a 64-bit address', () => {
    const config = new ConfigSpace();
    const msi = MsiCapability.attach(config);
    config.write(msi.offset + 4, 4, 0xfee0_1003);
    config.write(msi.offset + 8, 4, 0x1);
    expect(msi.address).toBe(0x1_fee0_1000);
  });

  it.each([
    { allocated: 1, data: 0x40, vector: 0, want: 0x40 },
    { allocated: 4, data: 0x40, vector: 3, want: 0x43 },
    { allocated: 4, data: 0x43, vector: 1, want: 0x41 },
  ])('§7.7.1.2 MME: with $allocated vectors, vector $vector modifies the low data bits → 0x$want', ({ allocated, data, vector, want }) => {
    const msi = MsiCapability.attach(new ConfigSpace(), { vectors: 4 });
    msi.program({ address: 0xfee0_0000, data }, allocated);
    expect(msi.message(vector)).toEqual({ address: 0xfee0_0000, data: want });
  });

  it('gives no message while disabled or for an unallocated vector', () => {
    const msi = MsiCapability.attach(new ConfigSpace(), { vectors: 4 });
    expect(msi.message(0)).toBeNull();
    msi.program({ address: 0xfee0_0000, data: 0 }, 2);
    expect(msi.message(2)).toBeNull();
  });

  it('§6.1.4 per-vector masking: a masked vector sets Pending; unmasking sends it and clears Pending (§7.7.1.7/§7.7.1.8)', () => {
    const config = new ConfigSpace();
    const msi = MsiCapability.attach(config, { vectors: 2 });
    const sent: number[] = [];
    msi.onUnmask = (v) => sent.push(v);
    config.write(msi.offset + 0x10, 4, 0b10);
    expect([msi.isMasked(0), msi.isMasked(1)]).toEqual([false, true]);
    msi.setPending(1, true);
    expect(config.read(msi.offset + 0x14, 4)).toBe(0b10);
    config.write(msi.offset + 0x14, 4, 0);
    expect(config.read(msi.offset + 0x14, 4)).toBe(0b10);
    config.write(msi.offset + 0x10, 4, 0);
    expect([sent, msi.isPending(1)]).toEqual([[1], false]);
  });

  it('refuses a vector count MMC cannot encode', () => {
    expect(() => MsiCapability.attach(new ConfigSpace(), { vectors: 3 })).toThrow(expect.objectContaining({ code: 'MSI_VECTORS' }));
  });
});

describe('MSI-X capability and table (§7.7.2)', () => {
  it('§7.7.2.2–§7.7.2.4: Table Size is N-1; Table and PBA Offset/BIR read back; writes cannot change them', () => {
    const config = new ConfigSpace();
    const msix = MsixCapability.attach(config, { vectors: 8, tableBar: 2, tableOffset: 0x2000, pbaBar: 4, pbaOffset: 0x100 });
    expect(config.findCapability(CapabilityId.msix)).toBe(msix.offset);
    expect(config.read(msix.offset + 2, 2) & 0x7ff).toBe(7);
    config.write(msix.offset + 4, 4, 0);
    expect([config.read(msix.offset + 4, 4), config.read(msix.offset + 8, 4)]).toEqual([0x2002, 0x104]);
  });

  it('§7.7.2.8: every vector is masked after reset', () => {
    const msix = MsixCapability.attach(new ConfigSpace(), { vectors: 3, tableBar: 0 });
    expect([0, 1, 2].map((v) => msix.isMasked(v))).toEqual([true, true, true]);
  });

  it('§7.7.2.5–§7.7.2.7: DWORD and QWORD writes into the table fill an entry; bits 1:0 of the address stay 0', () => {
    const config = new ConfigSpace();
    const msix = MsixCapability.attach(config, { vectors: 2, tableBar: 0, tableOffset: 0x100 });
    msix.setControl(config, true);
    expect(msix.mmioWrite(0, 0x100 + MSIX_ENTRY_BYTES, 8, 0x2_fee0_1003, 'host')).toBe(true);
    expect(msix.mmioWrite(0, 0x100 + MSIX_ENTRY_BYTES + 8, 4, 0x4055, 'vm1')).toBe(true);
    expect(msix.message(1)).toEqual({ address: 0x2_fee0_1000, data: 0x4055 });
    expect(msix.programmedBy).toEqual([null, 'vm1']);
    expect(msix.mmioRead(0, 0x100 + MSIX_ENTRY_BYTES + 8)).toBe(0x4055);
  });

  it('§7.7.2: writes outside the table and PBA are not the table\'s; the PBA is read-only (§7.7.2.9)', () => {
    const msix = MsixCapability.attach(new ConfigSpace(), { vectors: 2, tableBar: 0 });
    expect(msix.mmioWrite(0, 0x800, 4, 1, 'host')).toBe(false);
    expect(msix.mmioWrite(1, 0, 4, 1, 'host')).toBe(false);
    msix.setPending(1, true);
    expect(msix.mmioWrite(0, msix.pba.offset, 4, 0, 'host')).toBe(true);
    expect(msix.mmioRead(0, msix.pba.offset)).toBe(0b10);
  });

  it('§7.7.2.2 Function Mask masks every vector; clearing it sends pending unmasked vectors (§6.1.4)', () => {
    const config = new ConfigSpace();
    const msix = MsixCapability.attach(config, { vectors: 2, tableBar: 0 });
    const sent: number[] = [];
    msix.onUnmask = (v) => sent.push(v);
    msix.program(0, { address: 0xfee0_0000, data: 0x40 }, 'host');
    msix.setControl(config, true, true);
    expect(msix.isMasked(0)).toBe(true);
    msix.setPending(0, true);
    msix.setControl(config, true, false);
    expect(sent).toEqual([0]);
  });

  it('refuses a table that overlaps the PBA or a misaligned offset', () => {
    expect(() => MsixCapability.attach(new ConfigSpace(), { vectors: 4, tableBar: 0, pbaOffset: 0x20 })).toThrow(expect.objectContaining({ code: 'MSIX_LAYOUT' }));
    expect(() => MsixCapability.attach(new ConfigSpace(), { vectors: 4, tableBar: 0, tableOffset: 0x4 })).toThrow(expect.objectContaining({ code: 'MSIX_LAYOUT' }));
  });
});
