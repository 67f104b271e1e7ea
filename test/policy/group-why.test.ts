/**
 * groups --why: the facts that merged every group of more than one device,
 * on the corpus machines (whose real kernel groups classic reproduces), and
 * --kernel / --diff-kernel against the two real listings of the X99 machine
 * (5.8 and the 5.9 regression).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLspci } from '../../src/import/lspci/parse.ts';
import { topologyFromLspci } from '../../src/import/lspci/to-topology.ts';
import { listingPartition, parseGroupListing } from '../../src/import/groups/listing.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { appliedQuirks, explainClassicGroups } from '../../src/policy/group-why.ts';
import { diffKernels } from '../../src/policy/kernel-diff.ts';
import { parseKernelVersion } from '../../src/policy/kernel-version.ts';
import { scenarioTopology } from '../../src/scenario/group-input.ts';
import { runGroups } from '../../src/cli/commands/groups.ts';
import { memoryIo } from '../../src/cli/io.ts';

const corpus = (name: string) => new URL(`../fixtures/corpus/${name}`, import.meta.url).pathname;
const imported = (name: string) => topologyFromLspci(parseLspci(readFileSync(corpus(`${name}.lspci.txt`), 'utf8'))).topology;
const kernel = (v: string) => ({ version: parseKernelVersion(v) });

/** Every dump of the corpus, root and non-root (non-root: only the groups that can be decided). */
const DUMPS = readdirSync(new URL('../fixtures/corpus/', import.meta.url))
  .filter((f) => f.endsWith('.lspci.txt'))
  .map((f) => f.replace(/\.lspci\.txt$/, ''));

describe.each(DUMPS)('%s: every group of more than one device is explained', (name) => {
  const topology = imported(name);
  const result = classicGroups(topology);
  const why = explainClassicGroups(topology, {}, result);

  it('one explanation per multi-device group, each with at least one fact naming a kernel function', () => {
    expect(why.map((w) => w.id)).toEqual(result.groups.filter((g) => g.devices.length > 1).map((g) => g.id));
    for (const w of why) {
      expect(w.why.length).toBeGreaterThan(0);
      expect(w.why.join(' ')).toMatch(/pci_device_group|get_pci_function_alias_group|pci_for_each_dma_alias|get_pci_alias_group/);
    }
  });

  it('each counterfactual ("with ACS … they would split") is checked by regrouping, so it names the resulting groups', () => {
    for (const fact of why.flatMap((w) => w.why)) {
      const split = / they would split: (.*)$/.exec(fact);
      if (split) expect(split[1]).toMatch(/^\{[^}]+\}( \{[^}]+\})+$/);
    }
  });
});

describe('the facts themselves', () => {
  it('Apple T2 Mac: the CPU root port 00:01.0 has no ACS capability, so everything below it joins its group; with SV+RR+CR+UF there it would split', () => {
    const topology = imported('apple-t2-mac-cometlake-titanridge');
    const why = explainClassicGroups(topology, {}, classicGroups(topology));
    const fact = why.flatMap((w) => w.why).find((f) => f.startsWith('0000:01:00.0, 0000:02:00.0, 0000:03:00.0, 0000:03:00.1 share 0000:00:01.0'))!;
    expect(fact).toContain('0000:00:01.0 (8086:1901, PCI bridge: Intel Corporation 6th-10th Gen Core Processor PCIe Controller (x16)) has no ACS capability and no quirk applies');
    expect(fact).toContain('pci_acs_path_enabled, REQ_ACS_FLAGS SV+RR+CR+UF');
    expect(fact).toContain('with ACS SV+RR+CR+UF on 0000:00:01.0 they would split: {0000:00:01.0} {0000:01:00.0} {0000:02:00.0} {0000:03:00.0} {0000:03:00.1}');
  });

  it('Candela: the Sunrise Point root port 00:1c.0 is isolated by its quirk, named with the releases it exists in', () => {
    const quirks = appliedQuirks(imported('candelatech-skylake-e3-pcie-switches'), {});
    expect(quirks).toContain('0000:00:1c.0 (8086:a110, PCI bridge: Intel Corporation 100 Series/C230 Series Chipset Family PCI Express Root Port #1) is isolated by quirk pci_quirk_intel_spt_pch_acs/8086:a110 (Sunrise Point) (added after 4.4, by 4.9)');
  });

  it("Dell: the PCH's conventional multifunction functions merge (pci_acs_enabled: conventional PCI never supports ACS)", () => {
    const topology = imported('dell-cometlake-u-laptop');
    const why = explainClassicGroups(topology, {}, classicGroups(topology));
    expect(why.find((w) => w.devices.includes('0000:00:1f.0'))!.why).toEqual([
      '0000:00:1f.0, 0000:00:1f.3, 0000:00:1f.4, 0000:00:1f.5, 0000:00:1f.6 are functions of one multifunction device and none is isolated from the others: each is conventional PCI, which never supports ACS (pci_acs_enabled) (get_pci_function_alias_group)',
    ]);
  });
});

describe('--kernel and --diff-kernel on the X99 PCH root ports (real listings of 5.8 and 5.9)', () => {
  const fixture = new URL('../fixtures/scenarios/x99-pch-root-ports.yaml', import.meta.url).pathname;
  const { topology } = scenarioTopology(fixture, {});
  const ports = ['0000:00:1c.0', '0000:00:1c.3', '0000:00:1c.4', '0000:00:1c.6'];
  const restricted = (groups: readonly (readonly string[])[]) => groups.map((g) => g.filter((d) => ports.includes(d))).filter((g) => g.length > 0).map((g) => [...g].sort());
  const real = (file: string) => restricted(listingPartition(parseGroupListing(readFileSync(corpus(file), 'utf8'))));
  const ours = (v: string) => restricted(classicGroups(topology, kernel(v)).groups.map((g) => g.devices));

  it('5.8: one group per port, as the kernel listed them', () => expect(ours('5.8')).toEqual(real('intel-x99-i7-5930k-asmedia-switch.groups.txt')));
  it('5.9: one group for all four, as the kernel listed them', () => expect(ours('5.9')).toEqual(real('intel-x99-i7-5930k-asmedia-switch.groups-kernel5.9-regression.txt')));
  it('5.10 splits them again (pci_acs_init calls pci_enable_acs regardless of capability)', () => expect(ours('5.10')).toEqual(ports.map((p) => [p])));
  it('3.19 merges them (the Wellsburg IDs were not in the quirk yet); 4.0 is unknown (added after 3.19, by 4.9)', () => {
    expect(ours('3.19')).toEqual([ports]);
    const r = classicGroups(topology, kernel('4.0'));
    expect(r.unknown.map((u) => u.device)).toEqual(expect.arrayContaining(ports));
    expect(r.unknown[0]!.reason).toContain('Wellsburg (X99)) (added after 3.19, by 4.9)');
  });

  it('--diff-kernel 5.8 5.9 predicts the change and gives the reason for each port', () => {
    const diff = diffKernels(topology, kernel('5.8'), kernel('5.9'));
    expect(diff.changes).toHaveLength(1);
    expect(diff.changes[0]!.before).toEqual(ports.map((p) => [p]));
    expect(diff.changes[0]!.after).toEqual([ports]);
    expect(diff.changes[0]!.reasons).toHaveLength(4);
    for (const r of diff.changes[0]!.reasons) expect(r).toMatch(/on 5\.8 it is isolated by quirk pci_quirk_intel_pch_acs\/8086:8d1[06c8] .*on 5\.9 it matches .* only for devices with an ACS capability \(pci_acs_init, added in 5\.9, removed in 5\.10\)/);
  });

  it('the CLI: groups FILE --diff-kernel 5.8 5.9 (B as a positional argument) and --why --kernel 5.9', () => {
    const io = memoryIo();
    expect(runGroups(io, { path: fixture, diffKernel: 'v5.8', rest: ['5.9'] })).toBe(0);
    expect(io.stdout).toContain('# Linux 5.8 → 5.9: 1 change(s)');
    expect(io.stdout).toContain('#   {0000:00:1c.0} {0000:00:1c.3} {0000:00:1c.4} {0000:00:1c.6} → {0000:00:1c.0 0000:00:1c.3 0000:00:1c.4 0000:00:1c.6}');
    const why = memoryIo();
    runGroups(why, { path: fixture, why: true, kernel: '5.9' });
    expect(why.stdout).toMatch(/# {3}why: 0000:00:1c\.0, 0000:00:1c\.3, 0000:00:1c\.4, 0000:00:1c\.6 are functions of one multifunction device/);
  });
});
