/**
 * Host steps and host policy on whole machines (src/scenario/ownership-steps.ts,
 * machine-host.ts): VFIO's reserved-IOVA check, its RMRR gate when a device
 * is handed over, default domains on hot-plug for untrusted devices, the
 * IOMMU forced on by the DMAR platform opt-in, what a Linux release with no
 * reset method leaves, reads in flight across a reset, Xen's scratch page.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';

function run(yaml: string) {
  const loaded = loadScenario('host-steps.yaml', yaml);
  return runVariant(loaded, loaded.variants[0]!, 1);
}

const scenario = (o: { machine?: string; devices?: string; domains?: string; steps: string; via?: string; attacker?: string }) => `
schema: tlplab/v1
name: host-steps
title: host steps
summary: s
sources: [s]
machine:
${o.machine ?? ''}  memory:
    - { name: host-ram, base: 0x0, size: 1G, owner: host }
    - { name: vm1-ram, base: 0x40000000, size: 1G, owner: vm1 }
    - { name: fw, base: 0x80000000, size: 64K, owner: firmware }
  devices:
    - { id: rp0, type: root-port, bdf: "00:1c.0", acs: [SV, RR, CR, UF] }
    - { id: rp1, type: root-port, bdf: "00:1d.0", acs: [SV, RR, CR, UF] }
${o.devices ?? '    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K], msix: 1 }\n    - { id: hba, type: endpoint, parent: rp1, owner: host, class: storage, bars: [16K] }'}
${o.domains ?? 'domains:\n  vm1: { devices: [nic], map: [{ iova: 0x0, to: vm1-ram, size: 1G, perm: rw }] }'}
attack:
  attacker: ${o.attacker ?? 'vm1'}
  via: ${o.via ?? 'vfio'}
  steps:
${o.steps}
expect: [{ verdict: isolated }]
`;

describe('VFIO refuses user mappings over reserved IOVA (vfio_iommu_iova_dma_valid)', () => {
  it.each([
    ['0xfee00000', 'vfio.iova-reserved', 'the MSI window (IOMMU_RESV_MSI)'],
    ['0x7fff0000', null, 'ordinary IOVA'],
  ])('a user map at %s: %s (%s)', (iova, reason, _what) => {
    const { steps, machine } = run(scenario({ steps: `    - { at: 0ns, map: { domain: vm1, iova: ${iova}, to: 0x7fff0000, size: 4K, perm: rw } }\n    - { at: 1us, from: nic, write: 0x1000, data: 0x1 }` }).replace('size: 1G, perm: rw }] }', 'size: 256M, perm: rw }] }'));
    expect(steps[0]!.refused?.reason ?? null).toBe(reason);
    expect(machine.grants.all.some((g) => g.iova === parseInt(iova, 16))).toBe(reason === null);
  });
});

describe('assigning a device to the attacker through VFIO runs Linux\'s gates at that instant', () => {
  const machine = '  iommu: { model: vtd }\n  reserved:\n    - { kind: rmrr, region: fw, devices: [hba] }\n';
  it.each([
    ['storage', 'gate.rmrr', 'rmrr', 'host'],
    ['usb', null, null, 'vm1'],
  ])('an HBA of class %s with an RMRR: refusal %s, refused-by %s, owner after: %s', (cls, reason, refusedBy, owner) => {
    const { steps, result, machine: m } = run(scenario({ machine, steps: '    - { at: 1us, assign: { device: hba, to: vm1 } }\n    - { at: 2us, from: hba, write: 0x80000000, data: 0x1 }' }).replace('class: storage', `class: ${cls}`));
    expect(steps[0]!.refused?.reason ?? null).toBe(reason);
    expect(result.refusedBy).toBe(refusedBy);
    expect(m.ownership.ownerOfFunction('hba')).toBe(owner);
    // Relaxable: VFIO's domain leaves the RMRR unmapped, so the write faults.
    if (cls === 'usb') expect(result.stopped).toMatchObject([{ reason: 'iommu.no-mapping' }]);
  });
});

describe('hot-plug below an external-facing port: iommu_probe_device gives an untrusted device a strict DMA domain without ATS', () => {
  const devices = '    - { id: tb, type: root-port, bdf: "00:07.0", acs: [SV, RR, CR, UF], external-facing: true }\n    - { id: dev, type: endpoint, parent: tb, owner: evil, ats: true, bars: [64K], present: false }';
  it.each([
    ['identity', 'paging', 'strict'],
    ['dma', 'paging', 'strict'],
  ])('kernel default %s → %s, %s', (kernelDefault, mode, invalidation) => {
    const { machine } = run(scenario({ machine: `  iommu: { model: vtd, invalidation: deferred }\n  kernel: { default-domain: ${kernelDefault} }\n`, devices, domains: '', attacker: 'evil', via: 'device', steps: '    - { at: 1us, hot-plug: { device: dev } }\n    - { at: 2us, from: dev, write: 0x1000, data: 0x1 }' }));
    const ctx = machine.iommu!.context(machine.fabric.fn('dev').rid)!;
    expect([ctx.domain.name, ctx.domain.mode, ctx.domain.invalidation, ctx.deviceTlb]).toEqual(['dev.default', mode, invalidation, false]);
  });

  it('a trusted device on an internal port gets the kernel default (identity with iommu=pt)', () => {
    const { machine } = run(scenario({ machine: '  iommu: { model: vtd }\n  kernel: { default-domain: identity }\n', devices: devices.replace(', external-facing: true', ''), domains: '', attacker: 'evil', via: 'device', steps: '    - { at: 1us, hot-plug: { device: dev } }\n    - { at: 2us, from: dev, write: 0x1000, data: 0x1 }' }));
    expect(machine.iommu!.context(machine.fabric.fn('dev').rid)!.domain.mode).toBe('identity');
  });

  it('platform_optin_force_iommu: with intel_iommu=off, the DMAR opt-in and an external-facing port, DMA remapping is on and the untrusted device is held', () => {
    const machine = '  iommu: { model: vtd, dma-remapping: off }\n  firmware: { dmar-opt-in: on }\n';
    const { result, machine: m } = run(scenario({ machine, devices, domains: '', attacker: 'evil', via: 'device', steps: '    - { at: 1us, hot-plug: { device: dev } }\n    - { at: 2us, from: dev, write: 0x1000, data: 0x1 }' }));
    expect(m.iommu!.translation).toBe('os');
    expect(result.stopped).toMatchObject([{ reason: 'iommu.no-mapping' }]);
    expect(m.host.setup.map((a) => a.action)).toContain('Intel-IOMMU force enabled due to platform opt in');
    expect(m.host.setup.map((a) => a.action)).toContain('thunderbolt iommu_dma_protection=1');
  });

  it('without the opt-in, intel_iommu=off leaves the device unchecked', () => {
    const { result } = run(scenario({ machine: '  iommu: { model: vtd, dma-remapping: off }\n', devices, domains: '', attacker: 'evil', via: 'device', steps: '    - { at: 1us, hot-plug: { device: dev } }\n    - { at: 2us, from: dev, write: 0x1000, data: 0x1 }' }));
    expect(result.breaches).toMatchObject([{ kind: 'memory-write', victim: 'host' }]);
  });
});

describe('a Linux release', () => {
  it('with no reset method still clears bus mastering: the attempt is refused as device.bus-master-off', () => {
    const devices = '    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K], reset-method: none }';
    const { result, steps } = run(scenario({ devices, steps: '    - { at: 1us, release: { device: nic } }\n    - { at: 2us, from: nic, write: 0x1000, data: 0x1 }' }));
    expect(result.stopped).toMatchObject([{ reason: 'device.bus-master-off', at: 'nic', tlp: null }]);
    expect(steps[0]!.actions.map((a) => a.action).join('\n')).not.toMatch(/reset \(flr\)/);
  });

  it('a read in flight across the reset: its completion finds no outstanding request (PCIe 6.0 §6.6.2) and its data reaches nobody', () => {
    const { result } = run(scenario({ steps: '    - { at: 1000ns, from: nic, read: 0x1000, size: 4 }\n    - { at: 1250ns, release: { device: nic } }' }));
    expect(result.tlps.filter((e) => e.type === 'CplD').map((e) => [e.reason, e.effects])).toEqual([['route.unexpected-completion', []]]);
    expect(result.breaches).toEqual([]);
  });
});

describe('Xen quarantine with a scratch page', () => {
  it('takes the top page of the largest host region, holds nobody\'s data, and swallows the device\'s DMA', () => {
    const { result, machine } = run(scenario({ machine: '  host: xen\n  xen: { quarantine: scratch-page }\n', steps: '    - { at: 1us, release: { device: nic } }\n    - { at: 2us, from: nic, write: 0x1234, data: 0x1 }' }));
    const write = result.tlps.find((e) => e.origin === 'nic')!;
    expect(write.effects).toMatchObject([{ kind: 'bytes', spans: [{ base: 0x3fff_f234, region: 'host-ram', sub: 'quarantine-scratch', owner: null }] }]);
    expect(result.stopped).toMatchObject([{ reason: 'xen.scratch-page' }]);
    expect(machine.ownership.at(0x3fff_f000)!.owner).toBe('host');
  });
});
