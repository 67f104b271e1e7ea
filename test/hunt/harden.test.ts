/**
 * `harden` (src/hunt/harden): on every breached configuration of the attack
 * library it proposes a set of changes under which a fresh hunt (another
 * seed, the scenario's own steps included) finds nothing, and its hardened
 * scenario replays isolated from its YAML. Then the sets it picks where the
 * library's own variants say what closes the breach, and the catalogue's
 * rules for ACS (PCIe 6.0 §7.7.8: unimplemented controls are hard-wired 0,
 * so enabling one is new hardware) and for merging reproducer steps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { changesFor } from '../../src/hunt/harden/changes.ts';
import { configurationWith, DEFAULT_HARDEN, hardenConfiguration, type HardenOptions } from '../../src/hunt/harden/search.ts';
import { hardenedScenario, mergeSteps } from '../../src/hunt/harden/write.ts';
import { huntConfiguration } from '../../src/hunt/hunt.ts';
import { scenarioConfigurations } from '../../src/hunt/input.ts';
import { DEFAULT_HUNT } from '../../src/hunt/model.ts';
import { loadScenario, type LoadedScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';
import { describeVariant } from '../../src/report/variant-text.ts';

const LIBRARY = join(import.meta.dirname, '../../scenarios');
const OPTIONS: HardenOptions = { hunt: { ...DEFAULT_HUNT, budget: 0 }, ...DEFAULT_HARDEN };
const breached = (l: LoadedScenario) => l.variants.filter((v) => v.expected === 'breached');

const configurations = discoverScenarios([LIBRARY]).flatMap((file) => scenarioConfigurations(file, readFileSync(file, 'utf8'), breached).configurations);

describe('harden on every breached configuration of the library', () => {
  it.each(configurations.map((c) => [`${c.scenario} ${describeVariant(c.variant)}`, c] as const))('%s', (_name, config) => {
    const target = hardenConfiguration(config, OPTIONS);
    expect(target.status).toBe('hardened');
    const best = target.solutions[0]!;
    const hardened = configurationWith(config, best.changes)!;
    // Hunted again as harden hunts (the claim is: this hunt finds nothing), the scenario's own steps included.
    const again = huntConfiguration(hardened, OPTIONS.hunt);
    expect(again.findings.map((f) => `${f.kind} of ${f.victim}: ${f.path}`), best.changes.map((c) => c.label).join(' + ')).toEqual([]);
    const written = hardenedScenario(config, target, best, 1)!;
    expect(written.replayed).toBe(true);
    const run = runVariant(loadScenario('hardened.yaml', written.yaml), loadScenario('hardened.yaml', written.yaml).variants[0]!, 1).result;
    expect(run.verdict).toBe('isolated');
    // Every breach hunt found first is replayed against the hardened machine.
    expect((parse(written.yaml) as { attack: { steps: unknown[] } }).attack.steps.length).toBeGreaterThanOrEqual(target.hunt.findings.length > 0 ? 1 : 0);
  });
});

function only(file: string, variant: Record<string, string>) {
  const path = join(LIBRARY, file);
  return scenarioConfigurations(path, readFileSync(path, 'utf8'), (l) => l.variants.filter((v) => Object.entries(variant).every(([k, value]) => JSON.stringify(v.assignment[k]) === JSON.stringify(value)))).configurations[0]!;
}

describe('the smallest sets, where the library says what closes the breach', () => {
  it.each([
    // spoofed-msi, remapping and source-ID checks on: the NIC's switch port has no ACS at all.
    ['spoofed-msi.yaml', { 'machine.iommu.interrupt-remapping': 'on', 'machine.iommu.source-id-validation': 'on' }, ['RR on sw-dp0', 'SV on sw-dp0']],
    ['deferred-invalidation-window.yaml', { 'machine.iommu.invalidation': 'deferred', 'attack.steps.2.at': '20us', 'attack.steps.0.write': '0x100000' }, ['strict invalidation (iommu.strict=1)']],
    ['sub-page-exposure.yaml', { 'attack.steps.0.write': '0x100c28' }, ["bounce dma's sub-page buffers through swiotlb"]],
    ['irte-index-abuse.yaml', { 'attack.steps.0.msi.irte': 4, 'machine.iommu.source-id-validation': 'off' }, ['source-ID validation on (drop intremap=nosid)']],
    ['white-rabbit-msi-injection.yaml', { 'machine.iommu.interrupt-remapping': 'off', 'machine.iommu.compat-format': 'allowed', 'machine.iommu.x2apic': 'off' }, ['block compatibility-format MSIs (CFI clear)', 'interrupt remapping on']],
    // The card shares a conventional bus (one requester-ID alias) with the SATA card: another slot.
    ['pcie-pci-bridge-alias.yaml', { 'machine.devices.card.parent': 'bridge', 'machine.iommu.source-id-validation': 'on' }, ['move card below bridge2']],
    // RR at the switch port sends the P2P write up, but rp0 without UF reflects it back down: both are needed.
    ['dma-ownership.yaml', { 'machine.kernel.vfio-viability': 'bypassed', 'machine.devices.nic.driver': 'none' }, ['RR on sw-dp0', 'translate domain host (no identity mapping)', 'UF on rp0']],
  ] as const)('%s %j: %j', (file, variant, labels) => {
    const target = hardenConfiguration(only(file, variant as Record<string, string>), OPTIONS);
    expect(target.solutions[0]!.changes.map((c) => c.label).sort()).toEqual([...labels].sort());
    expect(target.solutions[0]!.search).toBe('exhaustive');
  });

  it('ats-translated-abuse: the cheapest one-change sets come first (settings before kernel options), named changes before the scenario\'s own axis values', () => {
    const target = hardenConfiguration(only('ats-translated-abuse.yaml', { 'domains.dma.device-tlb': 'allowed', 'machine.devices.tb-dp.acs': ['SV', 'RR', 'CR', 'UF'] } as never), OPTIONS);
    const sets = target.solutions.map((s) => s.changes.map((c) => `${c.label} [${c.costClass}]`));
    expect(sets.slice(0, 2)).toEqual([['TB on tb-dp [config]'], ['TB on tb-rp [config]']]);
    // The scenario's own axis value for the same port (TB added) is found too, ranked after.
    expect(sets[2]).toEqual(['machine.devices.tb-dp.acs=["SV","TB","RR","CR","UF"] [config]']);
  });

  it('an isolated configuration needs nothing', () => {
    const target = hardenConfiguration(only('spoofed-msi.yaml', {}), OPTIONS);
    expect(target.hunt.findings.length).toBeGreaterThan(0);
    const isolated = configurationWith(only('spoofed-msi.yaml', {}), target.solutions[0]!.changes)!;
    expect(hardenConfiguration(isolated, OPTIONS).status).toBe('already-isolated');
  });
});

describe('the ACS controls a change enables (PCIe 6.0 §6.12, §7.7.8)', () => {
  const acsChanges = (file: string) => changesFor(only(file, {}).spec).filter((c) => c.id.startsWith('acs:'));
  it.each([
    // sw-dp0: acs [] — the capability with every control implemented, none enabled: a setting.
    ['spoofed-msi.yaml', 'acs:sw-dp0:RR', 'config'],
    // sw-dp0: acs none — no ACS capability: enabling RR needs a port that implements it.
    ['p2p-behind-switch.yaml', 'acs:sw-dp0:RR', 'hardware'],
    // rp0 of dma-ownership: no capability either.
    ['dma-ownership.yaml', 'acs:rp0:UF', 'hardware'],
  ])('%s %s is a %s change', (file, id, costClass) => {
    expect(acsChanges(file).find((c) => c.id === id)?.costClass).toBe(costClass);
  });

  it('offers nothing already enabled, and only on ports above the attacker', () => {
    const ids = acsChanges('requester-id-spoofing.yaml').map((c) => c.id);
    // sw-dp0 has SV, RR, CR, UF: only TB is left; sw-dp1 (the drive's port) is not on the NIC's way up.
    expect(ids).toContain('acs:sw-dp0:TB');
    expect(ids).not.toContain('acs:sw-dp0:RR');
    expect(ids.some((id) => id.startsWith('acs:sw-dp1'))).toBe(false);
  });

  it('a {cap, ctl} port gets the control in ctl when cap implements it, and in both when not', () => {
    const config = only('spoofed-msi.yaml', {});
    const spec = { ...config.spec, machine: { ...config.spec.machine, functions: config.spec.machine.functions.map((f) => (f.id === 'nvme' ? { ...f, owner: 'vm1' } : f)) } };
    const sv = changesFor(spec).find((c) => c.id === 'acs:sw-dp1:RR')!;
    const tb = changesFor(spec).find((c) => c.id === 'acs:sw-dp1:TB')!;
    const device = (doc: Record<string, unknown>) => ((doc.machine as { devices: { id: string; acs?: unknown }[] }).devices.find((d) => d.id === 'sw-dp1')!.acs);
    expect(sv.costClass).toBe('config');
    expect(device(sv.apply(config.document))).toEqual({ cap: ['SV', 'RR', 'CR', 'UF', 'EC'], ctl: ['SV', 'RR'] });
    expect(tb.costClass).toBe('hardware');
    expect(device(tb.apply(config.document))).toEqual({ cap: ['SV', 'RR', 'CR', 'UF', 'EC', 'TB'], ctl: ['SV', 'TB'] });
  });
});

describe('mergeSteps: the scenario\'s steps, then each reproducer\'s device steps', () => {
  it('matches the reproducer\'s host steps to the scenario\'s, renumbers after.step, drops repeats', () => {
    const own = [
      { at: '0ns', from: 'nic', write: 1 },
      { at: '10us', unmap: { domain: 'dma', iova: 0x100000, size: '4K' } },
    ];
    const repro = [
      { at: '10us', unmap: { domain: 'dma', iova: 0x100000, size: '4K' } },
      { at: '9000ns', from: 'nic', write: 0x100000, data: 1 },
      { after: { step: 0, delay: '1ns' }, from: 'nic', write: 0x100000, data: 2 },
    ];
    // In time order: the warm-up write at 9 us goes before the unmap at 10 us, and the late write waits on the unmap by its new index.
    expect(mergeSteps(own, [repro, repro])).toEqual([own[0], repro[1], own[1], { ...repro[2], after: { step: 2, delay: '1ns' } }]);
  });
});
