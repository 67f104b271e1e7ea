/**
 * ACS as PCIe 6.3 §6.12 has it, on small fabrics: Table 6-11 with a clear
 * vector bit, Upstream Forwarding for any TLP aimed back down its port, and
 * ACS Enhanced (§6.12.4): DSP and USP Memory Target Access, Unclaimed
 * Request Redirect, I/O Request Blocking. Paths read "node:decision".
 */
import { describe, expect, it } from 'vitest';
import { ACS_ENHANCED, AcsCtl, REQUIRED_ACS, acsMask, memoryTargetBits, type AcsCapability } from '../../src/pcie/acs.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { acs, build, switchPair, type TestFabric } from './build.ts';

const ALL = acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']);
const barOf = (t: TestFabric, id: string) => t.fabric.fn(id).bars[0]!.base;
const enhanced = (ctl: number): AcsCapability => ({ cap: ALL | ACS_ENHANCED, ctl });

/** rp0 → switch whose upstream port and downstream ports have BARs; endpoint a below dp0, b below dp1. */
function switchWithPortBars(dp: AcsCapability | undefined): FunctionConfig[] {
  return [
    { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'up', kind: 'switch-upstream', parent: 'rp0', bars: [{ size: 0x4000 }] },
    { id: 'dp0', kind: 'switch-downstream', parent: 'up', bars: [{ size: 0x1000 }], ...(dp ? { acs: dp } : {}) },
    { id: 'dp1', kind: 'switch-downstream', parent: 'up', bars: [{ size: 0x1000 }], ...(dp ? { acs: dp } : {}) },
    { id: 'a', kind: 'endpoint', parent: 'dp0', bars: [{ size: 0x10000 }] },
    { id: 'b', kind: 'endpoint', parent: 'dp1', bars: [{ size: 0x4000 }] },
  ];
}

describe('Table 6-11 at a switch downstream port (PCIe 6.3 §6.12.3)', () => {
  it('E=1, R=1 and a clear vector bit: the request goes straight to the peer despite RR', () => {
    const t = build(switchPair(acs(['EC', 'RR', 'UF'], undefined, 0b01n)));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }))).toEqual(['a:up', 'dp0:p2p-direct', 'dp1:down', 'b:delivered']);
  });

  it('a 64-bit vector reaches a downstream port numbered 40', () => {
    const functions = switchPair(acs(['EC'], undefined, 1n << 40n, 64)).map((f) => (f.id === 'dp1' ? { ...f, portNumber: 40 } : f));
    const t = build(functions);
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'b') });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.egress-control', 'dp0']);
  });
});

describe('Upstream Forwarding applies to every TLP from below aimed back down the port (§6.12.1.1)', () => {
  it('at a root port above an endpoint, UF sends it up; without UF it is routed back down (undefined: the worst case)', () => {
    const single = (rp: string[]): FunctionConfig[] => [
      { id: 'rp0', kind: 'root-port', acs: acs(rp as never) },
      { id: 'a', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x1000 }] },
    ];
    const withUf = build(single(['UF']));
    const inWindow = withUf.fabric.fn('rp0').windows.memory!.base + 0x8_0000;
    expect(withUf.path(withUf.send('a', { type: 'MemWr', address: inWindow }))[1]).toBe('rp0:upstream-forward');
    const without = build(single([]));
    expect(without.path(without.send('a', { type: 'MemWr', address: inWindow })).slice(1, 3)).toEqual(['rp0:reflect-down', 'a:unsupported-request']);
  });
});

describe('ACS DSP Memory Target Access (§6.12.1.1, ACS Enhanced)', () => {
  it.each<[string, 'direct' | 'block' | 'redirect', string[]]>([
    ['00b direct: the request reaches the peer port’s BAR inside the switch', 'direct', ['a:up', 'dp0:p2p-direct', 'dp1:delivered']],
    ['01b block: an ACS Violation at the ingress port', 'block', ['a:up', 'dp0:blocked']],
    ['10b redirect: up to the root complex first', 'redirect', ['a:up', 'dp0:redirect-up', 'up:up', 'rp0:upstream-forward']],
  ])('%s', (_name, mode, path) => {
    const t = build(switchWithPortBars(enhanced(REQUIRED_ACS | memoryTargetBits(mode, 'dsp'))));
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'dp1') });
    expect(t.path(tlp).slice(0, path.length)).toEqual(path);
    if (mode === 'block') expect(tlp.reason).toBe('acs.memory-target');
  });

  it('the ingress port’s own BAR is governed too', () => {
    const t = build(switchWithPortBars(enhanced(REQUIRED_ACS | memoryTargetBits('block', 'dsp'))));
    expect(t.send('a', { type: 'MemWr', address: barOf(t, 'dp0') }).outcome).toBe('blocked');
    const open = build(switchWithPortBars(enhanced(REQUIRED_ACS)));
    const tlp = open.send('a', { type: 'MemWr', address: barOf(open, 'dp0') });
    expect([tlp.outcome, tlp.target?.name]).toEqual(['delivered', 'dp0.bar0']);
  });

  it('without ACS Enhanced, a peer port’s BAR follows RR (Linux’s assumption): redirected', () => {
    const t = build(switchWithPortBars(acs(['SV', 'RR', 'CR', 'UF'])));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'dp1') }))[1]).toBe('dp0:redirect-up');
  });

  it('a port with no ACS capability lets it through to the peer port’s BAR', () => {
    const t = build(switchWithPortBars(undefined));
    expect(t.path(t.send('a', { type: 'MemWr', address: barOf(t, 'dp1') }))).toEqual(['a:up', 'dp0:p2p-direct', 'dp1:delivered']);
  });
});

describe('ACS USP Memory Target Access (§6.12.1.1, ACS Enhanced)', () => {
  it.each<['direct' | 'block' | 'redirect', string]>([
    ['direct', 'up:delivered'],
    ['block', 'dp0:blocked'],
    ['redirect', 'dp0:redirect-up'],
  ])('%s', (mode, step) => {
    const t = build(switchWithPortBars(enhanced(REQUIRED_ACS | memoryTargetBits('redirect', 'dsp') | memoryTargetBits(mode, 'usp'))));
    const tlp = t.send('a', { type: 'MemWr', address: barOf(t, 'up') });
    expect(t.path(tlp)).toContain(step);
    if (mode === 'redirect') expect(tlp.target?.name).toBe('up.bar0'); // back down from the root complex
  });
});

describe('ACS Unclaimed Request Redirect (§6.12.1.1, ACS Enhanced)', () => {
  // An address in the upstream port's window that no downstream port's window or BAR covers.
  const unclaimed = (t: TestFabric) => {
    const w = t.fabric.fn('up').windows.memory!;
    return w.base + w.size - 0x10;
  };

  it('enabled: redirected upstream out of the switch', () => {
    const t = build(switchWithPortBars(enhanced(REQUIRED_ACS | AcsCtl.UNCLAIMED_RR)));
    expect(t.path(t.send('a', { type: 'MemWr', address: unclaimed(t) })).slice(0, 3)).toEqual(['a:up', 'dp0:redirect-up', 'up:up']);
  });

  it('not enabled: an Unsupported Request at the downstream port', () => {
    const t = build(switchWithPortBars(enhanced(REQUIRED_ACS)));
    const tlp = t.send('a', { type: 'MemWr', address: unclaimed(t) });
    expect([tlp.outcome, tlp.decidedAt]).toEqual(['unsupported-request', 'dp0']);
  });
});

describe('ACS I/O Request Blocking (§6.12.1.1, ACS Enhanced)', () => {
  it('enabled: an upstream I/O request is blocked at the port', () => {
    const t = build(switchPair(enhanced(REQUIRED_ACS | AcsCtl.IORB)));
    const tlp = t.send('a', { type: 'IOWr', address: 0xcf8, data: 0x8000_0000 });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.io-request-blocking', 'dp0']);
  });

  it('not enabled: it reaches the root complex, which decodes no I/O space', () => {
    const t = build(switchPair(enhanced(REQUIRED_ACS)));
    const tlp = t.send('a', { type: 'IOWr', address: 0xcf8, data: 0x8000_0000 });
    expect([tlp.outcome, tlp.decidedAt]).toEqual(['unsupported-request', 'root-complex']);
  });
});

describe('the Egress Control Vector through config space (§7.7.11.4)', () => {
  it('a 64-bit vector takes two DWORDs; a host write to the second changes routing', () => {
    const functions = switchPair(acs(['EC'], undefined, 0n, 64)).map((f) => (f.id === 'dp1' ? { ...f, portNumber: 33 } : f));
    const t = build(functions);
    const base = t.fabric.fn('dp0').config.findExtendedCapability(0x000d);
    expect(t.fabric.fn('dp0').config.read(base + 4, 2) >>> 8).toBe(64);
    expect(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }).outcome).toBe('delivered');
    t.fabric.hostIssue({ type: 'CfgWr', targetId: t.fabric.fn('dp0').rid, address: base + 12, length: 4, data: 1 << 1 });
    t.kernel.run();
    expect(t.send('a', { type: 'MemWr', address: barOf(t, 'b') }).reason).toBe('acs.egress-control');
  });
});
