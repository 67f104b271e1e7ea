/**
 * The run story adapter (src/scenario/run-story.ts): every TLP's hops are
 * its trace records, in order, placed on the machine picture; every
 * breach's evidence names hops of the TLPs it cites.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { storyOfVariant, type RunStory } from '../../src/scenario/run-story.ts';
import { discoverScenarios, selectVariants } from '../../src/scenario/suite.ts';

const scenarios = join(import.meta.dirname, '../../scenarios');

function story(file: string, filter: Record<string, string>): RunStory {
  const loaded = loadScenarioFile(join(scenarios, file));
  const variants = selectVariants(loaded, filter);
  expect(variants).toHaveLength(1);
  return storyOfVariant(loaded, variants[0]!, 1);
}

const places = (s: RunStory, tlp: number) => s.tlps.find((t) => t.tlp === tlp)!.hops.map((h) => h.place).filter((p) => p !== null);

describe('run story', () => {
  it('p2p without ACS at the ingress port: the write goes gpu → sw-dp0 → sw-dp1 → nvme and lands in the BAR (PCIe 6.0 §6.12)', () => {
    const s = story('p2p-behind-switch.yaml', { 'machine.devices.sw-dp0.acs': 'none', 'machine.kernel.groups': 'classic', 'machine.kernel.acs-override': '[]', 'attack.via': 'device' });
    expect(places(s, 1)).toEqual(['gpu', 'sw-dp0', 'sw-dp1', 'nvme']);
    const tlp = s.tlps[0]!;
    expect(tlp.hops.find((h) => h.decision === 'p2p-direct')).toMatchObject({ node: 'sw-dp0', detail: '→ sw-dp1', rule: expect.stringContaining('no ACS capability') });
    expect(tlp.ending).toMatchObject({ outcome: 'delivered', reason: 'bar.write', source: 'PCIe 6.0 §7.5.1.2 (BARs)', decidedAt: 'nvme', target: 'nvme.bar0' });
    expect(tlp.effects).toEqual([{ kind: 'bytes', op: 'write', spans: [{ base: expect.any(Number), length: 4, kind: 'bar', region: 'nvme.bar0', sub: null, owner: 'host' }] }]);
    expect(s.breaches).toHaveLength(1);
    expect(s.breaches[0]).toMatchObject({ kind: 'bar-write', attacker: 'vm1', victim: 'host', tlps: [1] });
    expect(s.because).toContain('no RR at the GPU');
  });

  it('with RR at the ingress port the write climbs to the host bridge and the IOMMU faults it', () => {
    const s = story('p2p-behind-switch.yaml', { 'machine.devices.sw-dp0.acs': '[SV, RR, CR, UF]', 'machine.kernel.groups': 'classic', 'machine.kernel.acs-override': '[]', 'attack.via': 'device' });
    expect(places(s, 1)).toEqual(['gpu', 'sw-dp0', 'sw-up', 'rp0', 'host-bridge']);
    expect(s.tlps[0]!.ending?.outcome).toBe('faulted');
    expect(s.breaches).toEqual([]);
  });

  it('a forged MSI: the compat write stops at interrupt remapping (fault 0x25, VT-d §5.1.4), the remappable one reaches the CPUs', () => {
    const s = story('spoofed-msi.yaml', { 'machine.iommu.interrupt-remapping': 'on', 'machine.iommu.source-id-validation': 'off' });
    expect(places(s, 1).slice(-2)).toEqual(['host-bridge', 'interrupts']);
    expect(s.tlps[0]!.ending).toMatchObject({ outcome: 'faulted', faultCode: '0x25' });
    expect(places(s, 2).slice(-3)).toEqual(['host-bridge', 'interrupts', 'cpus']);
    expect(s.tlps[1]!.effects).toEqual([{ kind: 'interrupt', controller: 'lapic', path: 'remapped', entry: 4, entryOwner: 'host', stale: false, vector: 0x22, destination: 0, receivers: [{ cpu: 0, vector: 0x22, vectorOwner: 'host' }] }]);
    expect(s.breaches.map((b) => b.kind)).toEqual(['foreign-irte']);
  });

  it('a run VFIO refuses lists its steps as not run', () => {
    const s = story('arm-msi-doorbell.yaml', { 'machine.msi-controller': 'gicv2m', 'machine.msi-doorbell.before-iommu': 'off', 'machine.kernel.unsafe-interrupts': 'off' });
    expect(s.tlps).toEqual([]);
    expect(s.steps.length).toBeGreaterThan(0);
    expect(s.steps.every((step) => step.refused === 'not run: isolated-msi refused the assignment')).toBe(true);
  });

  it('across the library, every trace record of a TLP is one hop, and every breach cites only hops of its TLPs', () => {
    for (const file of discoverScenarios([scenarios])) {
      const loaded = loadScenarioFile(file);
      for (const variant of loaded.variants) {
        const s = storyOfVariant(loaded, variant, 1);
        const ids = s.tlps.flatMap((t) => t.hops.map((h) => h.id));
        expect(new Set(ids).size, file).toBe(ids.length);
        for (const b of s.breaches) {
          expect(b.tlps.length, `${file}: ${b.kind}`).toBeGreaterThan(0);
          const cited = new Set(s.tlps.filter((t) => b.tlps.includes(t.tlp)).flatMap((t) => t.hops.map((h) => h.id)));
          expect(b.evidence.filter((id) => !cited.has(id)), `${file}: ${b.kind}`).toEqual([]);
        }
        for (const t of s.tlps) expect(t.ending, `${file}: TLP ${t.tlp} ended`).not.toBeNull();
      }
    }
  });
});
