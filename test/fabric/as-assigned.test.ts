/**
 * Machines taken as firmware assigned them (FabricConfig.assignment =
 * 'firmware'): topologies that exist on the corpus machines, refused by
 * enumeration (which checks a scenario author's hand-written machine) and
 * routed as given here. Each case names the corpus dump it comes from.
 */
import { describe, expect, it } from 'vitest';
import { requesterId } from '../../src/pcie/bdf.ts';
import { dmaAliases } from '../../src/fabric/aliases.ts';
import { enumerate } from '../../src/fabric/enumerate.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { acs, build, fabricConfig } from './build.ts';

const firmware = { assignment: 'firmware' as const };
const at = (bus: number, device: number, fn = 0) => ({ bus, device, fn });
const code = (functions: FunctionConfig[]) => {
  try {
    enumerate(fabricConfig(functions));
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

// apple-t2-mac-cometlake-titanridge: Titan Ridge DSPs numbered 09, 0b..43, 0a — not depth-first.
const thunderbolt: FunctionConfig[] = [
  { id: 'rp', kind: 'root-port', bdf: at(0, 0x1c, 4), buses: { secondary: 7, subordinate: 0x7c }, windows: { memory: { base: 0xc000_0000, size: 0x1000_0000 } } },
  { id: 'usp', kind: 'switch-upstream', parent: 'rp', bdf: at(7, 0), buses: { secondary: 8, subordinate: 0x7c }, windows: { memory: { base: 0xc000_0000, size: 0x1000_0000 } } },
  { id: 'dsp0', kind: 'switch-downstream', parent: 'usp', bdf: at(8, 0), buses: { secondary: 9, subordinate: 9 }, windows: { memory: { base: 0xc000_0000, size: 0x10_0000 } } },
  { id: 'dsp1', kind: 'switch-downstream', parent: 'usp', bdf: at(8, 1), buses: { secondary: 0x0b, subordinate: 0x43 }, windows: { memory: { base: 0xc010_0000, size: 0x10_0000 } } },
  { id: 'dsp2', kind: 'switch-downstream', parent: 'usp', bdf: at(8, 2), buses: { secondary: 0x0a, subordinate: 0x0a }, windows: { memory: { base: 0xc020_0000, size: 0x10_0000 } } },
  { id: 'nhi', kind: 'endpoint', parent: 'dsp0', bdf: at(9, 0), bars: [{ size: 0x40000, at: 0xc000_0000 }] },
  { id: 'dock', kind: 'endpoint', parent: 'dsp1', bdf: at(0x0b, 0), bars: [{ size: 0x1000, at: 0xc010_0000 }] },
  { id: 'xhci', kind: 'endpoint', parent: 'dsp2', bdf: at(0x0a, 0), bars: [{ size: 0x10000, at: 0xc020_0000 }] },
];

describe('bus numbers as firmware gave them (Thunderbolt hot-plug ranges)', () => {
  it('enumeration refuses them for a scenario (IMPOSSIBLE_BUS)', () => expect(code(thunderbolt)).toBe('IMPOSSIBLE_BUS'));

  it('routes by them: a completion for 0a:00.0 finds dsp2 by its bus range, a write to xhci’s BAR goes dock → dsp1 → usp → dsp2 (no ACS)', () => {
    const t = build(thunderbolt, firmware);
    expect(t.fabric.fn('xhci').bdf).toBe('0a:00.0');
    const cfg = t.fabric.hostIssue({ type: 'CfgRd', targetId: requesterId(0x0a, 0, 0), address: 0, length: 4 });
    t.kernel.run();
    expect(cfg.outcome).toBe('completed');
    const w = t.send('dock', { type: 'MemWr', address: 0xc020_0000 });
    expect(t.path(w)).toEqual(['dock:up', 'dsp1:p2p-direct', 'dsp2:down', 'xhci:delivered']);
  });
});

// intel-xeon-e5v3-2socket-i40e: uncore functions on root buses 7f and ff beside bus 00.
const extraRootBus: FunctionConfig[] = [
  { id: 'rp', kind: 'root-port', bdf: at(0, 1), buses: { secondary: 1, subordinate: 1 }, windows: { memory: { base: 0xc000_0000, size: 0x10_0000 } } },
  { id: 'nic', kind: 'endpoint', parent: 'rp', bdf: at(1, 0), bars: [{ size: 0x1000, at: 0xc000_0000 }] },
  { id: 'uncore', kind: 'rciep', bdf: at(0x7f, 8), bars: [{ size: 0x1000, at: 0xd000_0000 }] },
];

describe('several root buses (a host bridge per socket’s uncore)', () => {
  it('enumeration refuses a function on another root bus', () => expect(code(extraRootBus)).toBe('IMPOSSIBLE_BUS'));

  it('firmware mode reaches 7f:08.0 by ID and by address', () => {
    const t = build(extraRootBus, firmware);
    const cfg = t.fabric.hostIssue({ type: 'CfgRd', targetId: requesterId(0x7f, 8, 0), address: 0, length: 4 });
    t.kernel.run();
    expect(cfg.outcome).toBe('completed');
    expect(t.send('nic', { type: 'MemWr', address: 0xd000_0000 }).outcome).toBe('delivered');
  });
});

describe('BARs as firmware assigned them', () => {
  // nxp-ls1028a-arm64-rciep: lspci prints CPU addresses; a 32-bit BAR sits above 4 GiB.
  const high: FunctionConfig[] = [{ id: 'enetc', kind: 'rciep', bdf: at(0, 0), bars: [{ size: 0x40000, at: 0x81_f800_0000, bits: 32 }] }];
  it('a 32-bit BAR above 4 GiB: refused when enumerated (BAR_RANGE), decoded as given', () => {
    expect(code(high.map(({ bdf: _b, ...f }) => f))).toBe('BAR_RANGE');
    const t = build([...high, { id: 'other', kind: 'rciep', bdf: at(0, 1) }], firmware);
    expect(t.send('other', { type: 'MemWr', address: 0x81_f800_0000 }).outcome).toBe('delivered');
  });

  // dell-1028-075b: 00:1f.2 Region 0 [disabled] — enumeration would have placed it inside a window.
  it('an unassigned BAR does not decode (PCI Local Bus 3.0 §6.2.5.1)', () => {
    const t = build(
      [
        { id: 'pmc', kind: 'rciep', bdf: at(0, 0x1f, 2), bars: [{ size: 0x4000 }] },
        { id: 'hda', kind: 'rciep', bdf: at(0, 0x1f, 3), bars: [{ size: 0x4000, at: 0xdc32_8000 }] },
      ],
      firmware,
    );
    expect(t.fabric.fn('pmc').bars).toEqual([]);
    expect(t.send('hda', { type: 'MemWr', address: 0xc000_0000 }).outcome).toBe('unsupported-request');
  });

  it('overlapping BARs: an enumerated machine is refused, a firmware one records the conflict and keeps the first claimant', () => {
    const overlap: FunctionConfig[] = [
      { id: 'a', kind: 'rciep', bdf: at(0, 2), bars: [{ size: 0x1000, at: 0xd000_0000 }] },
      { id: 'b', kind: 'rciep', bdf: at(0, 3), bars: [{ size: 0x1000, at: 0xd000_0000 }] },
    ];
    expect(code(overlap.map(({ bdf: _b, ...f }) => f))).toBe('OVERLAPPING_BARS');
    const t = build(overlap, firmware);
    expect(t.fabric.decodeConflicts).toHaveLength(2); // the fabric's BAR index and the root bus decode
    expect(t.fabric.decodeConflicts.join(' ')).toContain('b.bar0');
  });
});

// candelatech-skylake-e3-pcie-switches / arm-n1sdp-plx-switch: PLX USP 02:00.0 with its DMA function 02:00.1 on one link.
function plx(dmaAcs: FunctionConfig['acs']): FunctionConfig[] {
  return [
    { id: 'rp', kind: 'root-port', bdf: at(0, 0x1c), acs: acs(['SV', 'RR', 'CR', 'UF']), buses: { secondary: 2, subordinate: 4 }, windows: { memory: { base: 0xc000_0000, size: 0x20_0000 } } },
    { id: 'usp', kind: 'switch-upstream', parent: 'rp', bdf: at(2, 0), buses: { secondary: 3, subordinate: 4 }, windows: { memory: { base: 0xc010_0000, size: 0x10_0000 } } },
    { id: 'dma', kind: 'endpoint', parent: 'rp', bdf: at(2, 0, 1), bars: [{ size: 0x4000, at: 0xc000_0000 }], ...(dmaAcs ? { acs: dmaAcs } : {}) },
    { id: 'dsp', kind: 'switch-downstream', parent: 'usp', bdf: at(3, 1), buses: { secondary: 4, subordinate: 4 }, windows: { memory: { base: 0xc010_0000, size: 0x10_0000 } } },
    { id: 'wifi', kind: 'endpoint', parent: 'dsp', bdf: at(4, 0), bars: [{ size: 0x4000, at: 0xc010_0000 }] },
  ];
}

describe('a multifunction device on a link: switch upstream port + DMA endpoint (a link carries one device, with several functions)', () => {
  it('enumeration refuses it (LINK_SHARED)', () => expect(code(plx(undefined).map(({ bdf: _b, buses: _s, windows: _w, ...f }) => ({ ...f, bars: f.bars?.map(({ size }) => ({ size })) })))).toBe('LINK_SHARED'));

  it('without ACS on the DMA function its write to a device below the switch stays inside the device (PCIe 6.0 §6.12.1.2)', () => {
    const t = build(plx(undefined), firmware);
    const w = t.send('dma', { type: 'MemWr', address: 0xc010_0000 });
    expect(t.path(w)).toEqual(['dma:up', 'usp*:p2p-direct', 'usp:down', 'dsp:down', 'wifi:delivered']);
  });

  it('with ACS RR on the DMA function it is redirected up the link to the root port', () => {
    const t = build(plx(acs(['SV', 'RR', 'CR', 'UF'])), firmware);
    const w = t.send('dma', { type: 'MemWr', address: 0xc010_0000 });
    expect(t.path(w).slice(0, 3)).toEqual(['dma:up', 'usp*:redirect-up', 'rp:upstream-forward']);
  });

  it('the devices below the switch still reach the DMA function’s BAR through the USP and the link device', () => {
    const t = build(plx(undefined), firmware);
    expect(t.path(t.send('wifi', { type: 'MemWr', address: 0xc000_0000 }))).toEqual(['wifi:up', 'dsp:up', 'usp:up', 'usp*:p2p-direct', 'dma:delivered']);
  });
});

// intel-xeon-e5-2618lv3-wellsburg / asrock-amd-990fx: conventional PCI bridges on a root bus and below one another.
const nested: FunctionConfig[] = [
  { id: 'rp', kind: 'root-port', bdf: at(0, 1), buses: { secondary: 1, subordinate: 3 }, windows: { memory: { base: 0xc000_0000, size: 0x10_0000 } } },
  { id: 'br', kind: 'pcie-pci-bridge', parent: 'rp', bdf: at(1, 0), buses: { secondary: 2, subordinate: 3 }, windows: { memory: { base: 0xc000_0000, size: 0x10_0000 } } },
  { id: 'pci', kind: 'pci-bridge', parent: 'br', bdf: at(2, 1), buses: { secondary: 3, subordinate: 3 }, windows: { memory: { base: 0xc000_0000, size: 0x1000 } } },
  { id: 'inner', kind: 'pci-device', parent: 'pci', bdf: at(3, 0), bars: [{ size: 0x1000, at: 0xc000_0000 }] },
  { id: 'outer', kind: 'pci-device', parent: 'br', bdf: at(2, 2), bars: [{ size: 0x1000, at: 0xc001_0000 }] },
  { id: 'dmi', kind: 'pci-bridge', bdf: at(0, 0x1e), buses: { secondary: 5, subordinate: 5 }, windows: { memory: { base: 0xd000_0000, size: 0x10_0000 } } },
  { id: 'legacy', kind: 'pci-device', parent: 'dmi', bdf: at(5, 0), bars: [{ size: 0x1000, at: 0xd000_0000 }] },
];

describe('conventional PCI bridges, nested and on a root bus (PCI-to-PCI Bridge Arch. 1.2; Linux pci_for_each_dma_alias)', () => {
  it('enumeration refuses a PCI bridge on the root bus (BAD_PARENT)', () => expect(code(nested.map(({ bdf: _b, buses: _s, windows: _w, ...f }) => ({ ...f, bars: f.bars?.map(({ size }) => ({ size })) })))).toBe('BAD_PARENT'));

  it('the IOMMU sees the outermost bridge’s alias: the PCIe-to-PCI bridge’s (secondary, 00.0); each bridge is a DMA alias', () => {
    const t = build(nested, firmware);
    const w = t.send('inner', { type: 'MemWr', address: 0x1000 });
    expect(w.requesterId).toBe(requesterId(2, 0, 0));
    expect(t.path(w)).toEqual(['inner:up', 'pci:alias', 'pci:up', 'br:alias', 'br:up', 'rp:up', 'root-complex:decode', 'root-complex:delivered']);
    expect(dmaAliases(t.fabric, 'inner')).toEqual([requesterId(3, 0, 0), requesterId(2, 1, 0), requesterId(2, 0, 0)]);
  });

  it('a PCI bridge on the root bus tags what it forwards with its own ID (00:1e.0)', () => {
    const t = build(nested, firmware);
    expect(t.send('legacy', { type: 'MemWr', address: 0x1000 }).requesterId).toBe(requesterId(0, 0x1e, 0));
  });

  it('a device behind the inner bridge reaches one on the outer bus directly: the target claims it on the shared bus', () => {
    const t = build(nested, firmware);
    expect(t.path(t.send('inner', { type: 'MemWr', address: 0xc001_0000 }))).toEqual(['inner:up', 'pci:alias', 'pci:up', 'br:p2p-direct', 'outer:delivered']);
  });
});
