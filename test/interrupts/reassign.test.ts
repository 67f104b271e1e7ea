/**
 * A device's interrupts across a change of hands (src/interrupts/linux-ir.ts
 * release / reprogram): torn down with its driver (pci_free_irq_vectors:
 * free_irte clears the entries, the CPU vectors are freed), set up again
 * for the new holder; and AMD-Vi with one table for every DeviceID
 * (Xen amd-iommu-perdev-intremap=0) versus one per device (XSA-36).
 */
import { describe, expect, it } from 'vitest';
import { installX86Interrupts } from '../../src/interrupts/install.ts';
import { acs, build } from '../fabric/build.ts';
import type { InterruptEvent } from '../../src/interrupts/events.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';

const devices: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 0 }, acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'rp1', kind: 'root-port', bdf: { bus: 0, device: 0x1d, fn: 0 }, acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'nic', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x10000 }] },
  { id: 'disk', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x4000 }] },
];

function machine(iommu: 'vtd' | 'amd-vi', sharedAmdTable = false) {
  const t = build<FabricEvent | InterruptEvent>(devices);
  const x86 = installX86Interrupts(
    t.fabric,
    { cpus: 2, iommu, interruptRemapping: true, sourceIdValidation: false, compatFormat: 'blocked', x2apic: false, sharedAmdTable },
    [
      { id: 'nic', owner: 'vm2', msi: null, msix: { vectors: 1, bar: 0, offset: 0, programmedBy: 'host' } },
      { id: 'disk', owner: 'host', msi: { vectors: 1, perVectorMask: false }, msix: null },
    ],
  );
  const raise = (data: number, address = 0xfee0_0000) => t.send('nic', { type: 'MemWr', address, data, length: 4 });
  return { ...t, x86, raise };
}

describe('release and reprogram (VT-d): the entries and vectors change owner with the device', () => {
  it('release clears nic\'s IRTE and frees its vector; reprogramming gives the first free entry to the new owner', () => {
    const m = machine('vtd');
    const [nic] = m.x86.programmed.filter((p) => p.device === 'nic');
    expect(m.x86.vtd!.owner(nic!.irte!)).toBe('vm2');
    const gone = m.x86.setup.release('nic', true);
    expect(gone).toHaveLength(1);
    expect(m.x86.vtd!.irte(nic!.irte!).present).toBe(false);
    expect(m.x86.vectors.owner(nic!.apicId, nic!.cpuVector)).toBeNull();
    const [again] = m.x86.setup.reprogram('nic', 'vm1');
    expect(again).toMatchObject({ device: 'nic', irte: nic!.irte });
    expect(m.x86.vtd!.owner(again!.irte!)).toBe('vm1');
    expect(m.x86.vectors.owner(again!.apicId, again!.cpuVector)).toBe('vm1');
  });

  it('release disables MSI-X, so the device\'s own interrupt sends nothing', () => {
    const m = machine('vtd');
    m.x86.setup.release('nic', true);
    expect(m.x86.sources.source('nic').signal(0)).toBeNull();
  });
});

describe('AMD-Vi: one table per device or one for the system (XSA-36)', () => {
  it.each([
    [false, 'amdvi.remap-disabled', null],
    [true, 'interrupt.delivered', 'host'],
  ])('shared table %s: the NIC naming entry 1 (the disk\'s in a shared table) ends %s', (shared, reason, owner) => {
    const m = machine('amd-vi', shared);
    expect(m.x86.programmed.map((p) => [p.device, p.irte])).toEqual(shared ? [['nic', 0], ['disk', 1]] : [['nic', 0], ['disk', 0]]);
    const ending: { reason?: string; owner?: string | null } = {};
    m.fabric.onEnding((e) => {
      ending.reason = e.reason;
      const irq = e.effects.find((f) => f.kind === 'interrupt');
      ending.owner = irq?.kind === 'interrupt' ? irq.entryOwner : null;
    });
    m.raise(1);
    expect(ending).toEqual({ reason, owner });
  });

  it('entries kept on release stay the old owner\'s and keep their index from the allocator', () => {
    const m = machine('amd-vi');
    m.x86.setup.release('nic', false);
    expect(m.x86.amd!.owner(m.fabric.fn('nic').rid, 0)).toBe('vm2');
    const [again] = m.x86.setup.reprogram('nic', 'vm1');
    expect(again!.irte).toBe(1);
    expect(m.x86.amd!.owner(m.fabric.fn('nic').rid, 1)).toBe('vm1');
  });

  it('entries cleared on release are RemapEn=0 and free for the next owner', () => {
    const m = machine('amd-vi');
    m.x86.setup.release('nic', true);
    expect(m.x86.amd!.owner(m.fabric.fn('nic').rid, 0)).toBeNull();
    expect(m.raise(0)).toMatchObject({ outcome: 'faulted', reason: 'amdvi.remap-disabled' });
    expect(m.x86.setup.reprogram('nic', 'vm1')[0]!.irte).toBe(0);
  });
});
