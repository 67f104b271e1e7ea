/**
 * Port modules (src/fabric/port-module.ts, after SST-core's portModule.h):
 * at a node's ingress or egress they see each TLP arriving or leaving, and
 * pass it (changed or not), drop it through the fabric's one ending point
 * with a registered reason, or inject new TLPs; with none attached the
 * fabric behaves exactly as before. Paths read "node:decision". The
 * hostile-switch case: ACS Source Validation checks the requester ID as it
 * arrives at the downstream port (PCIe 6.0 §6.12.1.1), so a switch that
 * rewrites it further up is not stopped by SV.
 */
import { describe, expect, it } from 'vitest';
import { acs, build, switchPair } from './build.ts';
import { dropMatching, forgeRequester, replayer } from '../../src/fabric/interposers.ts';
import type { PortModule } from '../../src/fabric/port-module.ts';
import type { Ending } from '../../src/fabric/ending.ts';
import { ReasonError } from '../../src/pcie/reasons.ts';

const FULL = acs(['SV', 'RR', 'CR', 'UF']);

function endingsOf(t: { fabric: { onEnding(l: (e: Ending) => void): unknown } }): Ending[] {
  const endings: Ending[] = [];
  t.fabric.onEnding((e) => endings.push(e));
  return endings;
}

describe('with nothing attached', () => {
  it('a pass-through module changes nothing: same path, same ending', () => {
    const plain = build(switchPair(FULL));
    const tapped = build(switchPair(FULL));
    const seen: string[] = [];
    const watcher: PortModule = { name: 'watch', onTlp: (tlp, ctx) => void seen.push(`${ctx.node}:${ctx.side}:${tlp.type}`) };
    for (const at of ['dp0', 'up', 'rp0']) for (const side of ['ingress', 'egress'] as const) tapped.fabric.attachModule(at, side, watcher);
    const a = plain.send('a', { type: 'MemWr', address: 0x1000 });
    const b = tapped.send('a', { type: 'MemWr', address: 0x1000 });
    expect(tapped.path(b)).toEqual(plain.path(a));
    expect([b.outcome, b.reason, b.endedAt]).toEqual([a.outcome, a.reason, a.endedAt]);
    // Each node's ingress sees the TLP arrive, its egress sees it leave.
    expect(seen).toEqual(['dp0:ingress:MemWr', 'dp0:egress:MemWr', 'up:ingress:MemWr', 'up:egress:MemWr', 'rp0:ingress:MemWr', 'rp0:egress:MemWr']);
  });
});

describe('a module may change, drop or inject', () => {
  it('a hostile switch rewrites the requester ID above the port that validated it: SV passed the real ID, the IOMMU sees the forged one', () => {
    const t = build(switchPair(FULL));
    const forged = t.fabric.fn('b').rid;
    t.fabric.attachModule('up', 'egress', forgeRequester(forged));
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000 });
    expect(tlp.requesterId).toBe(forged);
    expect(tlp.issuedRequesterId).toBe(t.fabric.fn('a').rid);
    expect(t.path(tlp)).toContain('up:tap');
    expect(tlp.outcome).toBe('delivered');
  });

  it('the same forged ID from the device itself is stopped by SV at its port', () => {
    const t = build(switchPair(FULL));
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000, requesterId: t.fabric.fn('b').rid });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'acs.source-validation', 'dp0']);
  });

  it('a drop ends the TLP once, at the module\'s node, with its registered reason; the modules after it do not see it', () => {
    const t = build(switchPair(FULL));
    const endings = endingsOf(t);
    const later: string[] = [];
    t.fabric.attachModule('up', 'ingress', dropMatching({ types: ['MemWr'] }));
    t.fabric.attachModule('up', 'ingress', { name: 'later', onTlp: (tlp) => void later.push(tlp.type) });
    const tlp = t.send('a', { type: 'MemWr', address: 0x1000 });
    expect([tlp.outcome, tlp.reason, tlp.decidedAt]).toEqual(['blocked', 'tap.dropped', 'up']);
    expect(tlp.rule).toBe('drop: drops MemWr');
    expect(later).toEqual([]);
    expect(endings.filter((e) => e.tlp === tlp.id)).toHaveLength(1);
    expect(t.fabric.inFlight).toBe(0);
  });

  it('a drop with an unregistered reason is refused by the registry', () => {
    const t = build(switchPair(FULL));
    t.fabric.attachModule('up', 'ingress', { name: 'sloppy', onTlp: (_tlp, ctx) => ctx.drop('tap.whatever', 'no such code') });
    // The kernel wraps what a handler throws: the cause is the registry's refusal.
    let caught: unknown;
    try {
      t.send('a', { type: 'MemWr', address: 0x1000 });
    } catch (error) {
      caught = error;
    }
    expect((caught as { cause?: unknown }).cause).toBeInstanceOf(ReasonError);
    expect(String((caught as Error).message)).toContain("unregistered reason 'tap.whatever'");
  });

  it('a replaying interposer puts a copy on the link later, acting for its principal; it does not replay its own replay', () => {
    const t = build(switchPair(FULL));
    const endings = endingsOf(t);
    t.fabric.attachModule('rp0', 'egress', replayer(5000, 'mallory', { types: ['MemWr'] }, 'b'));
    const tlp = t.send('a', { type: 'MemWr', address: 0x2000, data: 0x41 });
    const copies = endings.filter((e) => e.tlp !== tlp.id && e.type === 'MemWr');
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ principal: 'mallory', origin: 'b', address: 0x2000, outcome: 'delivered', reason: 'memory.write' });
    expect(copies[0]!.time - tlp.endedAt).toBe(5000);
    expect(t.fabric.inFlight).toBe(0);
  });
});

describe('attack.interposers: a hostile switch in a scenario', () => {
  const scenario = (interposer: string) => `
schema: tlplab/v1
name: hostile-switch
title: a switch the attacker controls forges the drive's requester ID
summary: s
sources: [s]
machine:
  iommu: { model: vtd }
  memory:
    - { name: host-ram, base: 0x0, size: 2G, owner: host }
    - { name: vm1-ram, base: 0x80000000, size: 1G, owner: vm1 }
  devices:
    - { id: rp0, type: root-port, bdf: "00:1c.0", acs: [SV, RR, CR, UF] }
    - { id: sw-up, type: switch-upstream, parent: rp0 }
    - { id: sw-dp0, type: switch-downstream, parent: sw-up, acs: [SV, RR, CR, UF] }
    - { id: sw-dp1, type: switch-downstream, parent: sw-up, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: sw-dp0, owner: vm1, bars: [64K] }
    - { id: nvme, type: endpoint, parent: sw-dp1, driver: nvme, bars: [16K] }
domains:
  vm1: { devices: [nic], map: [{ iova: 0x0, to: vm1-ram, size: 1G, perm: rw }] }
  host: { devices: [nvme], mode: identity }
attack:
  attacker: vm1
  steps:
    - { at: 0ns, from: nic, write: 0x1000, data: 0x41 }
${interposer}
expect: [{ verdict: isolated }]
`;
  const run = async (interposer: string) => {
    const { loadScenario } = await import('../../src/scenario/load.ts');
    const { runVariant } = await import('../../src/scenario/runner.ts');
    const loaded = loadScenario('hostile-switch.yaml', scenario(interposer));
    return runVariant(loaded, loaded.variants[0]!, 1).result;
  };

  it('without it, IOVA 0x1000 is vm1\'s own RAM: isolated', async () => {
    expect((await run('')).verdict).toBe('isolated');
  });

  it('the switch\'s upstream port rewrites the ID to the drive\'s (04:00.0) after SV passed it: the IOMMU uses the drive\'s identity domain, host RAM is written', async () => {
    const result = await run('  interposers:\n    - { at: sw-up, side: egress, forge-requester: "04:00.0" }');
    expect(result.breaches.map((b) => [b.kind, b.victim])).toEqual([['memory-write', 'host']]);
  });

  it('a dropper on the NIC\'s port stops its write (reason tap.dropped, at sw-dp0)', async () => {
    const result = await run('  interposers:\n    - { at: sw-dp0, side: ingress, drop: { types: [MemWr] } }');
    expect(result.stopped.map((s) => [s.reason, s.at])).toEqual([['tap.dropped', 'sw-dp0']]);
  });

  it.each([
    ['an unknown place', '  interposers:\n    - { at: sw-dp9, side: egress, drop: {} }', /unknown device 'sw-dp9'/],
    ['two actions', '  interposers:\n    - { at: sw-up, side: egress, drop: {}, replay: { delay: 1us } }', /does one thing/],
    ['a bad ID', '  interposers:\n    - { at: sw-up, side: egress, forge-requester: "nope" }', /not a requester ID/],
  ])('%s is a positioned error', async (_name, interposer, message) => {
    await expect(run(interposer)).rejects.toThrow(message);
  });
});
