/** Devices as interrupt sources: MSI-X tables programmed through their BAR, masking and pending (PCIe 6.0 §6.1.4, §7.7.2). */
import { describe, expect, it } from 'vitest';
import { MSIX_ENTRY_BYTES, MsixCapability } from '../../src/pcie/msi.ts';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';
import { delivered, referenceDevices, x86Machine } from './machine.ts';

const TABLE = 0x2000;

/** The reference fabric with the NIC's MSI-X table in BAR 0 at 0x2000 and IRTE 9 set up for its vector 1. */
function nicMachine(tableProgrammer = 'host') {
  const m = x86Machine(referenceDevices);
  const nic = m.fabric.fn('nic');
  const msix = MsixCapability.attach(nic.config, { vectors: 4, tableBar: 0, tableOffset: TABLE });
  const source = m.sources.add(nic, { msix }, tableProgrammer);
  msix.setControl(nic.config, true);
  m.vtd!.modifyIrte(9, { vector: 0x61, destination: 1, svt: 1, sid: nic.rid }, 'vm1');
  const entry = nic.bars[0]!.base + TABLE + MSIX_ENTRY_BYTES;
  /** The host's MMIO write of one DWORD of entry 1 (pci_msix_write_msg does the same through the BAR). */
  const hostWrite = (field: number, data: number) => {
    const tlp = m.fabric.hostIssue({ type: 'MemWr', address: entry + field, data, length: 4 });
    m.run();
    return tlp;
  };
  const program = (masked: boolean) => {
    const msg = composeRemappable(9);
    hostWrite(0, msg.address);
    hostWrite(4, 0);
    hostWrite(8, msg.data);
    hostWrite(12, masked ? 1 : 0);
  };
  return { ...m, nic, msix, source, entry, hostWrite, program };
}

describe('an MSI-X table programmed by host MMIO, then the device\'s legitimate interrupt (PCIe 6.0 §7.7.2; VT-d §5.1.4)', () => {
  it('the host\'s writes reach the table through BAR 0 and the device\'s interrupt is remapped through IRTE 9', () => {
    const m = nicMachine();
    m.program(false);
    expect(m.msix.message(1)).toEqual(composeRemappable(9));
    expect(m.msix.programmedBy[1]).toBe('host');
    expect(m.events('msix.table-write')).toHaveLength(4);
    const tlp = m.source.signal(1)!;
    m.run();
    expect(delivered(tlp)).toMatchObject({ path: 'remapped', irte: 9, vector: 0x61, destination: 1, entryOwner: 'vm1', causedBy: 'nic' });
    expect(m.events('msi.signal')).toMatchObject([{ device: 'nic', kind: 'msix', vector: 1, masked: false, tlp: tlp.id }]);
  });

  it('a masked vector sets its pending bit and sends nothing; unmasking through MMIO sends it (§6.1.4, §7.7.2.8)', () => {
    const n = nicMachine();
    n.program(true);
    expect(n.source.signal(1)).toBeNull();
    expect(n.msix.isPending(1)).toBe(true);
    expect(n.controller.deliveries).toHaveLength(0);
    n.hostWrite(12, 0);
    expect(n.msix.isPending(1)).toBe(false);
    expect(n.controller.deliveries).toMatchObject([{ irte: 9, causedBy: 'nic' }]);
  });

  it('with MSI-X disabled the device sends nothing', () => {
    const m = nicMachine();
    m.program(false);
    m.msix.setControl(m.nic.config, false);
    expect(m.source.signal(1)).toBeNull();
  });
});

describe('who programmed an entry (configuration: the host, or the guest the table is mapped to)', () => {
  it.each([
    { programmer: 'host', by: 'host', source: 'VFIO traps the table: the host writes it' },
    { programmer: 'vm1', by: 'vm1', source: 'the table page is mapped to the guest: its CPU writes are the guest\'s' },
  ])('$source', ({ programmer, by }) => {
    const m = nicMachine(programmer);
    m.program(false);
    expect(m.msix.programmedBy[1]).toBe(by);
    expect(m.events('msix.table-write').at(-1)).toMatchObject({ device: 'nic', vector: 1, by });
  });

  it('a device DMA-writing its own table is attributed to its owner (DESIGN.md §2: a function reaches its own BAR)', () => {
    const m = nicMachine();
    const tlp = m.send('nic', { type: 'MemWr', address: m.entry + 8, data: 0x7, length: 4 });
    expect(tlp.outcome).toBe('delivered');
    expect(m.msix.programmedBy[1]).toBe('vm1');
    expect(m.msix.entries[1 * 4 + 2]).toBe(0x7);
  });
});
