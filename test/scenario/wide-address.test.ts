/**
 * A device may put any 64-bit address in a memory request (PCIe 6.0
 * §2.2.4.1, 4DW headers). tlplab carries one at or above 2^53 exactly —
 * in the TLP's label, the trace, the ending record and explain — and
 * decides on it exactly: every range a machine decodes lies below 2^53,
 * so the request is above all of them (units.ts readRequestAddress).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { explainVariant } from '../../src/scenario/explain.ts';
import { renderExplanation } from '../../src/report/explain.ts';

const scenario = (iommu: string, address: string) => `
schema: tlplab/v1
name: wide
title: a write to the top of the 64-bit space
summary: s
sources: [PCIe 6.0 §2.2.4.1]
machine:
  iommu: { model: ${iommu}, interrupt-remapping: off }
  memory: [{ name: ram, base: 0x0, size: 1G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K] }
domains:
  vm1: { devices: [nic], map: [{ iova: 0x0, to: ram, size: 4K, perm: rw }] }
attack:
  attacker: vm1
  steps:
    - { at: 0ns, from: nic, write: ${address}, data: 1 }
expect: [{ verdict: isolated }]
`;

function run(iommu: string, address: string) {
  const loaded = loadScenario('wide.yaml', scenario(iommu, address));
  return { loaded, run: runVariant(loaded, loaded.variants[0]!, 1) };
}

describe('64-bit request addresses, exactly', () => {
  it.each([
    ['0xffff_ffff_ffff_fffc', '0xfffffffffffffffc'],
    ['0x20_0000_0000_0001', '0x20000000000001'],
  ])('VT-d: %s is above the 48-bit address width and faults (Table 30 LGN.1.1), reported exactly', (text, exact) => {
    const { run: r } = run('vtd', text);
    expect(r.endings[0]).toMatchObject({ outcome: 'faulted', reason: 'iommu.address-width', faultCode: 0x4, exactAddress: exact });
    expect(r.ended[0]!.label).toContain(exact);
  });

  it('no IOMMU: no memory, BAR or platform target decodes it — an Unsupported Request', () => {
    const { run: r } = run('none', '0xffff_ffff_ffff_fffc');
    expect(r.endings[0]).toMatchObject({ outcome: 'unsupported-request', reason: 'route.no-target', exactAddress: '0xfffffffffffffffc' });
    expect(r.result.breaches).toEqual([]);
  });

  it('explain prints the exact address in the step and the TLP line', () => {
    const { loaded } = run('vtd', '0xffff_ffff_ffff_fffc');
    const text = renderExplanation(explainVariant(loaded, loaded.variants[0]!, 1), { color: false });
    expect(text).toContain('nic writes 0x1 to 0xfffffffffffffffc');
    expect(text).toContain('MemWr 0xfffffffffffffffc from nic');
  });

  it('an address below 2^53 carries no exact text: the number is exact', () => {
    const { run: r } = run('vtd', '0x1f_ffff_ffff_fffc');
    expect(r.endings[0]!.exactAddress).toBeUndefined();
    expect(r.endings[0]!.address).toBe(0x1f_ffff_ffff_fffc);
  });
});
