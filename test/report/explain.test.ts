import { describe, expect, it } from 'vitest';
import { renderStory } from '../../src/report/explain.ts';
import type { GateResult } from '../../src/scenario/results.ts';
import type { RunStory } from '../../src/scenario/run-story.ts';

function story(gates: GateResult[]): RunStory {
  return {
    scenario: 's',
    file: 'f',
    variant: {},
    verdict: 'isolated',
    expected: 'isolated',
    pass: true,
    because: null,
    attacker: 'vm1',
    gates,
    steps: [],
    tlps: [],
    breaches: [],
    stopped: [],
    view: { nodes: [], links: [], groups: { classic: [], 'per-bus': [] }, groupsUsed: 'classic', owners: [] },
  };
}

describe('explain: why a failed Linux gate did not stop the attack (src/scenario/gates.ts)', () => {
  it.each([
    ['attack.via: device — hostile hardware is not asked', 'classic IOMMU group {a, b}: b is bound to kernel driver x — rule', 'attack.via is device'],
    ['vfio-viability: bypassed', 'classic IOMMU group {a, b}: b is bound to kernel driver x (check bypassed) — rule', 'machine.kernel.vfio-viability is bypassed'],
  ])('%s', (_name, detail, why) => {
    const text = renderStory(story([{ gate: 'vfio-viability', passed: false, enforced: false, detail }]), { color: false });
    expect(text).toContain(`gate vfio-viability: would refuse (not enforced: ${why}) — ${detail}`);
  });
});
