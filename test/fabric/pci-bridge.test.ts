/** PCIe-to-PCI bridges: requester-ID aliasing and the shared conventional bus. */
import { describe, expect, it } from 'vitest';
import { acs, build } from './build.ts';
import { requesterId } from '../../src/pcie/bdf.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';

const behindBridge: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
  { id: 'br', kind: 'pcie-pci-bridge', parent: 'rp0' },
  { id: 'p0', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
  { id: 'p1', kind: 'pci-device', parent: 'br', bars: [{ size: 0x1000 }] },
];

describe('PCIe-to-PCI bridge (PCIe-to-PCI Bridge r1.0 §2.3; Linux pci_for_each_dma_alias)', () => {
  it('gives conventional devices their own device numbers on the secondary bus', () => {
    const t = build(behindBridge);
    expect([t.fabric.fn('br').bdf, t.fabric.fn('p0').bdf, t.fabric.fn('p1').bdf]).toEqual(['01:00.0', '02:00.0', '02:01.0']);
  });

  it.each(['p0', 'p1'])('rewrites %s’s requester ID to the bridge alias (secondary bus, 00.0)', (device) => {
    const t = build(behindBridge);
    const tlp = t.send(device, { type: 'MemWr', address: 0x1000 });
    expect(tlp.outcome).toBe('delivered');
    expect(tlp.requesterId).toBe(requesterId(2, 0, 0));
    expect(tlp.issuedRequesterId).toBe(t.fabric.fn(device).rid);
    expect(t.path(tlp)).toContain('br:alias');
  });

  it('returns a read’s completion, addressed to the alias, to the device that issued it', () => {
    const t = build(behindBridge);
    const read = t.send('p1', { type: 'MemRd', address: 0x2000 });
    expect(read.outcome).toBe('completed');
    const cpl = t.trace.records.find((r) => r.type === 'tlp.ended' && r.kind === 'CplD');
    expect(cpl).toMatchObject({ outcome: 'delivered', target: 'p1' });
  });

  it('lets one conventional device write another directly on the shared bus (no bridge, no ACS)', () => {
    const t = build(behindBridge);
    const tlp = t.send('p0', { type: 'MemWr', address: t.fabric.fn('p1').bars[0]!.base });
    expect(t.path(tlp)).toEqual(['p0:p2p-direct', 'p1:delivered']);
  });
});
