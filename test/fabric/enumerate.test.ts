/**
 * Enumeration checked against hand-computed bus numbers and windows
 * (depth-first bus numbering, PCI Firmware Spec 3.3; windows 1 MiB granular,
 * PCI-to-PCI Bridge Architecture 1.2 §3.2.5.8; largest alignment first).
 */
import { describe, expect, it } from 'vitest';
import { produce } from 'immer';
import { enumerate } from '../../src/fabric/enumerate.ts';
import { compileFabric } from '../../src/fabric/fabric.ts';
import { TopologyError, type FunctionConfig } from '../../src/fabric/topology.ts';
import { Kernel } from '../../src/sim/kernel.ts';
import { fabricConfig } from './build.ts';

const M = 0x10_0000;

const twoSwitchTree: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port' },
  { id: 'sw1-up', kind: 'switch-upstream', parent: 'rp0' },
  { id: 'sw1-dp0', kind: 'switch-downstream', parent: 'sw1-up' },
  { id: 'sw1-dp1', kind: 'switch-downstream', parent: 'sw1-up' },
  { id: 'sw2-up', kind: 'switch-upstream', parent: 'sw1-dp0' },
  { id: 'sw2-dp0', kind: 'switch-downstream', parent: 'sw2-up' },
  { id: 'sw2-dp1', kind: 'switch-downstream', parent: 'sw2-up' },
  { id: 'ep-a', kind: 'endpoint', parent: 'sw2-dp0', bars: [{ size: M }] },
  { id: 'ep-b', kind: 'endpoint', parent: 'sw2-dp1', bars: [{ size: 0x4000 }, { size: 256 * M, prefetch: true }] },
  { id: 'ep-c', kind: 'endpoint', parent: 'sw1-dp1', bars: [{ size: 0x1000 }] },
  { id: 'rp1', kind: 'root-port' },
  { id: 'ep-d', kind: 'endpoint', parent: 'rp1', bars: [{ size: 32 * M }] },
];

describe('enumeration of a two-switch tree', () => {
  const e = enumerate(fabricConfig(twoSwitchTree));
  const at = (id: string) => e.byId.get(id)!;
  const bdf = (id: string) => `${at(id).bus.toString(16).padStart(2, '0')}:${at(id).device.toString(16).padStart(2, '0')}.${at(id).fn}`;

  it.each([
    // id, BDF, secondary, subordinate
    ['rp0', '00:01.0', 1, 7],
    ['sw1-up', '01:00.0', 2, 7],
    ['sw1-dp0', '02:00.0', 3, 6],
    ['sw2-up', '03:00.0', 4, 6],
    ['sw2-dp0', '04:00.0', 5, 5],
    ['sw2-dp1', '04:01.0', 6, 6],
    ['sw1-dp1', '02:01.0', 7, 7],
    ['rp1', '00:02.0', 8, 8],
  ])('%s sits at %s with buses %i..%i', (id, where, secondary, subordinate) => {
    expect(bdf(id)).toBe(where);
    expect(at(id).buses).toEqual({ secondary, subordinate });
  });

  it.each([
    ['ep-a', '05:00.0'],
    ['ep-b', '06:00.0'],
    ['ep-c', '07:00.0'],
    ['ep-d', '08:00.0'],
  ])('endpoint %s sits at %s', (id, where) => expect(bdf(id)).toBe(where));

  it.each([
    // rp1's 32 MiB window has the largest alignment, so it is placed first.
    ['rp1', 0xc000_0000, 32 * M],
    ['rp0', 0xc200_0000, 3 * M],
    ['sw1-up', 0xc200_0000, 3 * M],
    ['sw1-dp0', 0xc200_0000, 2 * M],
    ['sw1-dp1', 0xc220_0000, M],
    ['sw2-up', 0xc200_0000, 2 * M],
    ['sw2-dp0', 0xc200_0000, M],
    ['sw2-dp1', 0xc210_0000, M],
  ])('%s has memory window base %i size %i', (id, base, size) => {
    expect(at(id).windows.memory).toEqual({ base, size });
  });

  it('places BARs inside their windows, naturally aligned', () => {
    expect(at('ep-a').bars[0]!.base).toBe(0xc200_0000);
    expect(at('ep-b').bars[0]!.base).toBe(0xc210_0000);
    expect(at('ep-c').bars[0]!.base).toBe(0xc220_0000);
    expect(at('ep-d').bars[0]!.base).toBe(0xc000_0000);
  });

  it('puts 64-bit prefetchable BARs in the prefetchable windows above 4 GiB', () => {
    expect(at('ep-b').bars[1]!.base).toBe(0x40_0000_0000);
    for (const id of ['sw2-dp1', 'sw2-up', 'sw1-dp0', 'sw1-up', 'rp0']) {
      expect(at(id).windows.prefetchable).toEqual({ base: 0x40_0000_0000, size: 256 * M });
    }
    expect(at('sw2-dp0').windows.prefetchable).toBeNull();
    expect(at('rp1').windows.prefetchable).toBeNull();
  });
});

describe('pinned BDFs, buses and BARs are honoured', () => {
  it('keeps a pinned root port and derives its secondary bus from a pinned child', () => {
    const e = enumerate(
      fabricConfig([
        { id: 'rp', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 4 } },
        { id: 'ep', kind: 'endpoint', parent: 'rp', bdf: { bus: 0x3a, device: 0, fn: 0 }, bars: [{ size: 0x4000, at: 0xd000_0000 }] },
      ]),
    );
    expect(e.byId.get('rp')!.buses).toEqual({ secondary: 0x3a, subordinate: 0x3a });
    expect(e.byId.get('rp')!.windows.memory).toEqual({ base: 0xd000_0000, size: M });
    expect(e.byId.get('ep')!.bars[0]!.base).toBe(0xd000_0000);
  });

  it('packs unpinned BARs around pinned ones', () => {
    const e = enumerate(
      fabricConfig([
        { id: 'a', kind: 'rciep', bars: [{ size: 0x1000, at: 0xc000_0000 }] },
        { id: 'b', kind: 'rciep', bars: [{ size: 0x1000 }] },
      ]),
    );
    expect(e.byId.get('b')!.bars[0]!.base).toBe(0xc000_1000);
  });

  it('compiles an immer-produced variant without touching the original configuration', () => {
    const base = fabricConfig(twoSwitchTree);
    const variant = produce(base, (draft) => {
      draft.functions[0]!.acs = { cap: 0x1f, ctl: 0x1d };
    });
    const fabric = compileFabric(variant, new Kernel());
    expect(fabric.fn('rp0').acs?.ctl).toBe(0x1d);
    expect(base.functions[0]!.acs).toBeUndefined();
    expect(Object.isFrozen(variant)).toBe(true);
  });
});

describe('impossible topologies are refused with a code naming the culprit', () => {
  const cases: [string, FunctionConfig[], string, string][] = [
    ['duplicate ids', [{ id: 'x', kind: 'rciep' }, { id: 'x', kind: 'rciep' }], 'DUPLICATE_ID', 'x'],
    ['dangling parent', [{ id: 'ep', kind: 'endpoint', parent: 'nope' }], 'UNKNOWN_PARENT', 'ep'],
    ['endpoint on the root bus', [{ id: 'ep', kind: 'endpoint' }], 'BAD_PARENT', 'ep'],
    ['downstream port below a root port', [{ id: 'rp', kind: 'root-port' }, { id: 'dp', kind: 'switch-downstream', parent: 'rp' }], 'BAD_PARENT', 'dp'],
    [
      'two devices on one link',
      [{ id: 'rp', kind: 'root-port' }, { id: 'up', kind: 'switch-upstream', parent: 'rp' }, { id: 'ep', kind: 'endpoint', parent: 'rp' }],
      'LINK_SHARED',
      'ep',
    ],
    [
      'duplicate BDF',
      [{ id: 'a', kind: 'rciep', bdf: { bus: 0, device: 3, fn: 0 } }, { id: 'b', kind: 'rciep', bdf: { bus: 0, device: 3, fn: 0 } }],
      'DUPLICATE_BDF',
      'b',
    ],
    [
      'child pinned to a bus already taken',
      [
        { id: 'rp0', kind: 'root-port' },
        { id: 'rp1', kind: 'root-port' },
        { id: 'e0', kind: 'endpoint', parent: 'rp0', bdf: { bus: 5, device: 0, fn: 0 } },
        { id: 'e1', kind: 'endpoint', parent: 'rp1', bdf: { bus: 2, device: 0, fn: 0 } },
      ],
      'IMPOSSIBLE_BUS',
      'e1',
    ],
    ['root-bus device pinned off the root bus', [{ id: 'a', kind: 'rciep', bdf: { bus: 1, device: 0, fn: 0 } }], 'IMPOSSIBLE_BUS', 'a'],
    [
      'subordinate below a child bus',
      [{ id: 'rp', kind: 'root-port', buses: { secondary: 4, subordinate: 3 } }, { id: 'e', kind: 'endpoint', parent: 'rp' }],
      'IMPOSSIBLE_BUS',
      'rp',
    ],
    ['BAR size not a power of two', [{ id: 'a', kind: 'rciep', bars: [{ size: 3000 }] }], 'BAR_SIZE', 'a'],
    ['BAR not aligned to its size', [{ id: 'a', kind: 'rciep', bars: [{ size: 0x2000, at: 0xc000_1000 }] }], 'BAR_ALIGN', 'a'],
    [
      'overlapping pinned BARs',
      [{ id: 'a', kind: 'rciep', bars: [{ size: 0x2000, at: 0xc000_0000 }] }, { id: 'b', kind: 'rciep', bars: [{ size: 0x1000, at: 0xc000_1000 }] }],
      'OVERLAPPING_BARS',
      'b',
    ],
    [
      'nine functions on one link',
      [{ id: 'rp', kind: 'root-port' }, ...Array.from({ length: 9 }, (_, i): FunctionConfig => ({ id: `f${i}`, kind: 'endpoint', parent: 'rp' }))],
      'FUNCTION_EXHAUSTED',
      'f8',
    ],
  ];

  it.each(cases)('%s', (_name, functions, code, subject) => {
    let error: unknown;
    try {
      enumerate(fabricConfig(functions));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyError);
    expect([(error as TopologyError).code, (error as TopologyError).subject]).toEqual([code, subject]);
  });

  it('refuses host memory overlapping a BAR', () => {
    const config = fabricConfig([{ id: 'a', kind: 'rciep', bars: [{ size: 0x1000, at: 0x1000 }] }]);
    expect(() => compileFabric(config, new Kernel())).toThrowError(/memory 'ram'.*overlaps a.bar0/);
  });

  it('runs out of bus numbers loudly', () => {
    const chain: FunctionConfig[] = [{ id: 'rp', kind: 'root-port', buses: { secondary: 0xff, subordinate: 0xff } }, { id: 'up', kind: 'switch-upstream', parent: 'rp' }];
    expect(() => enumerate(fabricConfig(chain))).toThrowError(/no bus number left/);
  });
});
