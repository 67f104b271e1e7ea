/**
 * Findings: one per (kind, victim, path) — the same way into the same place
 * with another address, or with a forged ID that no one checks, is the same
 * finding; minimal reproducers drop every step the breach does without
 * (after.step renumbered) and replay from their YAML; exploring in shards
 * gives the same findings as one thread.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose, hitsOf, runSteps } from '../../src/hunt/execute.ts';
import { exploreConfiguration, finishConfiguration, huntConfiguration, HuntLedger, keyOfFinding, mergeExplorations } from '../../src/hunt/hunt.ts';
import { scenarioConfigurations } from '../../src/hunt/input.ts';
import { DEFAULT_HUNT } from '../../src/hunt/model.ts';
import { dropSteps, minimize, reproFile, tryEntries } from '../../src/hunt/repro.ts';

function configOf(file: string, variant: Record<string, unknown> = {}) {
  const path = join(import.meta.dirname, '../../scenarios', file);
  return scenarioConfigurations(path, readFileSync(path, 'utf8'), (l) => [l.variants.find((v) => Object.entries(variant).every(([k, value]) => JSON.stringify(v.assignment[k]) === JSON.stringify(value)))!]).configurations[0]!;
}

const P2P = configOf('p2p-behind-switch.yaml', { 'machine.devices.sw-dp0.acs': 'none', 'machine.kernel.groups': 'classic', 'machine.kernel.acs-override': [], 'attack.via': 'device' });

describe('paths and distinct findings', () => {
  const writeAt = (offset: number, as?: string) => ({ at: '0ns', from: 'gpu', write: { bar: 'nvme.0', offset }, data: 1, ...(as ? { as } : {}) });

  it('writes at two offsets of the drive\'s BAR, with and without a forged ID, are one path: P2P at sw-dp0 checks no ID', () => {
    const run = runSteps(P2P.spec, [writeAt(0), writeAt(0x100), writeAt(0x14, '04:00.0')], 1);
    const hits = hitsOf(run, [0, 1, 2]);
    expect(new Set(hits.map((h) => h.key)).size).toBe(1);
    expect(hits[0]!.route).toEqual(['gpu', 'sw-dp0', 'sw-dp1', 'nvme']);
    expect(hits[0]!.mechanism).toEqual([]);
    expect(hits[0]!.landing).toBe('nvme.bar0');
  });

  it('a forged ID that selects another context is part of the path: it decided where the write went', () => {
    const run = runSteps(P2P.spec, [{ at: '0ns', from: 'gpu', write: 0x1000, data: 1, as: '04:00.0' }], 1);
    expect(hitsOf(run, [0])[0]!.mechanism).toEqual(['identity in domain host', 'forged requester ID']);
  });

  it('the hunt reports each distinct breach once, counting every probe that hit it', () => {
    const target = huntConfiguration(P2P, { ...DEFAULT_HUNT, budget: 60 });
    const keys = target.findings.map(keyOfFinding);
    expect(new Set(keys).size).toBe(keys.length);
    const p2p = target.findings.find((f) => f.kind === 'bar-write' && f.mechanism.length === 0)!;
    expect(p2p.hits).toBeGreaterThan(1);
    expect(p2p.techniques).toContain('foreign-bar');
    expect(target.findings.map((f) => f.id)).toEqual(target.findings.map((_f, i) => `F${i + 1}`));
  });
});

describe('minimal reproducers', () => {
  it('dropSteps renumbers after.step, and refuses to drop a step another waits on', () => {
    const steps = [{ at: '0ns', wait: '1ns' }, { at: '10us', unmap: {} }, { after: { step: 1, delay: '1ns' }, from: 'nic', write: 0 }];
    expect(dropSteps(steps, 0, 1)).toEqual([steps[1], { ...steps[2], after: { step: 0, delay: '1ns' } }]);
    expect(dropSteps(steps, 1, 1)).toBeNull();
  });

  it('minimize keeps only what the breach needs: the warm-up write, the unmap and the late write of the deferred window', () => {
    const config = configOf('deferred-invalidation-window.yaml', { 'machine.iommu.invalidation': 'deferred', 'attack.steps.2.at': '20us', 'attack.steps.0.write': '0x100000' });
    const noise = [{ at: '1us', from: 'nic', write: 0x101000, data: 7 }, { at: '2us', from: 'nic', read: 0x100000 }];
    const own = (config.document.attack as { steps: Record<string, unknown>[] }).steps;
    const entries = [own[0]!, ...noise, ...own.slice(1)];
    const key = hitsOf(runSteps(config.spec, entries, 1), [])[0]!.key;
    const start = tryEntries(config.spec, entries, key, 1, () => undefined)!;
    const small = minimize(config.spec, start, 1, () => undefined);
    expect(small.entries.map((e) => Object.keys(e).find((k) => ['write', 'read', 'unmap'].includes(k)))).toEqual(['write', 'unmap', 'write']);
    expect(small.hit.mechanism).toEqual(['stale IOTLB entry in domain dma']);
  });

  it('a probe composed after the timeline waits on the unmap by its new index', () => {
    const config = configOf('deferred-invalidation-window.yaml', { 'machine.iommu.invalidation': 'deferred' });
    const timeline = [{ index: 1, entry: { at: '10us', unmap: { domain: 'dma', iova: 0x100000, size: '4K' } }, spec: config.spec.steps[1]! }];
    const composed = compose(timeline, [{ technique: 'race-unmap', from: 'nic', label: 'x', at: 9000, alone: true, steps: [{ entry: { from: 'nic', write: 0x100000, data: 1 } }, { entry: { from: 'nic', write: 0x100000, data: 2 }, after: { ref: { timeline: 0 }, delay: 1 } }] }], [5]);
    // In time order (a file lists its steps so): the warm-up write at 9 us, the unmap at 10 us, then the step that waits on it.
    expect(composed.entries).toEqual([{ at: '9000ns', from: 'nic', write: 0x100000, data: 1 }, timeline[0]!.entry, { after: { step: 1, delay: '1ns' }, from: 'nic', write: 0x100000, data: 2 }]);
    expect(composed.owners).toEqual([5, null, 5]);
  });

  it('every reproducer replays from its YAML, and states exactly the breaches and stops it shows', () => {
    const target = huntConfiguration(P2P, { ...DEFAULT_HUNT, budget: 0 });
    for (const f of target.findings) {
      const { yaml, replayed } = reproFile(f.repro, keyOfFinding(f), 1);
      expect(replayed, yaml).toBe(true);
      expect(yaml).toContain(`name: ${f.repro.name}`);
      expect(yaml).toContain(`kind: ${f.kind}, victim: ${f.victim}`);
    }
  });
});

describe('shards', () => {
  it('explored in three shards and merged, a configuration gives the findings one thread gives', () => {
    const config = configOf('spoofed-msi.yaml', { 'machine.iommu.interrupt-remapping': 'off', 'machine.iommu.source-id-validation': 'off' });
    const options = { ...DEFAULT_HUNT, budget: 40, batch: 16 };
    const whole = huntConfiguration(config, options);
    const parts = [0, 1, 2].map((index) => exploreConfiguration(config, options, { index, count: 3 }));
    const merged = finishConfiguration(config, mergeExplorations(parts), options, new HuntLedger(undefined));
    expect(JSON.stringify(merged)).toBe(JSON.stringify(whole));
  });
});
