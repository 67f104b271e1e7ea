import { describe, expect, it } from 'vitest';
import { renderExplanation } from '../../src/report/explain.ts';
import type { Explanation } from '../../src/scenario/explain.ts';
import type { GateResult } from '../../src/scenario/results.ts';

function explanation(gates: GateResult[], hardware: Explanation['hardware'] = []): Explanation {
  return {
    scenario: 's',
    title: 't',
    summary: '',
    result: {
      scenario: 's', file: 'f', title: 't', variant: {}, verdict: 'isolated', expected: 'isolated',
      expectation: { verdict: 'isolated', breaches: null, stopped: null, refusedBy: null, because: null },
      pass: true, differences: [], breaches: [], stopped: [], refusedBy: null, gates, tlps: [], endTime: 0,
    },
    gates,
    steps: [],
    bdfs: new Map(),
    setup: [],
    hardware,
  };
}

describe('explain names the silicon facts that came from Linux’s quirk table (issue 14)', () => {
  const fact = { device: 'rp0', fact: 'intel-pch-peer-decode-disabled', quirk: 'pci_quirk_intel_pch_acs', title: 'Intel PCH root ports', source: 'quirks.c' };
  it('an honoured fact lists the controls it puts in force', () => {
    const text = renderExplanation(explanation([], [{ ...fact, honoured: true, inForce: 'SV RR CR UF' }]), { color: false });
    expect(text).toContain('hardware rp0: silicon fact intel-pch-peer-decode-disabled from Linux pci_quirk_intel_pch_acs — Intel PCH root ports; in force: SV RR CR UF');
  });
  it('a false vendor claim says the kernel still believes it', () => {
    const text = renderExplanation(explanation([], [{ ...fact, honoured: false, inForce: '' }]), { color: false });
    expect(text).toContain('NOT honoured by this hardware (hardware.honours-quirk: false): the kernel still believes it');
  });
});

describe('explain: why a failed Linux gate did not stop the attack (src/scenario/gates.ts)', () => {
  it.each([
    ['attack.via: device — hostile hardware is not asked', 'classic IOMMU group {a, b}: b is bound to kernel driver x — rule', 'attack.via is device'],
    ['vfio-viability: bypassed', 'classic IOMMU group {a, b}: b is bound to kernel driver x (check bypassed) — rule', 'machine.kernel.vfio-viability is bypassed'],
  ])('%s', (_name, detail, why) => {
    const text = renderExplanation(explanation([{ gate: 'vfio-viability', passed: false, enforced: false, detail }]), { color: false });
    expect(text).toContain(`gate vfio-viability: would refuse (not enforced: ${why}) — ${detail}`);
  });
});
