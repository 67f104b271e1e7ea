/**
 * `--seed` means something (issue "verdicts you can stake a CI gate on",
 * part 6): where PCIe or VT-d leave an order open — arbitration between
 * links (PCIe 6.0 §6.3.3), IOTLB replacement (VT-d 5.10 §6.2.4), link
 * jitter — a seeded choice decides, and a run whose verdict depends on the
 * seed is a race. Where nothing is left open, no seed changes anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, loadScenarioFile } from '../../src/scenario/load.ts';
import { findRaces } from '../../src/scenario/races.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { BUILT_IN_LIBRARY, discoverScenarios, runSuite } from '../../src/scenario/suite.ts';

const file = join(import.meta.dirname, '../fixtures/scenarios/iotlb-eviction-race.yaml');
const SEEDS = Array.from({ length: 16 }, (_, i) => i + 1);

function verdicts(text: string, assignment: Record<string, unknown>) {
  const loaded = loadScenario(file, text);
  const variant = loaded.variants.find((v) => Object.entries(assignment).every(([k, value]) => v.assignment[k] === value))!;
  return SEEDS.map((seed) => runVariant(loaded, variant, seed).result);
}

describe('seeded choices where the hardware leaves the order open', () => {
  const text = readFileSync(file, 'utf8');

  it('seeded arbitration at the root complex: the stale-IOTLB write wins under some seeds and faults under others', () => {
    const runs = verdicts(text, { 'machine.fabric.arbitration': 'seeded' });
    expect(new Set(runs.map((r) => r.verdict))).toEqual(new Set(['breached', 'isolated']));
    const won = runs.find((r) => r.verdict === 'breached')!;
    expect(won.breaches.map((b) => [b.kind, b.victim, b.bytes])).toEqual([['memory-write', 'host', 4]]);
    expect(won.breaches[0]!.detail).toMatch(/stale IOTLB entry/);
    const lost = runs.find((r) => r.verdict === 'isolated')!;
    expect(lost.stopped.map((s) => [s.reason, s.faultCode])).toEqual([['iommu.no-mapping', '0x05']]);
  });

  it('FIFO arbitration (the default): every seed gives the same result', () => {
    const runs = verdicts(text, { 'machine.fabric.arbitration': 'fifo' });
    expect(new Set(runs.map((r) => JSON.stringify([r.verdict, r.breaches, r.stopped]))).size).toBe(1);
    expect(runs[0]!.verdict).toBe('isolated');
  });

  it('random IOTLB replacement: with two entries and two host fills, whether the stale entry survives depends on the seed', () => {
    const racy = text
      .replace('iotlb-entries: 1', 'iotlb-entries: 2, iotlb-replacement: random')
      .replace('{ at: 2us, from: nvme, write: 0x1000, data: 2, note: "host traffic: its translation needs the only IOTLB entry" }', '{ at: 2us, from: nvme, write: 0x1000, data: 2 }\n    - { at: 2us, from: nvme, write: 0x2000, data: 2 }')
      .replace('{ at: 2us, from: nic, write: 0x100000, data: 3,', '{ at: 3us, from: nic, write: 0x100000, data: 3,');
    const runs = verdicts(racy, { 'machine.fabric.arbitration': 'fifo' });
    expect(new Set(runs.map((r) => r.verdict))).toEqual(new Set(['breached', 'isolated']));
  });

  it('link jitter changes arrival times with the seed but never reorders TLPs on one link (PCIe 6.0 §2.4.1)', () => {
    const burst = Array.from({ length: 6 }, (_, i) => `    - { at: 2us, from: nic, write: 0x${(0x1000 * (i + 1)).toString(16)}, data: ${i} }`).join('\n');
    const jittery = text.replace('fabric: { arbitration: seeded }', 'fabric: { jitter: 50ns }').replace(/attack:\n {2}attacker: vm1\n {2}steps:\n[\s\S]*?\n\nvariants:/, `attack:\n  attacker: vm1\n  steps:\n${burst}\n\nvariants:`);
    const loaded = loadScenario(file, jittery);
    const endTimes = new Set<number>();
    for (const seed of SEEDS) {
      const run = runVariant(loaded, loaded.variants[1]!, seed);
      const ids = run.endings.filter((e) => e.origin === 'nic').map((e) => e.tlp!);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      endTimes.add(run.result.endTime);
    }
    expect(endTimes.size).toBeGreaterThan(1);
  });
});

describe('findRaces', () => {
  it('reports the seeded variant of the race scenario, not the FIFO one', async () => {
    const bySeed = new Map<number, Awaited<ReturnType<typeof runSuite>>['runs']>();
    for (const seed of SEEDS.slice(0, 8)) bySeed.set(seed, (await runSuite([file], { seed })).runs);
    const races = findRaces(bySeed);
    expect(races.map((r) => r.variant)).toEqual([{ 'machine.fabric.arbitration': 'seeded' }]);
    expect(new Set(races[0]!.outcomes.map((o) => o.verdict))).toEqual(new Set(['breached', 'isolated']));
  });

  it('the attack library has no seed-dependent run (nothing in it is left to arbitration)', async () => {
    const files = discoverScenarios([BUILT_IN_LIBRARY]);
    const bySeed = new Map<number, Awaited<ReturnType<typeof runSuite>>['runs']>();
    for (const seed of [1, 2]) bySeed.set(seed, (await runSuite(files, { seed })).runs);
    expect(findRaces(bySeed)).toEqual([]);
    expect(loadScenarioFile(files[0]!).variants.length).toBeGreaterThan(0);
  }, 60_000);
});
