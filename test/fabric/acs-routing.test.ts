/**
 * Each ACS control shown on a small peer-to-peer topology: turning it on
 * changes where the TLP goes (PCIe 6.0 §6.12). Paths read "node:decision".
 */
import { describe, expect, it } from 'vitest';
import { acs, build, switchPair } from './build.ts';
import type { TestFabric } from './build.ts';
import { requesterId } from '../../src/pcie/bdf.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';

const barOf = (t: TestFabric, id: string) => t.fabric.fn(id).bars[0]!.base;

describe('P2P Request Redirect (RR) at a switch downstream port', () => {
  it('without RR the write goes straight to the peer and never reaches the root complex', () => {
    const t = build(switchPair(acs([])));
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    expect(t.path(tlp)).toEqual(['a:up', 'dp0:p2p-direct', 'dp1:down', 'b:delivered']);
    expect(tlp.target?.name).toBe('b.bar0');
  });

  it('with RR the write is redirected upstream to the root complex, then down to the peer', () => {
    const t = build(switchPair(acs(['RR', 'UF'])));
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    expect(t.path(tlp)).toEqual([
      'a:up', 'dp0:redirect-up', 'up:up', 'rp0:upstream-forward',
      'root-complex:decode', 'root-complex:down', 'rp0:down', 'up:down', 'dp1:down', 'b:delivered',
    ]);
  });

  it('a port with no ACS capability at all routes peer-to-peer directly', () => {
    const t = build(switchPair(undefined));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))).toContain('dp0:p2p-direct');
  });
});

describe('Source Validation (SV)', () => {
  const forgedSibling = (t: TestFabric) => t.fabric.fn('b').rid; // bus of the other downstream port

  it('blocks a requester ID whose bus is outside the port’s secondary..subordinate range', () => {
    const t = build(switchPair(acs(['SV'])));
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000, requesterId: forgedSibling(t) });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.source-validation', 'dp0']);
  });

  it('without SV the forged ID passes the switch (the root port cannot tell: the bus is below it)', () => {
    const t = build(switchPair(acs([])));
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000, requesterId: forgedSibling(t) });
    expect([tlp.outcome, tlp.decidedAt, tlp.requesterId]).toEqual(['delivered', 'root-complex', forgedSibling(t)]);
  });

  it('a bus outside the whole hierarchy is still caught by the root port’s SV', () => {
    const t = build(switchPair(acs([])));
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000, requesterId: requesterId(0x42, 0, 0) });
    expect([tlp.outcome, tlp.decidedAt]).toEqual(['blocked', 'rp0']);
  });
});

describe('Translation Blocking (TB)', () => {
  it.each(['translated', 'translation-request'] as const)('blocks AT=%s at the port', (at) => {
    const t = build(switchPair(acs(['TB'])));
    const tlp = t.send('a', { type: at === 'translated' ? 'MemWr' : 'MemRd', address: 0x1000, at });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.translation-blocking', 'dp0']);
  });

  it('without TB a translated write reaches the root complex', () => {
    const t = build(switchPair(acs([])));
    expect(t.send('a', { type: 'MemWr', address: 0x1000, at: 'translated' }).decidedAt).toBe('root-complex');
  });
});

describe('Egress Control (EC) vector', () => {
  // dp1 is device 1 on the switch's internal bus: bit 1 of dp0's vector names it.
  it('blocks P2P to a port whose vector bit is set when RR is clear', () => {
    const t = build(switchPair(acs(['EC'], undefined, 0b10n)));
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.egress-control', 'dp0']);
  });

  it('redirects instead when RR is also set', () => {
    const t = build(switchPair(acs(['EC', 'RR'], undefined, 0b10n)));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))[1]).toBe('dp0:redirect-up');
  });

  it('leaves P2P to ports whose bit is clear alone', () => {
    const t = build(switchPair(acs(['EC'], undefined, 0b01n)));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))[1]).toBe('dp0:p2p-direct');
  });
});

describe('Direct Translated P2P (DT)', () => {
  it('with RR and DT, a translated request goes straight to the peer', () => {
    const t = build(switchPair(acs(['RR', 'DT'])));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b'), at: 'translated' }))[1]).toBe('dp0:p2p-direct');
  });

  it('with RR and DT, an untranslated request is still redirected', () => {
    const t = build(switchPair(acs(['RR', 'DT'])));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))[1]).toBe('dp0:redirect-up');
  });

  it('with RR alone, a translated request is redirected', () => {
    const t = build(switchPair(acs(['RR'])));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b'), at: 'translated' }))[1]).toBe('dp0:redirect-up');
  });
});

describe('P2P Completion Redirect (CR)', () => {
  const completionPath = (dp1Ctl: Parameters<typeof acs>[0]) => {
    const t = build(switchPair(acs([]), acs(dp1Ctl)));
    const read = t.send('a', { type: 'MemRd', address: barOf(t, 'b') });
    expect([read.outcome, read.target?.name]).toEqual(['completed', 'b.bar0']);
    const cpl = t.trace.records.find((r) => r.type === 'tlp.issued' && r.kind === 'CplD');
    const id = cpl?.type === 'tlp.issued' ? cpl.tlp : -1;
    return t.trace.records.flatMap((r) => (r.type === 'tlp.hop' && r.tlp === id ? [`${r.node}:${r.decision}`] : []));
  };

  it('without CR the completion of a peer read goes straight back to the peer', () => {
    expect(completionPath([])).toEqual(['b:up', 'dp1:p2p-direct', 'dp0:down']);
  });

  it('with CR the completion is redirected upstream', () => {
    expect(completionPath(['CR']).slice(0, 2)).toEqual(['b:up', 'dp1:redirect-up']);
  });
});

describe('Upstream Forwarding (UF) with nested switches', () => {
  // rp0 → top switch (one DP "top-dp") → lower switch (x-dp, y-dp) → endpoints x, y.
  const nested = (topCtl: Parameters<typeof acs>[0]): FunctionConfig[] => [
    { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'top-up', kind: 'switch-upstream', parent: 'rp0' },
    { id: 'top-dp', kind: 'switch-downstream', parent: 'top-up', acs: acs(topCtl) },
    { id: 'low-up', kind: 'switch-upstream', parent: 'top-dp' },
    { id: 'x-dp', kind: 'switch-downstream', parent: 'low-up', acs: acs(['RR']) },
    { id: 'y-dp', kind: 'switch-downstream', parent: 'low-up', acs: acs(['RR']) },
    { id: 'x', kind: 'endpoint', parent: 'x-dp', bars: [{ size: 0x1000 }] },
    { id: 'y', kind: 'endpoint', parent: 'y-dp', bars: [{ size: 0x1000 }] },
  ];

  it('with UF the redirected write climbs to the root complex', () => {
    const t = build(nested(['RR', 'UF']));
    const path = t.path(t.send('x', { type: 'MemWr', address: barOf(t, 'y') }));
    expect(path.slice(0, 4)).toEqual(['x:up', 'x-dp:redirect-up', 'low-up:up', 'top-dp:upstream-forward']);
    expect(path).toContain('root-complex:decode');
  });

  it('without UF the upper downstream port reflects it back down: the lower switch’s RR is defeated', () => {
    const t = build(nested(['RR']));
    const path = t.path(t.send('x', { type: 'MemWr', address: barOf(t, 'y') }));
    expect(path).toEqual(['x:up', 'x-dp:redirect-up', 'low-up:up', 'top-dp:reflect-down', 'low-up:down', 'y-dp:down', 'y:delivered']);
  });
});

describe('root ports as peers', () => {
  const twoRootPorts = (rp0: Parameters<typeof acs>[0]): FunctionConfig[] => [
    { id: 'rp0', kind: 'root-port', acs: acs(rp0) },
    { id: 'rp1', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'a', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x1000 }] },
    { id: 'b', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x1000 }] },
  ];

  it('without RR at the root port, P2P to another root port skips the host bridge (and any IOMMU)', () => {
    const t = build(twoRootPorts([]));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))).toEqual(['a:up', 'rp0:p2p-direct', 'rp1:down', 'b:delivered']);
  });

  it('with RR the request goes through the host bridge first', () => {
    const t = build(twoRootPorts(['RR']));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') })).slice(1, 3)).toEqual(['rp0:redirect-up', 'root-complex:decode']);
  });
});

describe('multifunction devices (PCIe 6.0 §6.12.1.2)', () => {
  const mfd = (f0Acs?: ReturnType<typeof acs>): FunctionConfig[] => [
    { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'f0', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x1000 }], ...(f0Acs ? { acs: f0Acs } : {}) },
    { id: 'f1', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x1000 }] },
  ];

  it('functions of one device share device 0 on the link', () => {
    const t = build(mfd());
    expect([t.fabric.fn('f0').bdf, t.fabric.fn('f1').bdf]).toEqual(['01:00.0', '01:00.1']);
  });

  it('without ACS one function reaches its sibling inside the device', () => {
    const t = build(mfd());
    expect(t.path(t.send('f0', { type: 'MemWr', address: barOf(t, 'f1') }))).toEqual(['f0:p2p-direct', 'f1:delivered']);
  });

  it('with RR on the function the request leaves the device and comes back through the root complex', () => {
    const t = build(mfd(acs(['RR'], ['RR', 'CR', 'EC', 'DT'])));
    const path = t.path(t.send('f0', { type: 'MemWr', address: barOf(t, 'f1') }));
    expect(path.slice(0, 3)).toEqual(['f0:redirect-up', 'rp0:upstream-forward', 'root-complex:decode']);
    expect(path.at(-1)).toBe('f1:delivered'); // decisions inside a multifunction device name the function involved
  });

  it('EC on the function blocks the sibling it names', () => {
    const t = build(mfd(acs(['EC'], ['RR', 'CR', 'EC', 'DT'], 0b10n)));
    const tlp = t.send('f0', { type: 'MemWr', address: barOf(t, 'f1') });
    expect([tlp.outcome, tlp.reason]).toEqual(['blocked', 'acs.egress-control']);
  });

  it('a function always reaches its own BAR (DESIGN.md §2)', () => {
    const t = build(mfd(acs(['RR', 'EC'], ['RR', 'CR', 'EC', 'DT'], 0xffn)));
    const tlp = t.send('f0', { type: 'MemWr', address: barOf(t, 'f0') });
    expect([tlp.outcome, tlp.target?.name]).toEqual(['delivered', 'f0.bar0']);
  });
});

describe('configuration requests only come from the root complex (PCIe 6.0 §7.3.3)', () => {
  it('a device-issued CfgWr is an Unsupported Request at the first port', () => {
    const t = build(switchPair(acs([])));
    const tlp = t.send('a', { type: 'CfgWr', targetId: t.fabric.fn('b').rid, address: 0x4, data: 0 });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['unsupported-request', 'route.config-from-below', 'dp0']);
  });

  it('the host’s config write to a port’s ACS control changes routing from the next TLP on', () => {
    const t = build(switchPair(acs([])));
    const before = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    const ctlOffset = t.fabric.fn('dp0').config.findExtendedCapability(0x000d) + 6;
    const write = t.fabric.hostIssue({ type: 'CfgWr', targetId: t.fabric.fn('dp0').rid, address: ctlOffset, length: 2, data: 0b0001_1101 });
    t.kernel.run();
    expect(write.outcome).toBe('delivered');
    expect(t.fabric.fn('dp0').acs!.ctl).toBe(0b0001_1101);
    const after = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    expect([t.path(before)[1], t.path(after)[1]]).toEqual(['dp0:p2p-direct', 'dp0:redirect-up']);
  });
});
