/** Installing a machine's interrupt hardware and the host's setup; the DESIGN.md §5 reference matrix end to end. */
import { describe, expect, it } from 'vitest';
import type { Tlp } from '../../src/pcie/tlp.ts';
import { installArmMsi, installX86Interrupts, type InterruptDeviceSpec, type X86HardwareSpec } from '../../src/interrupts/install.ts';
import type { InterruptDelivery } from '../../src/interrupts/delivery.ts';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';
import { GITS_TRANSLATER } from '../../src/interrupts/gicv3-its.ts';
import { MSI_SETSPI_NS } from '../../src/interrupts/gicv2m.ts';
import { machine, referenceDevices } from './machine.ts';

const devices: InterruptDeviceSpec[] = [
  { id: 'nic', owner: 'vm1', msi: null, msix: { vectors: 4, bar: 0, offset: 0x2000, programmedBy: 'host' } },
  { id: 'nvme', owner: 'host', msi: { vectors: 1, perVectorMask: true }, msix: null },
];

const base: X86HardwareSpec = { cpus: 4, iommu: 'vtd', interruptRemapping: true, sourceIdValidation: true, compatFormat: 'blocked', x2apic: false };

/** The reference attack: a compatibility-format write of vector 0x30, then a remappable write naming the NVMe drive's IRTE. */
function attack(hw: Partial<X86HardwareSpec>): { compat: Tlp; forged: Tlp } {
  const m = machine(referenceDevices);
  const irq = installX86Interrupts(m.fabric, { ...base, ...hw }, devices, [], { trace: m.trace });
  const nvme = irq.programmed.find((p) => p.device === 'nvme')!;
  const compat = m.send('nic', { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 4 });
  const forged = m.send('nic', { type: 'MemWr', length: 4, ...composeRemappable(nvme.irte ?? 4) });
  return { compat, forged };
}

const summary = (t: Tlp) => (t.outcome === 'delivered' ? `delivered irte=${(t.target as InterruptDelivery).irte} owner=${(t.target as InterruptDelivery).irte === null ? (t.target as InterruptDelivery).receivers[0]?.vectorOwner : (t.target as InterruptDelivery).entryOwner}` : `${t.outcome} ${t.faultCode === null ? t.reason : `0x${t.faultCode.toString(16)}`}`);

describe('the DESIGN.md §5 matrix (interrupt-remapping × source-id-validation), VT-d', () => {
  it.each([
    { ir: false, sid: false, compat: 'delivered irte=null owner=host', forged: 'blocked lapic.illegal-vector', source: 'remapping off: both writes are compatibility format; the second is vector 0, refused by the APIC (SDM §11.5.3)' },
    { ir: false, sid: true, compat: 'delivered irte=null owner=host', forged: 'blocked lapic.illegal-vector', source: 'remapping off: source-id validation has nothing to act on' },
    { ir: true, sid: false, compat: 'faulted 0x25', forged: 'delivered irte=4 owner=host', source: 'intremap=nosid: the NVMe drive\'s IRTE is used (Linux set_irte_sid, SVT=00)' },
    { ir: true, sid: true, compat: 'faulted 0x25', forged: 'faulted 0x26', source: 'remapping with SVT=01: both stopped (VT-d §5.1.4)' },
  ])('$source', ({ ir, sid, compat, forged }) => {
    const r = attack({ interruptRemapping: ir, sourceIdValidation: sid });
    expect([summary(r.compat), summary(r.forged)]).toEqual([compat, forged]);
  });

  it('compat-format: allowed (CFIS set) passes the compatibility write through even with remapping on', () => {
    expect(summary(attack({ compatFormat: 'allowed' }).compat)).toBe('delivered irte=null owner=host');
  });

  it('x2APIC (EIME) blocks compatibility format even when CFIS is set (VT-d §5.1.4)', () => {
    expect(summary(attack({ compatFormat: 'allowed', x2apic: true }).compat)).toBe('faulted 0x25');
  });

  it('an explicit IRTE from the scenario overrides, and the allocator leaves its index alone', () => {
    const m = machine(referenceDevices);
    const irq = installX86Interrupts(m.fabric, base, devices, [{ index: 0, present: true, vector: 0x99, destination: 3, svt: null, sq: null, sid: null, fpd: false, owner: 'vm2', posted: null }]);
    expect(irq.programmed.map((p) => p.irte)).toEqual([1, 2, 3, 4, 5]);
    expect(irq.vtd!.irte(0)).toMatchObject({ vector: 0x99, svt: 0, owner: 'vm2' });
  });
});

describe('the same attack on AMD-Vi (per-device tables: AMD IOMMU spec §2.2.5)', () => {
  it('remapping off (DTE.IV=0): the compatibility write is forwarded unmapped', () => {
    const m = machine(referenceDevices);
    installX86Interrupts(m.fabric, { ...base, iommu: 'amd-vi', interruptRemapping: false }, devices);
    expect(summary(m.send('nic', { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 4 }))).toBe('delivered irte=null owner=host');
  });

  it('remapping on: data 0x30 names entry 0x30 of the NIC\'s own table, which Linux never filled (RemapEn=0: IO_PAGE_FAULT)', () => {
    const m = machine(referenceDevices);
    const irq = installX86Interrupts(m.fabric, { ...base, iommu: 'amd-vi' }, devices);
    const t = m.send('nic', { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 4 });
    expect([t.outcome, t.faultCode, t.reason]).toEqual(['faulted', 2, 'amdvi.remap-disabled']);
    expect(irq.amd!.events).toMatchObject([{ code: 2, index: 0x30 }]);
  });
});

describe('ARM MSI controllers installed with the host\'s setup', () => {
  it('GICv2m: SPIs handed out first-fit per vector; a forged write raises the NVMe drive\'s SPI', () => {
    const m = machine(referenceDevices);
    const arm = installArmMsi(m.fabric, { cpus: 2, controller: 'gicv2m' }, devices, { trace: m.trace });
    expect(arm.programmed.map((p) => [p.device, p.intid])).toEqual([['nic', 64], ['nic', 65], ['nic', 66], ['nic', 67], ['nvme', 68]]);
    const t = m.send('nic', { type: 'MemWr', address: arm.doorbell.base + MSI_SETSPI_NS, data: 68, length: 4 });
    expect(t.target).toMatchObject({ vector: 68, entryOwner: 'host', causedBy: 'nic' });
  });

  it('ITS: one DeviceID per function, EventIDs from 0; the same forged write only reaches the NIC\'s own event 0', () => {
    const m = machine(referenceDevices);
    const arm = installArmMsi(m.fabric, { cpus: 2, controller: 'gicv3-its' }, devices, { trace: m.trace });
    expect(arm.programmed.map((p) => [p.device, p.data, p.intid])).toEqual([['nic', 0, 8192], ['nic', 1, 8193], ['nic', 2, 8194], ['nic', 3, 8195], ['nvme', 0, 8196]]);
    const t = m.send('nic', { type: 'MemWr', address: arm.doorbell.base + GITS_TRANSLATER, data: 0, length: 4 });
    expect(t.target).toMatchObject({ vector: 8192, entryOwner: 'vm1', deviceId: m.fabric.fn('nic').rid });
    const legit = arm.sources.source('nvme').signal(0)!;
    m.run();
    expect(legit.target).toMatchObject({ vector: 8196, entryOwner: 'host', causedBy: 'nvme' });
  });

  it('programs the IOVA page the kernel maps onto the doorbell when MSIs go through the SMMU (iommu_dma_prepare_msi)', () => {
    const m = machine(referenceDevices);
    const arm = installArmMsi(m.fabric, { cpus: 1, controller: 'gicv3-its', msiIova: 0x800_0000 }, devices);
    expect(arm.programmed[0]).toMatchObject({ address: 0x800_0040 });
  });

  it('refuses a doorbell inside host memory', () => {
    const m = machine(referenceDevices);
    expect(() => installArmMsi(m.fabric, { cpus: 1, controller: 'gicv2m', doorbell: 0x0802_0000 }, devices)).toThrow(/overlaps host memory/);
  });
});
