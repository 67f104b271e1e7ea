/**
 * VT-d posted interrupts (VT-d §5.2.3, §9.11, §9.12): a posted-format IRTE
 * names a vCPU's descriptor; the vector goes to its PIR and belongs to the
 * descriptor's owner; the notification vector is sent once per ON.
 */
import { describe, expect, it } from 'vitest';
import { POSTED_INTR_VECTOR, PostedDescriptors } from '../../src/interrupts/vtd-posted.ts';
import { VtdInterruptRemapper } from '../../src/interrupts/vtd-remap.ts';
import { newDecision } from '../../src/interrupts/remap.ts';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';
import { Tlp } from '../../src/pcie/tlp.ts';

const PDA = 0x1_2345_6780;

describe('Posted Interrupt Descriptor operation (VT-d §5.2.3)', () => {
  it.each<[string, { suppressed?: boolean }, boolean, readonly boolean[]]>([
    ['ON clear: PIR bit set, ON set, one notification; ON set: no more', {}, false, [true, false]],
    ['SN set: a non-urgent interrupt is posted without notification', { suppressed: true }, false, [false, false]],
    ['SN set: an urgent one (IRTE URG=1) still notifies', { suppressed: true }, true, [true, false]],
  ])('%s', (_name, spec, urgent, notifications) => {
    const descriptors = new PostedDescriptors();
    const d = descriptors.add({ address: PDA, name: 'vm2-vcpu0', owner: 'vm2', notifyDestination: 3, ...spec });
    const results = [0x41, 0x42].map((v) => descriptors.post(PDA, v, urgent));
    expect(results.map((r) => r.notified !== null)).toEqual(notifications);
    if (notifications[0]) expect(results[0]!.notified).toEqual({ vector: POSTED_INTR_VECTOR, destination: 3 });
    expect([...d.pir]).toEqual([0x41, 0x42]);
  });

  it('a PDA that names no descriptor posts nowhere and has no owner', () => {
    expect(new PostedDescriptors().post(PDA, 0x41, false)).toEqual({ descriptor: null, notified: null });
  });

  it('descriptors are 64-byte aligned (§9.12)', () => {
    expect(() => new PostedDescriptors().add({ address: PDA + 8, name: 'x', owner: 'vm2' })).toThrow(RangeError);
  });
});

describe('a posted-format IRTE through the remapper', () => {
  const remap = (owner: string | null) => {
    const r = new VtdInterruptRemapper({ postedInterrupts: true });
    r.descriptors.add({ address: PDA, name: 'vm2-vcpu0', owner: 'vm2' });
    r.writeIrte(7, { present: true, posted: true, descriptor: PDA, vector: 0x51 }, owner);
    const { address, data } = composeRemappable(7);
    const out = newDecision();
    r.remap(new Tlp(1, { type: 'MemWr', address, data, length: 4 }, 0x0300), address, data, out);
    return out;
  };

  it('delivers the guest vector to the descriptor’s owner, whoever owns the IRTE', () => {
    expect(remap('vm1')).toMatchObject({ path: 'posted', postedDescriptor: PDA, postedOwner: 'vm2', entryOwner: 'vm1', attrs: { vector: 0x51 } });
  });

  it('IM=1 without CAP_REG.PI is a reserved-field fault 24h (§5.1.4.1)', () => {
    const r = new VtdInterruptRemapper({ postedInterrupts: false });
    r.writeIrte(7, { present: true, posted: true, descriptor: PDA, vector: 0x51 }, null);
    const { address, data } = composeRemappable(7);
    const out = newDecision();
    r.remap(new Tlp(1, { type: 'MemWr', address, data, length: 4 }, 0x0300), address, data, out);
    expect([out.kind, out.faultCode]).toEqual(['fault', 0x24]);
  });
});
