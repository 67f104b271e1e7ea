/** Local APIC destination decode and the host's vector ownership (SDM Vol. 3A ch. 11; Linux arch/x86 vector matrix). */
import { describe, expect, it } from 'vitest';
import { Cpus } from '../../src/interrupts/lapic.ts';
import { HOST, VectorTable } from '../../src/interrupts/vectors.ts';
import { newAttributes, type InterruptAttributes } from '../../src/interrupts/x86-msi.ts';

function attrs(fields: Partial<InterruptAttributes>): InterruptAttributes {
  return Object.assign(newAttributes(), { vector: 0x40 }, fields);
}

describe('destination decode (SDM §11.6.2, §11.11.1, §11.12.10)', () => {
  it.each([
    { source: 'SDM §11.6.2.1 physical: the APIC with that ID', x2apic: false, a: { destination: 2 }, want: [2] },
    { source: 'SDM §11.6.2.1 physical: 0xFF broadcasts (xAPIC)', x2apic: false, a: { destination: 0xff }, want: [0, 1, 2, 3] },
    { source: 'SDM §11.6.2.1 physical: no such APIC selects nobody', x2apic: false, a: { destination: 9 }, want: [] },
    { source: 'SDM §11.6.2.2 logical flat: the bitmap of LDRs (Linux flat: 1 << cpu)', x2apic: false, a: { destination: 0b1010, destinationMode: 'logical' as const }, want: [1, 3] },
    { source: 'SDM §11.11.1 RH=1, DM=1: one processor of the set (lowest priority; equal TPRs → lowest ID)', x2apic: false, a: { destination: 0b1100, destinationMode: 'logical' as const, redirectionHint: true }, want: [2] },
    { source: 'SDM §11.6.2.4 lowest-priority delivery: one processor', x2apic: false, a: { destination: 0b0111, destinationMode: 'logical' as const, deliveryMode: 1 }, want: [0] },
    { source: 'SDM §11.11.1 RH=1, DM=0: physical, RH has no effect', x2apic: false, a: { destination: 3, redirectionHint: true }, want: [3] },
    { source: 'SDM §11.12.10.2 x2APIC cluster: cluster 0, bits for IDs 1 and 2', x2apic: true, a: { destination: 0x0000_0006, destinationMode: 'logical' as const }, want: [1, 2] },
    { source: 'SDM §11.12.10.2 x2APIC cluster: another cluster selects nobody here', x2apic: true, a: { destination: 0x0001_0001, destinationMode: 'logical' as const }, want: [] },
    { source: 'SDM §11.12.9 x2APIC physical broadcast 0xFFFFFFFF', x2apic: true, a: { destination: 0xffff_ffff }, want: [0, 1, 2, 3] },
    { source: 'SDM §11.6.2.2 logical flat: 0xFF selects every APIC with an LDR bit', x2apic: false, a: { destination: 0xff, destinationMode: 'logical' as const }, want: [0, 1, 2, 3] },
    { source: 'SDM §11.12.10.2 x2APIC logical: 0xFFFFFFFF broadcasts to every cluster', x2apic: true, a: { destination: 0xffff_ffff, destinationMode: 'logical' as const }, want: [0, 1, 2, 3] },
    { source: 'SDM §11.6.2.4 lowest priority over a broadcast: one processor', x2apic: false, a: { destination: 0xff, deliveryMode: 1 }, want: [0] },
  ])('$source', ({ x2apic, a, want }) => {
    expect(new Cpus(4, x2apic).resolve(attrs(a), [])).toEqual(want);
  });

  it.each([
    { source: 'cluster 0, APICs 0 and 1 (bits 0 and 1)', destination: 0x03, want: [0, 1] },
    { source: 'cluster 1, its third APIC (APIC ID 6)', destination: 0x14, want: [6] },
    { source: 'cluster address Fh: bit 0 of every cluster', destination: 0xf1, want: [0, 4] },
    { source: '0xFF: broadcast', destination: 0xff, want: [0, 1, 2, 3, 4, 5, 6, 7] },
    { source: 'a cluster with no such APIC: nobody', destination: 0x28, want: [] },
  ])('SDM §11.6.2.2 logical cluster model: $source', ({ destination, want }) => {
    expect(new Cpus(8, false, 'cluster').resolve(attrs({ destination, destinationMode: 'logical' }), [])).toEqual(want);
  });
});

describe('delivery to the local APICs', () => {
  it('records vector, mode, requester and time on each APIC that accepts it', () => {
    const cpus = new Cpus(2);
    expect(cpus.deliver(attrs({ destination: 1, vector: 0x51 }), 0x0300, 700, 9, [])).toEqual([1]);
    expect(cpus.apics[1]!.received).toEqual([{ vector: 0x51, deliveryMode: 0, level: false, requesterId: 0x0300, time: 700, tlp: 9 }]);
  });

  it.each([
    { mode: 0, vector: 0x0e, accepted: false, source: 'SDM §11.5.3: fixed vector below 16 → Received Illegal Vector' },
    { mode: 1, vector: 0x02, accepted: false, source: 'SDM §11.5.3: lowest-priority vector below 16 → Received Illegal Vector' },
    { mode: 4, vector: 0x00, accepted: true, source: 'SDM §11.6.1: NMI ignores the vector field' },
    { mode: 0, vector: 0x10, accepted: true, source: 'SDM §11.5.3: vector 16 is legal' },
  ])('$source', ({ mode, vector, accepted }) => {
    const cpus = new Cpus(1);
    expect(cpus.deliver(attrs({ destination: 0, vector, deliveryMode: mode }), 0, 0, 1, [])).toEqual(accepted ? [0] : []);
    expect(cpus.apics[0]!.errors).toHaveLength(accepted ? 0 : 1);
  });
});

describe('vector ownership (Linux arch/x86/include/asm/irq_vectors.h, kernel/irq/matrix.c)', () => {
  it.each([
    { vector: 0x0e, owner: HOST, source: 'exceptions 0x00–0x1f' },
    { vector: 0x30, owner: HOST, source: 'ISA_IRQ_VECTOR(0) = 0x30 (legacy timer)' },
    { vector: 0x80, owner: HOST, source: 'IA32_SYSCALL_VECTOR' },
    { vector: 0xec, owner: HOST, source: 'LOCAL_TIMER_VECTOR and the system vectors above it' },
    { vector: 0x41, owner: null, source: 'an unallocated device vector' },
  ])('$source: vector 0x$vector → $owner', ({ vector, owner }) => {
    expect(new VectorTable(2).owner(1, vector)).toBe(owner);
  });

  it('allocates on the CPU with the fewest device vectors, lowest free vector first (matrix_find_best_cpu, matrix_alloc_area)', () => {
    const t = new VectorTable(2);
    const got = [0, 1, 2, 3].map(() => t.allocate('vm1', 'nic'));
    expect(got).toEqual([
      { apicId: 0, vector: 0x21 },
      { apicId: 1, vector: 0x21 },
      { apicId: 0, vector: 0x22 },
      { apicId: 1, vector: 0x22 },
    ]);
    expect([t.owner(1, 0x22), t.device(1, 0x22)]).toEqual(['vm1', 'nic']);
  });

  it('skips the legacy ISA vectors 0x30–0x3f', () => {
    const t = new VectorTable(1);
    const vectors = Array.from({ length: 16 }, () => t.allocate('host', 'd').vector);
    expect(vectors.at(-1)).toBe(0x40);
    expect(vectors).not.toContain(0x30);
  });
});
