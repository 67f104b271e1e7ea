/** Host setup the way Linux does it (drivers/iommu/intel/irq_remapping.c; drivers/iommu/amd/iommu.c; DESIGN.md §2 automatic allocation). */
import { describe, expect, it } from 'vitest';
import { MsiCapability, MsixCapability } from '../../src/pcie/msi.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { IndexAllocator, LinuxInterruptSetup, linuxMsiSourceId } from '../../src/interrupts/linux-ir.ts';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';
import { acs } from '../fabric/build.ts';
import { delivered, referenceMachine, x86Machine } from './machine.ts';

const behindBridge: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'br', kind: 'pcie-pci-bridge', parent: 'rp0' },
  { id: 'p0', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
  { id: 'p1', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
  { id: 'rp1', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'a', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x4000 }] },
];

function bridgeMachine(nosid = false) {
  const m = x86Machine(behindBridge);
  const plans = ['p0', 'p1', 'a'].map((id) => {
    const fn = m.fabric.fn(id);
    const msi = MsiCapability.attach(fn.config, { vectors: 1 });
    m.sources.add(fn, { msi });
    return { fn, owner: id === 'p1' ? 'host' : 'vm1', msi };
  });
  const setup = new LinuxInterruptSetup({ fabric: m.fabric, vectors: m.vectors, remapper: m.vtd, nosid });
  setup.program(plans);
  return { ...m, setup };
}

describe('set_msi_sid: the source-id Linux programs (irq_remapping.c set_msi_sid, set_irte_verify_bus, set_irte_sid)', () => {
  it.each([
    { device: 'a', want: { svt: 1, sq: 0, sid: 0x0300 }, source: 'a PCIe endpoint: SVT=01b, SQ=00b, its own requester ID' },
    { device: 'p0', want: { svt: 2, sq: 0, sid: 0x0202 }, source: 'behind a PCIe-to-PCI bridge: SVT=10b over [alias bus, device bus]' },
    { device: 'p1', want: { svt: 2, sq: 0, sid: 0x0202 }, source: 'a sibling behind the same bridge gets the same bus range' },
    { device: 'br', want: { svt: 1, sq: 0, sid: 0x0100 }, source: 'the PCIe-to-PCI bridge itself is a PCIe function' },
  ])('$source', ({ device, want }) => {
    const m = x86Machine(behindBridge);
    expect(linuxMsiSourceId(m.fabric, device)).toEqual(want);
  });

  it.each(['a', 'p0'])('intremap=nosid keeps SID and SQ but writes SVT=00b for %s (disable_sourceid_checking)', (device) => {
    const m = x86Machine(behindBridge);
    expect(linuxMsiSourceId(m.fabric, device, true)).toEqual({ ...linuxMsiSourceId(m.fabric, device), svt: 0 });
  });
});

describe('automatic allocation (DESIGN.md §2: 65536 entries, first-fit, one per vector, in device order)', () => {
  it('gives the reference NIC IRTEs 0–3 and the NVMe drive IRTE 4, each programmed as prepare_irte does', () => {
    const m = referenceMachine();
    expect(m.vtd!.entries).toBe(65536);
    expect(m.setup.programmed.map((p) => [p.device, p.kind, p.vector, p.irte])).toEqual([
      ['nic', 'msix', 0, 0],
      ['nic', 'msix', 1, 1],
      ['nic', 'msix', 2, 2],
      ['nic', 'msix', 3, 3],
      ['nvme', 'msi', 0, 4],
    ]);
    const nvme = m.setup.programmed[4]!;
    expect(m.vtd!.irte(4)).toMatchObject({ present: true, redirectionHint: true, trigger: 'edge', deliveryMode: 0, destinationMode: 'physical', vector: nvme.cpuVector, destination: nvme.apicId, svt: 1, sq: 0, sid: m.fabric.fn('nvme').rid, owner: 'host' });
    expect(m.vectors.owner(nvme.apicId, nvme.cpuVector)).toBe('host');
    expect(m.nicMsix.message(2)).toEqual(composeRemappable(2, 0));
  });

  it('gives multi-message MSI an aligned power-of-two block, vector n at subhandle n (alloc_irte, bitmap_find_free_region)', () => {
    const m = x86Machine([{ id: 'rp0', kind: 'root-port' }, { id: 'x', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x4000 }] }, { id: 'rp1', kind: 'root-port' }, { id: 'y', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x4000 }] }]);
    const x = MsixCapability.attach(m.fabric.fn('x').config, { vectors: 1, tableBar: 0 });
    const y = MsiCapability.attach(m.fabric.fn('y').config, { vectors: 4 });
    m.sources.add(m.fabric.fn('x'), { msix: x });
    m.sources.add(m.fabric.fn('y'), { msi: y });
    const setup = new LinuxInterruptSetup({ fabric: m.fabric, vectors: m.vectors, remapper: m.vtd });
    setup.program([{ fn: m.fabric.fn('x'), owner: 'host', msix: x }, { fn: m.fabric.fn('y'), owner: 'host', msi: y }]);
    expect(setup.programmed.filter((p) => p.device === 'y').map((p) => p.irte)).toEqual([4, 5, 6, 7]);
    expect(y.allocated).toBe(4);
    const tlp = m.sources.source('y').signal(3)!;
    m.run();
    expect(delivered(tlp)).toMatchObject({ irte: 7, vector: setup.programmed.at(-1)!.cpuVector });
  });

  it('programs compatibility-format messages without remapping, and refuses multi-MSI there (x86 needs IR for it)', () => {
    const m = referenceMachine({ remapping: 'none' });
    const nvme = m.setup.programmed.find((p) => p.device === 'nvme')!;
    expect(nvme.irte).toBeNull();
    expect(m.nvmeMsi.message(0)).toEqual({ address: (0xfee0_0000 | (nvme.apicId << 12)) >>> 0, data: nvme.cpuVector });
    const fn = m.fabric.fn('nic');
    const msi = MsiCapability.attach(fn.config, { vectors: 2 });
    expect(() => m.setup.program([{ fn, owner: 'vm1', msi }])).toThrow(expect.objectContaining({ code: 'MULTI_MSI_NEEDS_IR' }));
  });

  it('IndexAllocator: first fit, aligned blocks', () => {
    const a = new IndexAllocator(16);
    expect([a.allocate(1), a.allocate(2), a.allocate(1), a.allocate(3), a.allocate(1)]).toEqual([0, 2, 1, 4, 8]);
  });
});

describe('devices behind a PCIe-to-PCI bridge share a source-id (VT-d §5.1.1: remapping cannot isolate them)', () => {
  it('p0 can raise p1\'s interrupt by naming its IRTE: both arrive as the bridge alias within the bus range', () => {
    const m = bridgeMachine();
    const p1 = m.setup.programmed.find((p) => p.device === 'p1')!;
    const irq = delivered(m.send('p0', { type: 'MemWr', length: 4, ...composeRemappable(p1.irte!) }));
    expect(irq).toMatchObject({ irte: p1.irte, entryOwner: 'host', causedBy: 'p0', requesterId: 0x0200 });
  });

  it('a device outside the bridge cannot (fault 26h)', () => {
    const m = bridgeMachine();
    const p1 = m.setup.programmed.find((p) => p.device === 'p1')!;
    const tlp = m.send('a', { type: 'MemWr', length: 4, ...composeRemappable(p1.irte!) });
    expect([tlp.outcome, tlp.faultCode]).toEqual(['faulted', 0x26]);
  });

  it('each device\'s own MSI works through its IRTE', () => {
    const m = bridgeMachine();
    for (const id of ['p0', 'p1', 'a']) {
      const tlp = m.sources.source(id).signal(0)!;
      m.run();
      expect(delivered(tlp).causedBy).toBe(id);
    }
  });
});
