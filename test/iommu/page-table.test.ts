/** The extent page table behaves page by page like a map of 4 KiB entries. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PageTable } from '../../src/iommu/page-table.ts';

type Op = { kind: 'map'; first: number; count: number; hpa: number; perm: number } | { kind: 'unmap'; first: number; count: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), first: fc.nat(200), count: fc.integer({ min: 1, max: 40 }), hpa: fc.nat(10_000), perm: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('unmap' as const), first: fc.nat(220), count: fc.integer({ min: 1, max: 60 }) }),
);

describe('PageTable', () => {
  it('matches a per-page reference model under random map/unmap sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const table = new PageTable();
        const model = new Map<number, { hpaPage: number; perm: number }>();
        for (const o of ops) {
          if (o.kind === 'map') {
            const free = Array.from({ length: o.count }, (_, i) => o.first + i).every((p) => !model.has(p));
            expect(table.firstMappedIn(o.first, o.count) < 0).toBe(free);
            if (!free) continue;
            table.map(o.first, o.count, o.hpa, o.perm);
            for (let i = 0; i < o.count; i++) model.set(o.first + i, { hpaPage: o.hpa + i, perm: o.perm });
          } else {
            let removed = 0;
            for (let i = 0; i < o.count; i++) if (model.delete(o.first + i)) removed++;
            expect(table.unmap(o.first, o.count)).toBe(removed);
          }
          expect(table.size).toBe(model.size);
        }
        for (let page = 0; page < 300; page++) {
          const entry = table.get(page);
          expect(entry === undefined ? undefined : { ...entry }).toEqual(model.get(page));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('maps a gigabyte as one extent', () => {
    const table = new PageTable();
    table.map(0, 262_144, 0x80000, 3);
    expect(table.size).toBe(262_144);
    expect({ ...table.get(262_143)! }).toEqual({ hpaPage: 0x80000 + 262_143, perm: 3 });
    expect(table.unmap(100, 1)).toBe(1);
    expect(table.get(100)).toBeUndefined();
    expect(table.get(101)?.hpaPage).toBe(0x80000 + 101);
  });
});
