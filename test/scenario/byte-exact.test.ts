/**
 * Byte-exact judgement end to end (DESIGN.md §3; issue "verdicts you can
 * stake a CI gate on"): the fabric's ending record cuts an access at every
 * region, BAR, sub-region and grant boundary, and the verdict counts the
 * foreign bytes. Each case names the rule it checks.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

function run(steps: string, extra = '') {
  const text = `schema: tlplab/v1
name: byte-exact
title: byte-exact judgement
summary: test
sources: [tests]
machine:
  cpus: 4
  iommu: { model: vtd, interrupt-remapping: off }
  memory:
    - { name: host-ram, base: 0x0, size: 1G, owner: host }
    - { name: vm1-ram, base: 0x40000000, size: 1G, owner: vm1 }
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: sw-up, type: switch-upstream, parent: rp0 }
    - { id: sw-dp0, type: switch-downstream, parent: sw-up, acs: [] }
    - { id: sw-dp1, type: switch-downstream, parent: sw-up, acs: [] }
    - { id: nic, type: endpoint, parent: sw-dp0, owner: vm1, msi: 1,
        bars: [{ size: 64K, at: 0xd0000000, regions: [{ name: nic-migration, offset: 0x8000, size: 0x8000, owner: host }] }] }
    - { id: small, type: endpoint, parent: sw-dp1, owner: host, bars: [{ size: 256, at: 0xd0100000 }, { size: 256, at: 0xd0100100 }] }
domains:
  vm1:
    devices: [nic]
    map:
      - { iova: 0x0, to: vm1-ram, size: 1M, perm: rw }
      # Two byte-exact buffers adjacent in one host page, each mapped by its own dma_map call (own IOVA page).
      - { iova: 0x200100, to: 0x100100, size: 0x80, perm: rw }
      - { iova: 0x300180, to: 0x100180, size: 0x80, perm: rw }
${extra}
attack:
  attacker: vm1
  steps:
${steps}
expect:
  - verdict: breached
`;
  const loaded = loadScenario('byte-exact.yaml', text);
  return runVariant(loaded, loaded.variants[0]!, 1).result;
}

const breaches = (result: ReturnType<typeof run>) => result.breaches.map((b) => ({ kind: b.kind, victim: b.victim, bytes: b.bytes, spans: b.spans.map((s) => [s.base, s.length, s.region, s.sub]) }));

describe('byte boundaries', () => {
  it('a write straddling two grants both held is not a breach (grants are byte ranges: DESIGN.md §3)', () => {
    const result = run('    - { at: 0ns, from: nic, write: 0x200170, data: 1, size: 32 }');
    expect(result.tlps[0]).toMatchObject({ outcome: 'delivered', reason: 'memory.write' });
    expect(result.breaches).toEqual([]);
  });

  it('a write running out of the second grant: only the bytes past it are foreign (sub-page exposure)', () => {
    const result = run('    - { at: 0ns, from: nic, write: 0x3001f0, data: 1, size: 32 }');
    expect(breaches(result)).toEqual([{ kind: 'memory-write', victim: 'host', bytes: 16, spans: [[0x100200, 16, 'host-ram', null]] }]);
  });

  it('a write at a BAR sub-region boundary of its own BAR: the 4 bytes in the host-owned registers (vfio variant drivers keep them)', () => {
    const result = run('    - { at: 0ns, from: nic, write: { bar: nic.0, offset: 0x7ffc }, data: 1, size: 8 }');
    expect(result.tlps[0]!.effects).toEqual([
      {
        kind: 'bytes',
        op: 'write',
        spans: [
          { base: 0xd0007ffc, length: 4, kind: 'bar', region: 'nic.bar0', sub: null, owner: 'vm1' },
          { base: 0xd0008000, length: 4, kind: 'bar', region: 'nic.bar0', sub: 'nic-migration', owner: 'host' },
        ],
      },
    ]);
    expect(breaches(result)).toEqual([{ kind: 'bar-write', victim: 'host', bytes: 4, spans: [[0xd0008000, 4, 'nic.bar0', 'nic-migration']] }]);
  });

  it('a write running past a BAR\'s end stays with the BAR that claimed its start (PCIe 6.0 §2.2.4.1: routed by address), never the next BAR', () => {
    const result = run('    - { at: 0ns, from: nic, write: { bar: small.0, offset: 0xfc }, data: 1, size: 8 }');
    const [effect] = result.tlps[0]!.effects;
    expect(effect).toEqual({
      kind: 'bytes',
      op: 'write',
      spans: [
        { base: 0xd01000fc, length: 4, kind: 'bar', region: 'small.bar0', sub: null, owner: 'host' },
        { base: 0xd0100100, length: 4, kind: 'bar', region: 'small.bar0', sub: 'past-end', owner: 'host' },
      ],
    });
    expect(breaches(result)).toEqual([{ kind: 'bar-write', victim: 'host', bytes: 8, spans: [[0xd01000fc, 4, 'small.bar0', null], [0xd0100100, 4, 'small.bar0', 'past-end']] }]);
  });

  it('a DMA write crossing a 4 KiB boundary never reaches memory (PCIe 6.0 §2.2.7: malformed; the IOMMU blocks it)', () => {
    const result = run('    - { at: 0ns, from: nic, write: 0xffc, data: 1, size: 8 }');
    expect(result.tlps[0]).toMatchObject({ outcome: 'blocked', reason: 'iommu.crosses-page', effects: [] });
    expect(result.stopped.map((s) => s.reason)).toEqual(['iommu.crosses-page']);
  });
});

describe('interrupts delivered to several CPUs are judged on each (Intel SDM Vol. 3A §11.6.2, §11.11)', () => {
  it('a broadcast (physical destination 0xFF) of the NIC\'s own vector: a breach on every CPU where that vector is not vm1\'s', () => {
    // The NIC's one MSI vector is 0x21 on CPU 0 (Linux's matrix allocator, first device vector); on CPUs 1–3 nobody holds 0x21.
    const result = run('    - { at: 0ns, from: nic, write: 0xfeeff000, data: 0x21 }');
    const [effect] = result.tlps[0]!.effects;
    expect(effect).toMatchObject({ kind: 'interrupt', receivers: [0, 1, 2, 3].map((cpu) => ({ cpu, vector: 0x21 })) });
    expect(result.breaches.map((b) => [b.kind, b.victim, b.cpus])).toEqual([['interrupt-injection', 'host', [1, 2, 3]]]);
  });

  it('the same vector to CPU 0 alone is the NIC\'s own interrupt: no breach', () => {
    const result = run('    - { at: 0ns, from: nic, write: 0xfee00000, data: 0x21 }');
    expect(result.tlps[0]).toMatchObject({ outcome: 'delivered', reason: 'interrupt.delivered' });
    expect(result.breaches).toEqual([]);
  });

  it('logical destination mode, flat model: destination 0x06 selects CPUs 1 and 2 (Linux apic_flat: CPU n has bit n)', () => {
    // Address bit 2 = DM (logical); destination ID in bits 19:12.
    const result = run('    - { at: 0ns, from: nic, write: 0xfee06004, data: 0x21 }');
    expect(result.breaches.map((b) => [b.kind, b.cpus])).toEqual([['interrupt-injection', [1, 2]]]);
  });

  it('lowest-priority delivery (data bits 10:8 = 001) to the same set: one CPU takes it, and it is judged there (SDM §11.6.2.4)', () => {
    const result = run('    - { at: 0ns, from: nic, write: 0xfee06004, data: 0x0121 }');
    expect(result.tlps[0]!.effects).toMatchObject([{ kind: 'interrupt', receivers: [{ cpu: 1, vector: 0x21 }] }]);
    expect(result.breaches.map((b) => [b.kind, b.cpus])).toEqual([['interrupt-injection', [1]]]);
  });
});
