/**
 * Host actions by a principal (src/scenario/steps.ts): a CPU store reaches
 * only what VFIO maps to that principal.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

const scenario = (offset: number, by: string) => `
schema: tlplab/v1
name: mmio-region
title: a guest stores into its own BAR
summary: s
sources: [s]
machine:
  memory: [{ name: ram, base: 0x0, size: 1G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - id: acc
      type: endpoint
      parent: rp0
      owner: vm1
      bars: [{ size: 64K, regions: [{ name: migration-regs, offset: 0x8000, size: 0x8000, owner: host }] }]
attack:
  # The one acting is the attacker (a scenario where the attacker does nothing is refused).
  attacker: ${by}
  steps:
    - { at: 0ns, mmio-write: { bar: acc.0, offset: ${offset}, value: 1, by: ${by} } }
expect: [{ verdict: isolated }]
`;

function run(offset: number, by: string) {
  const loaded = loadScenario('mmio-region.yaml', scenario(offset, by));
  return runVariant(loaded, loaded.variants[0]!, 1);
}

describe('mmio-write by a principal: hisi_acc_vfio_pci hides the host\'s part of the guest\'s BAR (hisi_acc_pci_rw_access_check)', () => {
  it.each([
    ['the guest stores into its own part of the BAR: delivered', 0x100, 'vm1', null, 'delivered'],
    ['the guest stores into the host\'s region: refused, nothing reaches the fabric', 0x8000, 'vm1', 'vfio.region-not-mapped', null],
    ['the guest stores at the last byte before the region: delivered', 0x7ffc, 'vm1', null, 'delivered'],
    ['the host stores into its region: delivered', 0x8000, 'host', null, 'delivered'],
  ])('%s', (_name, offset, by, refusal, outcome) => {
    const { steps, result } = run(offset, by);
    expect(steps[0]!.refused?.reason ?? null).toBe(refusal);
    expect(steps[0]!.tlps[0]?.outcome ?? null).toBe(outcome);
    expect(result.verdict).toBe('isolated');
  });
});

/** vm1's NIC with one 64-bit MSI (capability at 0x40: control 0x42, address 0x44, data 0x4c), programmed by Linux. */
function configScenario(programmedBy: 'host' | 'owner', offset: number, size: number, value: number): string {
  return `
schema: tlplab/v1
name: config-step
title: config write into the MSI capability
summary: a guest writes its own device's MSI capability
sources: [xen-pciback conf_space_capability.c]
machine:
  iommu: { model: vtd }
  memory:
    - { name: host-ram, base: 0x0, size: 2G, owner: host }
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K], msi: { vectors: 1, programmed-by: ${programmedBy} } }
attack:
  attacker: vm1
  steps:
    - { at: 0ns, config-write: { device: nic, offset: ${offset}, size: ${size}, value: ${value}, by: vm1 } }
expect:
  - verdict: isolated
`;
}

describe('config-write by a guest into the MSI capability', () => {
  it.each([
    // [programmed-by, offset, size, value, refused]
    ['host', 0x4c, 2, 0x80, true], // Message Data
    ['host', 0x44, 4, 0xfee01000, true], // Message Address
    ['host', 0x40, 4, 0x00a0_0000, true], // Message Control via a DWORD write: MME changes
    ['host', 0x42, 2, 0x0080, false], // Enable cleared, nothing else changes
    ['host', 0x42, 2, 0x00a1, true], // Multiple Message Enable changes
    ['host', 0x04, 2, 0x0006, false], // Command register: outside the capability
    ['owner', 0x4c, 2, 0x80, false], // pciback permissive
  ] as const)('xen-pciback (programmed-by %s): write at offset %i, size %i, value %i: refused %s', (programmedBy, offset, size, value, refused) => {
    const loaded = loadScenario('config-step.yaml', configScenario(programmedBy, offset, size, value));
    const run = runVariant(loaded, loaded.variants[0]!, 1);
    const config = run.machine.fabric.fn('nic').config;
    expect(config.findCapability(0x05)).toBe(0x40);
    expect(run.steps[0]!.refused !== null).toBe(refused);
    expect(run.steps[0]!.tlps).toHaveLength(refused ? 0 : 1);
    if (refused) expect(run.result.stopped.map((s) => s.reason)).toContain('pciback.msi-read-only');
    if (offset === 0x4c) expect(config.read(0x4c, 2) === 0x80).toBe(!refused);
  });
});

/** Two devices: vm1's NIC and the host's NVMe drive; vm1 tries the drive's config space and BAR. */
function notHeldScenario(step: string): string {
  return `
schema: tlplab/v1
name: not-held
title: a guest reaches for a device it does not hold
summary: s
sources: [drivers/vfio/pci/vfio_pci_core.c]
machine:
  memory: [{ name: ram, base: 0x0, size: 1G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K] }
    - { id: rp1, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nvme, type: endpoint, parent: rp1, driver: nvme, bars: [16K] }
attack:
  attacker: vm1
  steps:
    - ${step}
expect: [{ verdict: isolated, stopped: [{ reason: vfio.not-owner, at: "host (vfio-pci)" }] }]
`;
}

describe('a user reaches config space and BARs only of devices it holds through VFIO (vfio_pci_core_read/write)', () => {
  it.each([
    ['config-write into the drive', '{ at: 0ns, config-write: { device: nvme, offset: 0x4, size: 2, value: 0, by: vm1 } }'],
    ['mmio-write into the drive\'s BAR', '{ at: 0ns, mmio-write: { bar: nvme.0, offset: 0x14, value: 0, by: vm1 } }'],
  ])('%s: refused by the host, nothing reaches the fabric, the expectation with its reason passes', (_name, step) => {
    const loaded = loadScenario('not-held.yaml', notHeldScenario(step));
    const run = runVariant(loaded, loaded.variants[0]!, 1);
    expect(run.steps[0]!.tlps).toEqual([]);
    expect(run.steps[0]!.refused).toMatchObject({ tlp: null, outcome: 'blocked', reason: 'vfio.not-owner', principal: 'vm1', decidedAt: 'host (vfio-pci)' });
    expect(run.result).toMatchObject({ verdict: 'isolated', pass: true, breaches: [] });
  });

  it('the host itself may write the drive\'s config space', () => {
    const loaded = loadScenario('not-held.yaml', notHeldScenario('{ at: 0ns, config-write: { device: nvme, offset: 0x4, size: 2, value: 6, by: host } }').replace('stopped: [{ reason: vfio.not-owner, at: "host (vfio-pci)" }]', 'stopped: []').replace('attacker: vm1', 'attacker: host'));
    const run = runVariant(loaded, loaded.variants[0]!, 1);
    expect(run.steps[0]!.tlps.map((t) => t.reason)).toEqual(['config.write']);
    expect(run.result.pass).toBe(true);
  });
});

describe('irte-write (VT-d §6.5.2.7: the table changes in memory, the IEC keeps its copy until invalidated)', () => {
  const irteScenario = (model: string, steps: string) => `
schema: tlplab/v1
name: irte-write
title: the host rewrites an IRTE
summary: s
sources: [s]
machine:
  iommu: { model: ${model} }
  memory: [{ name: ram, base: 0x0, size: 1G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K], msix: 1 }
attack:
  attacker: vm1
  steps:
${steps}
expect: [{ verdict: isolated }]
`;
  const steps = (invalidate: boolean) => `    - { at: 0ns, from: nic, msi: { vector: 0 } }
    - { at: 1us, irte-write: { index: 0, present: false, owner: host } }
${invalidate ? '    - { at: 1us, invalidate: iec }\n' : ''}    - { at: 2us, from: nic, msi: { vector: 0 } }`;

  it.each([
    [false, 'delivered', null],
    [true, 'faulted', 'ir.not-present'],
  ] as const)('invalidated: %s → the NIC’s next MSI is %s', (invalidate, outcome, reason) => {
    const loaded = loadScenario('irte-write.yaml', irteScenario('vtd', steps(invalidate)));
    const { ended } = runVariant(loaded, loaded.variants[0]!, 1);
    const last = ended.filter((t) => t.origin === 'nic').at(-1)!;
    expect(last.outcome).toBe(outcome);
    if (reason !== null) expect(last.reason).toBe(reason);
  });

  it('is a VT-d step: on AMD-Vi it is an error naming the step', () => {
    expect(() => loadScenario('irte-write.yaml', irteScenario('amd-vi', steps(false)))).toThrow(/irte-write writes a VT-d interrupt-remapping table entry; this machine's iommu is amd-vi/);
  });
});
