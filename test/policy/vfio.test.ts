import { describe, expect, it } from 'vitest';
import { canAssign, groupViableFor, msiGate, type GroupMember } from '../../src/policy/vfio.ts';

const m = (device: string, owner: GroupMember['owner'], bridge = false): GroupMember => ({ device, owner, bridge });

describe('VFIO viability (iommu_group_claim_dma_owner / vfio_group_viable)', () => {
  const cases: [string, GroupMember[], boolean][] = [
    ['all unbound', [m('a', { kind: 'none' }), m('b', { kind: 'none' })], true],
    ['one already the user’s', [m('a', { kind: 'user', principal: 'vm1' }), m('b', { kind: 'none' })], true],
    ['bridge bound to pcieport does not block', [m('rp', { kind: 'kernel', driver: 'pcieport' }, true), m('a', { kind: 'none' })], true],
    ['endpoint bound to a kernel driver blocks (-EBUSY)', [m('a', { kind: 'none' }), m('b', { kind: 'kernel', driver: 'nvme' })], false],
    ['endpoint owned by another user blocks', [m('a', { kind: 'user', principal: 'vm2' })], false],
  ];
  it.each(cases)('%s', (_name, members, allowed) => expect(groupViableFor('vm1', members).allowed).toBe(allowed));
});

describe('isolated-MSI gate (iommu_group_has_isolated_msi)', () => {
  const cases: [string, Parameters<typeof msiGate>[0], boolean, boolean][] = [
    ['x86 remapping + SID validation', { remapping: true, sourceIdValidation: true, msiController: 'x86', allowUnsafeInterrupts: false }, true, true],
    ['x86 remapping, intremap=nosid: not isolated, yet Linux allows it (intel_setup_irq_remapping sets ISOLATED_MSI regardless)', { remapping: true, sourceIdValidation: false, msiController: 'x86', allowUnsafeInterrupts: false }, false, true],
    ['x86 no remapping', { remapping: false, sourceIdValidation: true, msiController: 'x86', allowUnsafeInterrupts: false }, false, false],
    ['x86 no remapping + allow_unsafe_interrupts', { remapping: false, sourceIdValidation: true, msiController: 'x86', allowUnsafeInterrupts: true }, false, true],
    ['GICv3 ITS (MSI_FLAG_ISOLATED_MSI)', { remapping: false, sourceIdValidation: false, msiController: 'gicv3-its', allowUnsafeInterrupts: false }, true, true],
    ['GICv2m doorbell', { remapping: false, sourceIdValidation: false, msiController: 'gicv2m', allowUnsafeInterrupts: false }, false, false],
  ];
  it.each(cases)('%s', (_name, config, isolated, allowed) => {
    const gate = msiGate(config);
    expect(gate.isolated).toBe(isolated);
    expect(gate.allowed).toBe(allowed);
    expect(gate.reason.length).toBeGreaterThan(10);
  });

  it('canAssign applies viability before the MSI gate', () => {
    const safe = { remapping: true, sourceIdValidation: true, msiController: 'x86' as const, allowUnsafeInterrupts: false };
    expect(canAssign('vm1', { id: 3, devices: ['a', 'b'] }, [m('a', { kind: 'none' }), m('b', { kind: 'kernel', driver: 'e1000e' })], safe).allowed).toBe(false);
    expect(canAssign('vm1', { id: 3, devices: ['a'] }, [m('a', { kind: 'none' })], safe).allowed).toBe(true);
    expect(canAssign('vm1', { id: 3, devices: ['a', 'b'] }, [m('a', { kind: 'none' })], safe).reason).toMatch(/no ownership given for b/);
  });
});
