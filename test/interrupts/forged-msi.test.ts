/**
 * The headline attack end to end (issue 4 "Done when"; DESIGN.md §5): the
 * NIC, passed through to vm1, DMA-writes the interrupt window.
 */
import { describe, expect, it } from 'vitest';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';
import { delivered, referenceMachine } from './machine.ts';

const forgedCompat = { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 4 } as const;

describe('a forged MSI from a passed-through NIC (DESIGN.md §2 "Interrupt remapping")', () => {
  it('is delivered with the attacker\'s vector when there is no remapping hardware (SDM §11.11)', () => {
    const m = referenceMachine({ remapping: 'none' });
    const irq = delivered(m.send('nic', forgedCompat));
    expect(irq).toMatchObject({ vector: 0x30, destination: 0, cpus: [0], path: 'untranslated', irte: null, causedBy: 'nic' });
    // 0x30 is ISA IRQ0's vector on the host (irq_vectors.h ISA_IRQ_VECTOR(0)): not vm1's.
    expect(irq.receivers).toEqual([{ cpu: 0, vector: 0x30, vectorOwner: 'host' }]);
    expect(m.cpus.apics[0]!.received.at(-1)).toMatchObject({ vector: 0x30 });
  });

  it('is delivered with the attacker\'s vector when VT-d interrupt remapping is off (VT-d §5.1.4, GSTS.IRES=0)', () => {
    const m = referenceMachine({ vtd: { enabled: false } });
    const irq = delivered(m.send('nic', forgedCompat));
    expect(irq).toMatchObject({ vector: 0x30, destination: 0, path: 'untranslated', receivers: [{ cpu: 0, vector: 0x30, vectorOwner: 'host' }] });
  });

  it('faults 0x25 when remapping is on and CFI is clear (VT-d §5.1.4; Linux blocks compatibility-format MSIs)', () => {
    const m = referenceMachine();
    const tlp = m.send('nic', forgedCompat);
    expect([tlp.outcome, tlp.faultCode, tlp.reason]).toEqual(['faulted', 0x25, 'ir.compat-blocked']);
    expect(m.vtd!.faults.records).toMatchObject([{ code: 0x25, requesterId: m.fabric.fn('nic').rid }]);
    expect(m.cpus.apics.every((a) => a.received.length === 0)).toBe(true);
  });

  it('faults 0x26 when a remappable write names the NVMe drive\'s IRTE with source-id validation (VT-d §9.10 SVT=01b)', () => {
    const m = referenceMachine();
    const nvmeIrte = m.setup.programmed.find((p) => p.device === 'nvme')!.irte!;
    expect(nvmeIrte).toBe(4);
    const tlp = m.send('nic', { type: 'MemWr', length: 4, ...composeRemappable(nvmeIrte) });
    expect([tlp.outcome, tlp.faultCode, tlp.reason]).toEqual(['faulted', 0x26, 'ir.source-id']);
    expect(m.events('ir.fault')).toMatchObject([{ code: 0x26, index: 4, recorded: true }]);
  });

  it('is delivered into the NVMe drive\'s IRTE with intremap=nosid (Linux set_irte_sid: SVT=00)', () => {
    const m = referenceMachine({ nosid: true });
    const nvme = m.setup.programmed.find((p) => p.device === 'nvme')!;
    const irq = delivered(m.send('nic', { type: 'MemWr', length: 4, ...composeRemappable(nvme.irte!) }));
    expect(irq).toMatchObject({ path: 'remapped', irte: 4, vector: nvme.cpuVector, destination: nvme.apicId, entryOwner: 'host', receivers: [{ cpu: nvme.apicId, vector: nvme.cpuVector, vectorOwner: 'host' }], causedBy: 'nic' });
    expect(m.events('msi.delivered').at(-1)).toMatchObject({ irte: 4, entryOwner: 'host', causedBy: 'nic' });
  });

  it('still lets each device raise its own interrupts through its own IRTEs (the legitimate path)', () => {
    const m = referenceMachine();
    const nic = m.sources.source('nic').signal(2)!;
    m.run();
    expect(delivered(nic)).toMatchObject({ path: 'remapped', irte: 2, entryOwner: 'vm1', causedBy: 'nic' });
    expect(delivered(nic).receivers.map((r) => r.vectorOwner)).toEqual(['vm1']);
    const nvme = m.sources.source('nvme').signal(0)!;
    m.run();
    expect(delivered(nvme)).toMatchObject({ path: 'remapped', irte: 4, entryOwner: 'host', causedBy: 'nvme' });
  });
});

describe('the interrupt window itself (VT-d §3.14, §5.1.4: only DWORD writes to 0xFEEx_xxxx are interrupt requests)', () => {
  it.each([
    { init: { type: 'MemRd', address: 0xfee0_0000, length: 4 } as const, reason: 'interrupt.not-a-write' },
    { init: { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 8 } as const, reason: 'interrupt.not-dword' },
    { init: { type: 'MemWr', address: 0xfee0_0000, data: 0x30, length: 2 } as const, reason: 'interrupt.not-dword' },
  ])('$init.type of $init.length bytes → Unsupported Request', ({ init, reason }) => {
    const tlp = referenceMachine({ remapping: 'none' }).send('nic', init);
    expect([tlp.outcome, tlp.reason]).toEqual(['unsupported-request', reason]);
  });

  it.each([
    { data: 0x0e, address: 0xfee0_0000, reason: 'lapic.illegal-vector', source: 'SDM §11.5.3: fixed vector 0x0e' },
    { data: 0x40, address: 0xfee0_9000, reason: 'lapic.no-destination', source: 'SDM §11.6.2: APIC ID 9 on a 4-CPU machine' },
  ])('a write no local APIC accepts ends blocked, not delivered: $source', ({ data, address, reason }) => {
    const m = referenceMachine({ remapping: 'none' });
    const tlp = m.send('nic', { type: 'MemWr', address, data, length: 4 });
    expect([tlp.outcome, tlp.reason]).toEqual(['blocked', reason]);
    expect(m.controller.deliveries).toHaveLength(0);
  });

  it('reads the IRTE from host memory through IRTA: a table outside memory faults 0x23 (VT-d §5.1.4.1)', () => {
    const inRam = referenceMachine({ vtd: { tableAddress: 0x1000_0000 } });
    expect(inRam.sources.source('nvme').signal(0)).not.toBeNull();
    inRam.run();
    expect(inRam.controller.deliveries).toHaveLength(1);
    const outside = referenceMachine({ vtd: { tableAddress: 0xa000_0000 } });
    const tlp = outside.sources.source('nvme').signal(0)!;
    outside.run();
    expect([tlp.outcome, tlp.faultCode]).toEqual(['faulted', 0x23]);
  });

  it('explains a remapped delivery hop by hop (trace: ir.remapped, msi.delivered, the root complex\'s remap note)', () => {
    const m = referenceMachine();
    const tlp = m.sources.source('nvme').signal(0)!;
    m.run();
    const mine = m.trace.records.filter((r) => 'tlp' in r && r.tlp === tlp.id).map((r) => (r.type === 'tlp.hop' ? `${r.node}:${r.decision}` : r.type));
    expect(mine).toEqual(['tlp.issued', 'nvme:up', 'msi.signal', 'sw-dp1:up', 'sw-up:up', 'rp0:up', 'root-complex:decode', 'ir.remapped', 'root-complex:remap', 'msi.delivered', 'tlp.ended']);
  });
});
