/** AMD-Vi interrupt remapping (AMD IOMMU spec 48882 §2.2.5; DTE §2.2.2.1; VirtualBox DevIommuAmd.cpp). */
import { describe, expect, it } from 'vitest';
import { Tlp } from '../../src/pcie/tlp.ts';
import { newDecision, type RemapDecision } from '../../src/interrupts/remap.ts';
import { AmdViEvent, AmdViInterruptRemapper, IntCtl, LINUX_REMAP_DTE, type AmdDteInterrupt, type AmdIrteFields } from '../../src/interrupts/amd-vi.ts';
import { delivered, referenceMachine } from './machine.ts';

const DEV = 0x0300;
const IRTE: AmdIrteFields = { remapEnable: true, destination: 1, vector: 0x45 };

function amd(dte: AmdDteInterrupt, entries: [number, AmdIrteFields][] = [[3, IRTE]]): AmdViInterruptRemapper {
  const r = new AmdViInterruptRemapper();
  r.setDevice(DEV, dte);
  for (const [i, f] of entries) r.writeIrte(DEV, i, f, 'vm1');
  return r;
}

function send(r: AmdViInterruptRemapper, data: number, requesterId = DEV, address = 0xfee0_0000): RemapDecision {
  const tlp = new Tlp(1, { type: 'MemWr', requesterId, address, data });
  const d = newDecision();
  r.remap(tlp, address, data, d);
  return d;
}

const outcome = (d: RemapDecision) => (d.kind === 'deliver' ? d.path : d.kind === 'fault' ? `fault ${d.faultCode}` : `block ${d.reason}`);
const SMALL: AmdDteInterrupt = { iv: true, intTabLen: 2, intCtl: IntCtl.remap };

describe('the per-device interrupt table (§2.2.5.1: offset = MSI data[10:0], bounded by 2^IntTabLen)', () => {
  it.each([
    { data: 3, want: 'amdvi-remapped', source: 'offset 3 of a 4-entry table' },
    { data: 4, want: `fault ${AmdViEvent.ioPageFault}`, source: 'offset 4 is beyond a 4-entry table: IO_PAGE_FAULT' },
    { data: 0x1ff, want: `fault ${AmdViEvent.ioPageFault}`, source: 'offset 511 (arbitrated, data[10:8]=001b) beyond it too' },
  ])('$source', ({ data, want }) => {
    const r = amd(SMALL);
    expect(outcome(send(r, data))).toBe(want);
    if (want !== 'amdvi-remapped') expect(r.events).toMatchObject([{ code: 2, deviceId: DEV, index: data }]);
  });

  it('takes vector, destination, destination mode and type from the IRTE (§2.2.5.1)', () => {
    const d = send(amd(SMALL, [[3, { ...IRTE, destinationMode: 'logical', intType: 1 }]]), 3);
    expect(d).toMatchObject({ index: 3, entryOwner: 'vm1', attrs: { vector: 0x45, destination: 1, destinationMode: 'logical', deliveryMode: 1 } });
  });
});

describe('DTE interrupt control (§2.2.2.1 Table 7: IV, IntCtl, IntTabLen)', () => {
  it.each([
    { dte: { iv: false, intTabLen: 0, intCtl: IntCtl.abort }, want: 'amdvi-passthrough', source: 'IV=0: forwarded unmapped' },
    { dte: { iv: true, intTabLen: 0, intCtl: IntCtl.abort }, want: 'block amdvi.intctl-abort', source: 'IntCtl=00b: target abort (Linux init_device_table default)' },
    { dte: { iv: true, intTabLen: 0, intCtl: IntCtl.pass }, want: 'amdvi-passthrough', source: 'IntCtl=01b: forwarded unmapped' },
    { dte: { iv: true, intTabLen: 0, intCtl: IntCtl.reserved }, want: `fault ${AmdViEvent.illegalDeviceTableEntry}`, source: 'IntCtl=11b reserved: ILLEGAL_DEV_TABLE_ENTRY' },
    { dte: { iv: true, intTabLen: 12, intCtl: IntCtl.remap }, want: `fault ${AmdViEvent.illegalDeviceTableEntry}`, source: 'IntTabLen 1100b reserved: ILLEGAL_DEV_TABLE_ENTRY' },
  ])('$source', ({ dte, want }) => {
    expect(outcome(send(amd(dte, []), 0x30))).toBe(want);
  });

  it('a DeviceID nobody set up gets Linux\'s default DTE: IV=1, IntCtl=00b, interrupts target aborted', () => {
    expect(outcome(send(new AmdViInterruptRemapper(), 0x30, 0x0500))).toBe('block amdvi.intctl-abort');
  });

  it('with the IOMMU disabled interrupts pass unmodified (Control.IOMMUEn=0)', () => {
    const r = amd(SMALL);
    r.enabled = false;
    expect(send(r, 0x30)).toMatchObject({ path: 'amdvi-passthrough', attrs: { vector: 0x30 } });
  });
});

describe('IRTE checks (§2.2.5.1; VirtualBox iommuAmdRemapIntr)', () => {
  it.each([
    { dte: SMALL, irte: { ...IRTE, remapEnable: false }, logged: true, source: 'RemapEn=0: IO_PAGE_FAULT' },
    { dte: { ...SMALL, ig: true }, irte: { ...IRTE, remapEnable: false }, logged: false, source: 'RemapEn=0 with DTE.IG: not logged' },
    { dte: SMALL, irte: { ...IRTE, remapEnable: false, suppressIoPageFault: true }, logged: false, source: 'RemapEn=0 with IRTE.SupIOPF: not logged' },
    { dte: SMALL, irte: { ...IRTE, guestMode: true }, logged: true, source: 'GuestMode without guest virtual APIC: IO_PAGE_FAULT' },
    { dte: SMALL, irte: { ...IRTE, intType: 2 }, logged: true, source: 'reserved IntType: IO_PAGE_FAULT' },
  ])('$source', ({ dte, irte, logged }) => {
    const r = amd(dte, [[3, irte]]);
    expect(outcome(send(r, 3))).toBe(`fault ${AmdViEvent.ioPageFault}`);
    expect(r.events).toHaveLength(logged ? 1 : 0);
  });

  it('an out-of-range offset with DTE.IG is still aborted, just not logged', () => {
    const r = amd({ ...SMALL, ig: true });
    expect(outcome(send(r, 4))).toBe(`fault ${AmdViEvent.ioPageFault}`);
    expect(r.events).toHaveLength(0);
  });
});

describe('other delivery modes (§2.2.5: pass bits; MSI data[10:8])', () => {
  it.each([
    { data: 0x400, dte: LINUX_REMAP_DTE, want: 'block amdvi.nmi-not-passed', source: 'NMI without NMIPass' },
    { data: 0x400, dte: { ...LINUX_REMAP_DTE, nmiPass: true }, want: 'amdvi-passthrough', source: 'NMI with NMIPass' },
    { data: 0x500, dte: LINUX_REMAP_DTE, want: 'block amdvi.init-not-passed', source: 'INIT without INITPass' },
    { data: 0x700, dte: { ...LINUX_REMAP_DTE, extIntPass: true }, want: 'amdvi-passthrough', source: 'ExtINT with EIntPass' },
    { data: 0x200, dte: LINUX_REMAP_DTE, want: 'block amdvi.smi-not-passed', source: 'SMI with SysMgt blocking it' },
    { data: 0x300, dte: LINUX_REMAP_DTE, want: 'block amdvi.reserved-type', source: 'reserved delivery mode 011b' },
  ])('$source', ({ data, dte, want }) => {
    expect(outcome(send(amd(dte, []), data))).toBe(want);
  });
});

describe('one device cannot name another\'s entry (DESIGN.md §2; §2.2.5: the table is the requester\'s own)', () => {
  it('the NIC writing the NVMe drive\'s MSI data gets its own entry 0, its own interrupt', () => {
    const m = referenceMachine({ remapping: 'amd-vi' });
    const nvme = m.setup.programmed.find((p) => p.device === 'nvme')!;
    const nic0 = m.setup.programmed.find((p) => p.device === 'nic' && p.vector === 0)!;
    expect([nvme.irte, nic0.irte]).toEqual([0, 0]);
    const irq = delivered(m.send('nic', { type: 'MemWr', length: 4, ...nvme.message }));
    expect(irq).toMatchObject({ path: 'amdvi-remapped', irte: 0, entryOwner: 'vm1', vector: nic0.cpuVector, causedBy: 'nic' });
  });

  it('an offset beyond the NIC\'s table faults IO_PAGE_FAULT end to end', () => {
    const m = referenceMachine({ remapping: 'amd-vi' });
    m.amd!.setDevice(m.fabric.fn('nic').rid, { iv: true, intTabLen: 2, intCtl: IntCtl.remap });
    const tlp = m.send('nic', { type: 'MemWr', length: 4, address: 0xfee0_0000, data: 0x1f0 });
    expect([tlp.outcome, tlp.faultCode, tlp.reason]).toEqual(['faulted', AmdViEvent.ioPageFault, 'amdvi.index-out-of-range']);
  });

  it('the legitimate interrupts of both devices are remapped through their own tables', () => {
    const m = referenceMachine({ remapping: 'amd-vi' });
    for (const [device, vector, owner] of [['nic', 3, 'vm1'], ['nvme', 0, 'host']] as const) {
      const tlp = m.sources.source(device).signal(vector)!;
      m.run();
      expect(delivered(tlp)).toMatchObject({ irte: vector, entryOwner: owner, causedBy: device });
    }
  });
});
