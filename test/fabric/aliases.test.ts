/** DMA aliases as Linux computes them (drivers/pci/search.c pci_for_each_dma_alias). */
import { describe, expect, it } from 'vitest';
import { build } from './build.ts';
import { arrivingRequesterId, dmaAliases } from '../../src/fabric/aliases.ts';
import { requesterId } from '../../src/pcie/bdf.ts';
import { behindBridge } from '../iommu/harness.ts';

describe('dmaAliases (Linux pci_for_each_dma_alias; VT-d 5.10 §3.12.1)', () => {
  const t = build(behindBridge);

  it.each([
    ['nic', [t.fabric.fn('nic').rid]],
    ['p0', [requesterId(2, 0, 0)]], // at 02:00.0 its own ID is the alias: listed once
    ['p1', [t.fabric.fn('p1').rid, requesterId(2, 0, 0)]],
    ['br', [t.fabric.fn('br').rid]],
  ])('%s: own requester ID, then the alias of each PCIe-to-PCI bridge above it', (fn, expected) => {
    expect(dmaAliases(t.fabric, fn)).toEqual(expected);
  });

  it.each([
    ['nic', t.fabric.fn('nic').rid],
    ['p0', requesterId(2, 0, 0)],
  ])('%s: the ID that arrives at the root complex is the outermost alias', (fn, expected) => {
    expect(arrivingRequesterId(t.fabric, fn)).toBe(expected);
  });

  it('agrees with what the fabric really puts on the wire (PCIe-to-PCI Bridge r1.0 §2.3)', () => {
    const tlp = t.fabric.issue('p1', { type: 'MemWr', address: 0x1000 });
    t.kernel.run();
    expect(tlp.requesterId).toBe(arrivingRequesterId(t.fabric, 'p1'));
  });
});
