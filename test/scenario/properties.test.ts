/**
 * Properties of whole machines (buildMachine through runVariant), with
 * shrinkable fast-check generators built from combinators:
 * - every run keeps its invariants (every step ran, every TLP ended once,
 *   nothing in flight) and the same seed gives the same result;
 * - under full isolation (ACS SV/TB/RR/CR/UF on every port, VT-d DMA and
 *   interrupt remapping with source-ID checks and CFI clear, strict
 *   invalidation, no device TLB, page-granular grants, one owner per
 *   device and per conventional bus) no random attack breaches;
 * - byte-exactness: a random access's breach bytes, per victim, equal the
 *   foreign ungranted bytes an independent per-byte oracle counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadScenario } from '../../src/scenario/load.ts';
import { runVariant } from '../../src/scenario/runner.ts';
import { FULL_ACS, isolatedScenario, principal } from './isolated-machines.ts';

const runText = (text: string, seed = 1) => {
  const loaded = loadScenario('random.yaml', text);
  return runVariant(loaded, loaded.variants[0]!, seed);
};

describe('whole machines under random attacks', () => {
  it('keep the run invariants, and the same seed gives the same result', () => {
    fc.assert(
      fc.property(isolatedScenario, (text) => {
        const a = runText(text);
        const b = runText(text);
        expect(JSON.stringify(a.result)).toBe(JSON.stringify(b.result));
        expect(a.machine.fabric.inFlight).toBe(0);
        const tlpEndings = a.endings.filter((e) => e.tlp !== null).map((e) => e.tlp);
        expect(new Set(tlpEndings).size).toBe(tlpEndings.length);
        expect(tlpEndings.length).toBe(a.ended.length);
      }),
      { numRuns: 40 },
    );
  });

  it('under full isolation are never breached', () => {
    fc.assert(
      fc.property(isolatedScenario, (text) => {
        const { result } = runText(text);
        expect(result.breaches.map((b) => `${b.kind}: ${b.detail}`)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

/** Adjacent small regions in one page, random owners; grants to vm1; the NIC (vm1's) accesses them with no IOMMU. */
const layout = fc.record({
  regions: fc.array(fc.record({ size: fc.integer({ min: 1, max: 16 }).map((n) => n * 16), owner: principal }), { minLength: 2, maxLength: 5 }),
  grants: fc.array(fc.record({ offset: fc.nat(0x1ff), size: fc.integer({ min: 1, max: 0x100 }), perm: fc.constantFrom('r', 'w', 'rw') }), { maxLength: 3 }),
  access: fc.record({ offset: fc.nat(0x2ff), length: fc.integer({ min: 1, max: 64 }), op: fc.constantFrom('write', 'read') }),
});

const BASE = 0x10_0000;

describe('byte-exactness (DESIGN.md §3)', () => {
  it('breach bytes per victim equal the foreign, ungranted bytes an independent oracle counts', () => {
    fc.assert(
      fc.property(layout, ({ regions, grants, access }) => {
        let cursor = BASE;
        const memory = regions.map((r, i) => {
          const region = { name: `r${i}`, base: cursor, size: r.size, owner: r.owner };
          cursor += r.size;
          return region;
        });
        const text = stringify({
          schema: 'tlplab/v1',
          name: 'bytes',
          title: 'byte-exactness oracle',
          summary: 'generated',
          sources: ['test'],
          machine: {
            iommu: { model: 'none' },
            memory,
            devices: [
              { id: 'rp0', type: 'root-port', acs: FULL_ACS },
              { id: 'nic', type: 'endpoint', parent: 'rp0', owner: 'vm1', bars: ['4K'] },
            ],
          },
          domains: { vm1: { devices: ['nic'], map: grants.map((g, i) => ({ iova: 0x100_0000 * (i + 1), to: BASE + g.offset, size: g.size, perm: g.perm })) } },
          attack: { attacker: 'vm1', steps: [{ at: '0ns', from: 'nic', [access.op]: BASE + access.offset, size: access.length, ...(access.op === 'write' ? { data: 1 } : {}) }] },
          expect: [{ verdict: 'isolated' }, { verdict: 'breached' }].slice(0, 1),
        });
        const { result } = runText(text);
        // The oracle: byte by byte, who owns it and whether a vm1 grant with the right permission covers it.
        const need = access.op === 'write' ? 'w' : 'r';
        const expected = new Map<string, number>();
        const start = BASE + access.offset;
        // A request is routed by its start address: one that starts outside all memory reaches no region.
        if (memory.some((m) => start >= m.base && start < m.base + m.size)) {
          for (let a = start; a < start + access.length; a++) {
            const owner = memory.find((m) => a >= m.base && a < m.base + m.size)?.owner;
            if (owner === undefined || owner === 'vm1') continue;
            if (grants.some((g) => g.perm.includes(need) && a >= BASE + g.offset && a < BASE + g.offset + g.size)) continue;
            expected.set(owner, (expected.get(owner) ?? 0) + 1);
          }
        }
        const got = new Map(result.breaches.map((b) => [b.victim, b.bytes]));
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
      }),
      { numRuns: 300 },
    );
  });
});
