/** Machine assembly: how a scenario's domains shape the interrupt set-up. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

/** An arm64 host whose NVMe drive sits in a domain of the given mode, behind the SMMU, raising its own MSI. */
function armScenario(mode: 'paging' | 'identity', controller: 'gicv2m' | 'gicv3-its'): string {
  return `
schema: tlplab/v1
name: arm-msi-address
title: MSI address behind the SMMU
summary: a host device raises its own MSI
sources: [Linux iommu_dma_prepare_msi]
machine:
  iommu: { model: smmuv3 }
  msi-controller: ${controller}
  msi-doorbell: { at: 0x30040000 }
  memory:
    - { name: host-ram, base: 0x80000000, size: 1G, owner: host }
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nvme, type: endpoint, parent: rp0, bars: [16K], msi: 1 }
domains:
  host: { devices: [nvme], mode: ${mode} }
attack:
  attacker: host
  steps:
    - { at: 0ns, from: nvme, msi: { vector: 0 } }
expect:
  - verdict: isolated
`;
}

describe('ARM MSI doorbell behind the SMMU', () => {
  it.each([
    // [domain mode, controller, address the device writes]
    ['paging', 'gicv2m', 0x800_0040],
    ['identity', 'gicv2m', 0x3004_0040],
    ['paging', 'gicv3-its', 0x800_0040],
    ['identity', 'gicv3-its', 0x3005_0040],
  ] as const)('Linux iommu_dma_prepare_msi: a device in a %s domain (%s) writes %i and its MSI is delivered', (mode, controller, address) => {
    const loaded = loadScenario('arm-msi-address.yaml', armScenario(mode, controller));
    const run = runVariant(loaded, loaded.variants[0]!, 1);
    const tlp = run.ended.find((t) => t.origin === 'nvme')!;
    expect(tlp.issuedAddress).toBe(address);
    expect(tlp.outcome).toBe('delivered');
  });
});
