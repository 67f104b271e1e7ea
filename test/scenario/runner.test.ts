/** How the runner turns landed TLPs into effects (DESIGN.md §3). */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

const scenario = (step: string) => `
schema: tlplab/v1
name: forged-read
title: A NIC reads a drive's DMA buffer under the drive's requester ID
summary: Test fixture.
sources: [tests]
machine:
  memory:
    - { name: host-ram, base: 0x0, size: 1G, owner: host }
    - { name: vm1-ram, base: 0x40000000, size: 1G, owner: vm1 }
  devices:
    - { id: rp0, type: root-port, acs: [RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K] }
    - { id: rp1, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nvme, type: endpoint, parent: rp1, bars: [16K] }
domains:
  vm1: { devices: [nic], map: [{ iova: 0x0, to: vm1-ram, size: 1M, perm: rw }] }
  host: { devices: [nvme], map: [{ iova: 0x0, to: host-ram, size: 1M, perm: rw }] }
attack:
  attacker: vm1
  steps:
    - ${step}
expect:
  - verdict: breached
`;

function run(step: string) {
  const loaded = loadScenario('forged-read.yaml', scenario(step));
  return runVariant(loaded, loaded.variants[0]!, 1).result;
}

describe('reads', () => {
  it('a read under a forged requester ID is answered to that ID: the attacker learns nothing (not a breach)', () => {
    const result = run('{ at: 0ns, from: nic, read: 0x1000, as: "02:00.0" }');
    expect(result.verdict).toBe('isolated');
    expect(result.stopped).toEqual([expect.objectContaining({ outcome: 'completed', reason: 'read.data-elsewhere' })]);
  });

  it('a write under the same forged ID lands in the drive’s buffer (a breach)', () => {
    expect(run('{ at: 0ns, from: nic, write: 0x1000, data: 1, as: "02:00.0" }').breaches.map((b) => b.kind)).toEqual(['memory-write']);
  });

  it('a read of its own buffer is no breach', () => {
    expect(run('{ at: 0ns, from: nic, read: 0x1000 }').verdict).toBe('isolated');
  });
});
