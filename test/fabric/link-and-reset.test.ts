/**
 * Links that go down and functions that are reset (src/fabric/fabric.ts
 * setLink / linkDown / resetFunction): requests routed to a down link are
 * Unsupported Requests at its port (PCIe 6.0 §2.9.1, §6.7); a device below
 * any down link is off the fabric; completions for requests issued before
 * a function's reset are Unexpected Completions (§6.6.2).
 */
import { describe, expect, it } from 'vitest';
import { acs, build } from './build.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';

const ROOT = acs(['SV', 'RR', 'CR', 'UF']);
const dock: FunctionConfig[] = [
  { id: 'rp0', kind: 'root-port', acs: ROOT },
  { id: 'up', kind: 'switch-upstream', parent: 'rp0' },
  { id: 'dp', kind: 'switch-downstream', parent: 'up', acs: ROOT },
  { id: 'nic', kind: 'endpoint', parent: 'dp', bars: [{ size: 0x10000 }] },
  { id: 'rp1', kind: 'root-port', acs: ROOT },
  { id: 'disk', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x4000 }] },
];

describe('hot-plug links', () => {
  it('a device below an unplugged dock is off the fabric; its own link and every link above count', () => {
    const t = build(dock);
    t.fabric.setLink('up', false);
    expect([t.fabric.linkDown('nic'), t.fabric.linkDown('dp'), t.fabric.linkDown('up'), t.fabric.linkDown('disk')]).toEqual([true, true, true, false]);
    t.fabric.setLink('up', true);
    expect(t.fabric.linkDown('nic')).toBe(false);
  });

  it('a request to the removed device ends at its port: Unsupported Request (route.no-device)', () => {
    const t = build(dock);
    t.fabric.setLink('nic', false);
    const tlp = t.send('disk', { type: 'MemWr', address: t.fabric.fn('nic').bars[0]!.base });
    expect(tlp).toMatchObject({ outcome: 'unsupported-request', reason: 'route.no-device', decidedAt: 'dp' });
    expect(tlp.rule).toMatch(/§2\.9\.1/);
  });

  it('only a device on a root or downstream port\'s link can be unplugged', () => {
    expect(() => build(dock).fabric.setLink('dp', false)).toThrow(/cannot be hot-plugged/);
  });
});

describe('a function reset: requests issued before it are no longer outstanding', () => {
  it.each([
    [false, 'completion.delivered'],
    [true, 'route.unexpected-completion'],
  ])('reset while the read is in flight: %s → its completion ends %s', (reset, reason) => {
    const t = build(dock);
    const reasons: string[] = [];
    t.fabric.onEnd((tlp) => void (tlp.type === 'CplD' && reasons.push(tlp.reason)));
    t.fabric.issue('nic', { type: 'MemRd', address: 0x1000, length: 4 });
    if (reset) t.fabric.resetFunction('nic');
    t.kernel.run();
    expect(reasons).toEqual([reason]);
  });

  it('a read issued after the reset completes normally', () => {
    const t = build(dock);
    t.fabric.resetFunction('nic');
    const reasons: string[] = [];
    t.fabric.onEnd((tlp) => void (tlp.type === 'CplD' && reasons.push(tlp.reason)));
    t.send('nic', { type: 'MemRd', address: 0x1000, length: 4 });
    expect(reasons).toEqual(['completion.delivered']);
  });
});
