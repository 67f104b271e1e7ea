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
  attacker: vm1
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
