/**
 * The verdict's time-of-landing rule (DESIGN.md §3; src/policy/ownership.ts):
 * every effect is judged against who owns the memory, BAR, IRTE or vector
 * at the instant it lands, and a TLP acts for whoever programmed the
 * device when it was issued. Each ownership change is tested on both
 * sides: an effect landing 1 ns before the change is judged against the
 * old owner, one landing at the change or 1 ns after against the new one
 * (host steps run before the traffic of their nanosecond, Priority.Control).
 * Device TLPs take 100 ns a hop: a write to host memory lands at the root
 * complex two hops after it is issued, one to a peer's BAR at the BAR four
 * hops after (up to the root complex and down again).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

const T = 10_000;
/** Issue time of a device TLP that lands `offset` ns from T, `hops` hops away. */
const landing = (offset: number, hops = 2) => T - 100 * hops + offset;
const around = (offset: number) => (offset < 0 ? `T${offset} ns` : offset === 0 ? 'T' : `T+${offset} ns`);

function machine(host: 'linux' | 'xen', steps: string, extra = ''): string {
  return `
schema: tlplab/v1
name: ownership-time
title: ownership changes while traffic lands
summary: s
sources: [DESIGN.md §3]
machine:
  host: ${host}
  xen: { quarantine: off }
  # No source-ID validation: a device may name another's IRTE, so the entry's owner decides.
  iommu: { model: vtd, source-id-validation: off }
${extra}  memory:
    - { name: host-ram, base: 0x0, size: 1G, owner: host }
    - { name: vm1-ram, base: 0x40000000, size: 1G, owner: vm1 }
    - { name: page-x, base: 0x80000000, size: 4K, owner: vm1 }
    - { name: loan-page, base: 0x80001000, size: 4K, owner: host }
    - { name: page-y, base: 0x80002000, size: 4K, owner: vm1 }
    - { name: loan-y, base: 0x80003000, size: 4K, owner: host }
  devices:
    - { id: rp0, type: root-port, bdf: "00:1c.0", acs: [SV, RR, CR, UF] }
    - { id: rp1, type: root-port, bdf: "00:1d.0", acs: [SV, RR, CR, UF] }
    - { id: rp2, type: root-port, bdf: "00:1e.0", acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [{ size: 64K, at: 0xc0000000 }], msix: 1 }
    - { id: gpu, type: endpoint, parent: rp1, owner: vm1, bars: [64K], msix: 1 }
    - { id: nvme, type: endpoint, parent: rp2, owner: host, bars: [{ size: 16K, at: 0xc0100000 }], msi: 1 }
domains:
  vm1:
    devices: [nic]
    map:
      - { iova: 0x0, to: vm1-ram, size: 1G, perm: rw }
      - { iova: 0x80000000, to: page-x, size: 4K, perm: rw }
      - { iova: 0x80001000, to: loan-page, size: 4K, perm: rw }
  gpu-direct:
    devices: [gpu]
    mode: identity
attack:
  attacker: vm1
  steps:
${steps}
expect: [{ verdict: isolated }]
`;
}

/** Step lines in time order (a scenario lists its steps so), stable for steps of one instant. */
function inTimeOrder(steps: string): string {
  const ns = (line: string) => {
    const [, n, unit] = /at: (\d+)(ns|us)/.exec(line)!;
    return Number(n) * (unit === 'us' ? 1000 : 1);
  };
  return steps.split('\n').sort((a, b) => ns(a) - ns(b)).join('\n');
}

function run(host: 'linux' | 'xen', steps: string, extra = '') {
  const loaded = loadScenario('ownership-time.yaml', machine(host, inTimeOrder(steps), extra));
  return runVariant(loaded, loaded.variants[0]!, 1).result;
}

const breaches = (result: ReturnType<typeof run>) => result.breaches.map((b) => `${b.kind}:${b.victim}`);

describe('memory changing owner: judged against the region\'s owner when the write lands', () => {
  // gpu (vm1) sits in an identity domain: it reaches memory by host-physical address, with no grant in the way.
  it.each(
    (
      [
        // [change, target, landing offset from T, breaches]
        ['reassign-memory: { region: page-y, to: host }', 0x8000_2000, -1, []],
        ['reassign-memory: { region: page-y, to: host }', 0x8000_2000, 0, ['memory-write:host']],
        ['reassign-memory: { region: page-y, to: host }', 0x8000_2000, +1, ['memory-write:host']],
        ['free: { region: page-y }', 0x8000_2000, -1, []],
        ['free: { region: page-y }', 0x8000_2000, +1, ['memory-write:host']],
        ['reassign-memory: { region: loan-y, to: vm1 }', 0x8000_3000, -1, ['memory-write:host']],
        ['reassign-memory: { region: loan-y, to: vm1 }', 0x8000_3000, +1, []],
        ['reassign-memory: { region: page-y, to: vm2 }', 0x8000_2000, +1, ['memory-write:vm2']],
      ] as const
    ).map(([change, address, offset, expected]) => [change, around(offset), address, offset, expected] as const),
  )('%s, a write landing at %s', (change, _when, address, offset, expected) => {
    const result = run('linux', `    - { at: ${T}ns, ${change} }\n    - { at: ${landing(offset)}ns, from: gpu, write: 0x${address.toString(16)}, data: 0x41 }`);
    expect(breaches(result)).toEqual(expected);
    expect(result.tlps.find((e) => e.tlp !== null && e.type === 'MemWr')!.time).toBe(T + offset);
  });

  it('a mapping is a grant whoever owns the page: vm1\'s NIC may still write page-x through its domain after the host takes the page (the unmap ends it)', () => {
    const steps = (unmap: boolean) => `    - { at: ${T}ns, free: { region: page-x } }\n${unmap ? `    - { at: ${T}ns, unmap: { domain: vm1, iova: 0x80000000, size: 4K } }\n` : ''}    - { at: ${landing(+1)}ns, from: nic, write: 0x80000000, data: 0x41 }`;
    expect(breaches(run('linux', steps(false)))).toEqual([]);
    expect(run('linux', steps(true)).stopped).toMatchObject([{ reason: 'iommu.no-mapping' }]);
  });
});

describe('a device changing hands: its BAR is judged against the device\'s owner when the write lands', () => {
  // gpu (vm1, identity domain) writes straight at a peer's BAR through the root complex.
  it.each(
    (
      [
        ['assign: { device: nvme, to: vm1 }', 0xc010_0000, -1, ['bar-write:host']],
        ['assign: { device: nvme, to: vm1 }', 0xc010_0000, 0, []],
        ['assign: { device: nvme, to: vm1 }', 0xc010_0000, +1, []],
        ['release: { device: nic }', 0xc000_0000, -1, []],
        ['release: { device: nic }', 0xc000_0000, 0, ['bar-write:host']],
        ['release: { device: nic }', 0xc000_0000, +1, ['bar-write:host']],
      ] as const
    ).map(([change, address, offset, expected]) => [change, around(offset), address, offset, expected] as const),
  )('%s, the gpu\'s write landing at %s', (change, _when, address, offset, expected) => {
    const result = run('linux', `    - { at: ${T}ns, ${change} }\n    - { at: ${landing(offset, 4)}ns, from: gpu, write: 0x${address.toString(16)}, data: 0x41 }`);
    expect(breaches(result)).toEqual(expected);
    expect(result.tlps.find((e) => e.origin === 'gpu')).toMatchObject({ reason: 'bar.write', time: T + offset });
  });
});

describe('interrupt entries and vectors changing owner: judged against their owner when the interrupt lands', () => {
  // gpu replays nvme's programmed message (resolved when it is issued); nvme's IRTE is released and set up again for vm1 at T.
  it.each(
    (
      [
        [-1, ['foreign-irte:host']],
        [0, []],
        [+1, []],
      ] as const
    ).map(([offset, expected]) => [around(offset), offset, expected] as const),
  )('gpu names nvme\'s IRTE around nvme\'s assignment to vm1, landing at %s', (_when, offset, expected) => {
    const result = run('linux', `    - { at: ${T}ns, assign: { device: nvme, to: vm1 } }\n    - { at: ${landing(offset)}ns, from: gpu, msi: { irte-of: nvme, vector: 0 } }`);
    expect(breaches(result)).toEqual(expected);
    const irq = result.tlps.find((e) => e.effects.some((f) => f.kind === 'interrupt'))!;
    const effect = irq.effects.find((f) => f.kind === 'interrupt')!;
    expect(effect.kind === 'interrupt' && effect.entryOwner).toBe(offset < 0 ? 'host' : 'vm1');
    expect(irq.time).toBe(T + offset);
  });
});

describe('a TLP acts for whoever programmed its device when it was issued', () => {
  it('Xen without quarantine: a write on the link at the hand-over lands in dom0 as vm1\'s (XSA-302); one landing before lands in vm1\'s domain', () => {
    const before = run('xen', `    - { at: ${T}ns, release: { device: nic } }\n    - { at: ${landing(-1)}ns, from: nic, write: 0x1000, data: 0x41 }`);
    expect(breaches(before)).toEqual([]);
    expect(before.tlps.find((e) => e.type === 'MemWr')!.effects[0]).toMatchObject({ kind: 'bytes', spans: [{ region: 'vm1-ram', owner: 'vm1' }] });
    const after = run('xen', `    - { at: ${T}ns, release: { device: nic } }\n    - { at: ${landing(+1)}ns, from: nic, write: 0x1000, data: 0x41 }`);
    expect(after.breaches).toMatchObject([{ kind: 'memory-write', attacker: 'vm1', victim: 'host', spans: [{ region: 'host-ram', base: 0x1000 }] }]);
    expect(after.tlps.find((e) => e.type === 'MemWr')!.principal).toBe('vm1');
  });

  it.each(
    (
      [
        ['xen', -1, 'issued'],
        ['xen', +1, 'issued'],
        ['linux', -1, 'issued'],
        ['linux', +1, 'device.reset'],
      ] as const
    ).map(([host, offset, expected]) => [host, around(offset), offset, expected] as const),
  )('%s: a write issued at %s around the release is issued for vm1, or refused at the device for vm1 once Linux has stopped it', (host, _when, offset, expected) => {
    const result = run(host, `    - { at: ${T}ns, release: { device: nic } }\n    - { at: ${T + offset}ns, from: nic, write: 0x1000, data: 0x41 }`);
    const write = result.tlps.find((e) => e.origin === 'nic')!;
    expect(write.tlp === null ? write.reason : 'issued').toBe(expected);
    expect(write.principal).toBe('vm1');
  });

  it('a reset ends the residual programming: a write issued 1 ns before pciback\'s reset lands as vm1\'s, 1 ns after it is refused for vm1', () => {
    const steps = (at: number) => `    - { at: 1us, release: { device: nic } }\n    - { at: ${T}ns, reset: { device: nic } }\n    - { at: ${at}ns, from: nic, write: 0x1000, data: 0x41 }`;
    expect(breaches(run('xen', steps(T - 1)))).toEqual(['memory-write:host']);
    const after = run('xen', steps(T + 1));
    expect(after.breaches).toEqual([]);
    expect(after.stopped).toMatchObject([{ reason: 'device.reset', at: 'nic', tlp: null }]);
    expect(after.tlps.find((e) => e.reason === 'device.reset')!.principal).toBe('vm1');
  });

  it('hot-unplug: a write issued 1 ns before the removal is already on the link, as vm1\'s; 1 ns after, the device is not on the fabric', () => {
    const steps = (at: number) => `    - { at: ${T}ns, hot-unplug: { device: nic } }\n    - { at: ${at}ns, from: nic, write: 0x1000, data: 0x41 }`;
    // Linux's removal clears the device's contexts at once, so the write that was on the link faults at the IOMMU.
    expect(run('linux', steps(T - 1)).tlps.find((e) => e.origin === 'nic')).toMatchObject({ reason: 'iommu.context-not-present', principal: 'vm1' });
    expect(run('linux', steps(T + 1)).stopped).toMatchObject([{ reason: 'link.down', at: 'nic' }]);
  });
});
