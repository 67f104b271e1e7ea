/**
 * Steps that wait on an event (`after:`, src/scenario/triggers.ts): an
 * attacker racing the host's unmap inside and after the flush-queue window
 * (Linux drivers/iommu/dma-iommu.c: queue_iova, fq_flush_timeout), reacting
 * to its read's completion (PCIe 6.0 §2.2.9) or to a fault, and the checks
 * on `after:` (a step that waits on itself never runs).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { ScenarioError } from '../../src/scenario/diagnostics.ts';

/** A NIC with two mapped pages (IOVA 0x100000 → 0x10000000); the host unmaps the first at 10 us. */
const scenario = (invalidation: string, steps: string) => `
schema: tlplab/v1
name: after-steps
title: steps that wait on events
summary: s
sources: [s]
machine:
  iommu: { model: vtd, invalidation: ${invalidation}, flush-timeout: 50us }
  memory: [{ name: host-ram, base: 0x0, size: 2G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: fw, bars: [64K] }
domains:
  dma:
    devices: [nic]
    map: [{ iova: 0x100000, to: 0x10000000, size: 8K, perm: rw }]
attack:
  attacker: fw
  steps:
${steps}
expect: [{ verdict: isolated }]
`;

function run(invalidation: string, steps: string) {
  const loaded = loadScenario('after.yaml', scenario(invalidation, steps));
  return runVariant(loaded, loaded.variants[0]!, 1);
}

const WARM_AND_UNMAP = `    - { at: 0ns, from: nic, write: 0x100000, data: 1 }
    - { at: 10us, unmap: { domain: dma, iova: 0x100000, size: 4K } }`;

describe('after: a step, an event, plus a delay — scheduled from the kernel when the event happens', () => {
  it('a write 1 ns after the unmap runs at 10 us + 1 ns and lands through the stale IOTLB entry when invalidation is deferred', () => {
    const { result, steps } = run('deferred', `${WARM_AND_UNMAP}\n    - { after: { step: 1, delay: 1ns }, from: nic, write: 0x100000, data: 2 }`);
    expect(steps[2]!.ranAt).toBe(10_001);
    expect(steps[2]!.waitedFor).toBe('after step 1 ran + 1ns');
    expect(result.breaches.map((b) => [b.kind, b.victim])).toEqual([['memory-write', 'host']]);
  });

  it('the same write under strict invalidation faults: unmap invalidated the entry (VT-d §6.5)', () => {
    const { result } = run('strict', `${WARM_AND_UNMAP}\n    - { after: { step: 1, delay: 1ns }, from: nic, write: 0x100000, data: 2 }`);
    expect(result.verdict).toBe('isolated');
    expect(result.stopped.map((s) => [s.reason, s.faultCode])).toEqual([['iommu.no-mapping', '0x05']]);
  });

  it('after the flush queue drains (event iotlb-flush after the unmap) the window is closed: the write faults', () => {
    const { result, steps } = run('deferred', `${WARM_AND_UNMAP}\n    - { after: { step: 1, event: iotlb-flush }, from: nic, write: 0x100000, data: 2 }`);
    // fq_flush_timeout fires flush-timeout after the first queued unmap.
    expect(steps[2]!.ranAt).toBe(10_000 + 50_000);
    expect(result.stopped.map((s) => s.reason)).toEqual(['iommu.no-mapping']);
  });

  it('under strict invalidation the unmap itself flushes, so iotlb-flush after it waits for the next one (none comes): not run', () => {
    const { result, steps } = run('strict', `${WARM_AND_UNMAP}\n    - { after: { step: 1, event: iotlb-flush }, from: nic, write: 0x100000, data: 2 }`);
    expect(steps[2]!.performed).toBe(false);
    expect(result.notRun).toEqual([{ step: 2, waitingFor: 'after the first iotlb-flush after step 1' }]);
  });

  it('an unmap listened for from the start fires at the host step', () => {
    const { steps } = run('deferred', `${WARM_AND_UNMAP}\n    - { after: { event: unmap, delay: 5ns }, from: nic, write: 0x100000, data: 2 }`);
    expect(steps[2]!.ranAt).toBe(10_005);
  });

  it('tlp-ended waits for the read\'s completion to reach the device, not for the request to reach memory', () => {
    const { steps, result } = run('strict', `    - { at: 0ns, from: nic, read: 0x100000 }\n    - { after: { step: 0, event: tlp-ended }, from: nic, write: 0x101000, data: 2 }`);
    const read = result.tlps.filter((t) => t.step === 0);
    expect(read.map((t) => t.type)).toEqual(['MemRd', 'CplD']);
    expect(steps[1]!.ranAt).toBe(read[1]!.time);
    expect(steps[1]!.ranAt).toBeGreaterThan(read[0]!.time);
  });

  it('fault reacts to the step\'s own fault, at the time it faulted', () => {
    const { steps, result } = run('strict', `    - { at: 0ns, from: nic, write: 0x900000 }\n    - { after: { step: 0, event: fault }, from: nic, write: 0x100000, data: 2 }`);
    expect(steps[1]!.ranAt).toBe(result.tlps.find((t) => t.step === 0)!.time);
    expect(result.tlps.find((t) => t.step === 1)!.outcome).toBe('delivered');
  });

  it('a step waiting on a fault that never happens does not run, and the run says so (no invariant error)', () => {
    const { result, steps } = run('strict', `    - { at: 0ns, from: nic, write: 0x100000 }\n    - { after: { step: 0, event: fault }, from: nic, write: 0x0 }`);
    expect(steps[1]!.performed).toBe(false);
    expect(result.notRun).toEqual([{ step: 1, waitingFor: "after step 0's fault" }]);
    expect(result.verdict).toBe('isolated');
  });

  it('chains: a step after a step that waited', () => {
    const { steps } = run('strict', `    - { at: 1us, from: nic, write: 0x100000 }\n    - { after: { step: 0, delay: 1us }, from: nic, write: 0x100000 }\n    - { after: { step: 1, delay: 1us }, from: nic, write: 0x100000 }`);
    expect(steps.map((s) => s.ranAt)).toEqual([1000, 2000, 3000]);
  });
});

describe('after: checks, with positions', () => {
  const messages = (steps: string) => {
    try {
      run('strict', steps);
    } catch (error) {
      if (error instanceof ScenarioError) return error.diagnostics.map((d) => `${d.line}: ${d.message}`);
      throw error;
    }
    return [];
  };

  it.each([
    ['both at and after', `    - { at: 0ns, after: { step: 0 }, from: nic, write: 0x0 }`, /not both/],
    ['neither', `    - { from: nic, write: 0x0 }`, /needs at: .* or after:/],
    ['a step that does not exist', `    - { after: { step: 3 }, from: nic, write: 0x0 }`, /after.step 3 is not a step: steps are numbered 0 to 0/],
    ['itself', `    - { after: { step: 0 }, from: nic, write: 0x0 }`, /cannot wait on itself/],
    ['tlp-ended without a step', `    - { after: { event: tlp-ended }, from: nic, write: 0x0 }`, /is about a step: name it with step: N/],
    ['an unknown event', `    - { after: { event: someday }, from: nic, write: 0x0 }`, /event/],
  ])('%s', (_name, steps, pattern) => {
    const found = messages(steps);
    expect(found.join('\n')).toMatch(pattern);
    expect(found[0]).toMatch(/^2[0-9]: /);
  });

  it('a cycle: each step waits on the other, neither would ever run', () => {
    const found = messages(`    - { after: { step: 1 }, from: nic, write: 0x0 }\n    - { after: { step: 0 }, from: nic, write: 0x0 }`);
    expect(found.join('\n')).toMatch(/step 0 waits on itself through 1: it would never run/);
  });
});
