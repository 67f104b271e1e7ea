import { describe, expect, it } from 'vitest';
import { renderExplanation } from '../../src/report/explain.ts';
import type { Explanation } from '../../src/scenario/explain.ts';
import type { GateResult } from '../../src/scenario/results.ts';

function explanation(gates: GateResult[]): Explanation {
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
  };
}

describe('explain: why a failed Linux gate did not stop the attack (src/scenario/gates.ts)', () => {
  it.each([
    ['attack.via: device — hostile hardware is not asked', 'classic IOMMU group {a, b}: b is bound to kernel driver x — rule', 'attack.via is device'],
    ['vfio-viability: bypassed', 'classic IOMMU group {a, b}: b is bound to kernel driver x (check bypassed) — rule', 'machine.kernel.vfio-viability is bypassed'],
  ])('%s', (_name, detail, why) => {
    const text = renderExplanation(explanation([{ gate: 'vfio-viability', passed: false, enforced: false, detail }]), { color: false });
    expect(text).toContain(`gate vfio-viability: would refuse (not enforced: ${why}) — ${detail}`);
  });
});
