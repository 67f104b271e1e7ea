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

const FULL_ACS = ['SV', 'TB', 'RR', 'CR', 'UF'];
const PRINCIPALS = ['host', 'vm1', 'vm2'] as const;
const RAM: Record<string, number> = { host: 0x0, vm1: 0x1000_0000, vm2: 0x1100_0000 };
const RAM_SIZE = 0x100_0000;

const principal = fc.constantFrom(...PRINCIPALS);
const barSizes = fc.array(fc.constantFrom('4K', '16K', '64K'), { minLength: 1, maxLength: 2 });
const device = fc.record({ owner: principal, bars: barSizes, msi: fc.integer({ min: 0, max: 2 }), functions: fc.integer({ min: 1, max: 3 }) });
const below = fc.oneof(
  fc.record({ kind: fc.constant('endpoint' as const), device }),
  fc.record({ kind: fc.constant('switch' as const), ports: fc.array(device, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('bridge' as const), owner: principal, cards: fc.array(fc.record({ bars: barSizes, msi: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 2 }) }),
);
const topology = fc.array(below, { minLength: 1, maxLength: 3 });

type DeviceShape = { owner: string; bars: string[]; msi: number; functions: number };
type Below = { kind: 'endpoint'; device: DeviceShape } | { kind: 'switch'; ports: DeviceShape[] } | { kind: 'bridge'; owner: string; cards: { bars: string[]; msi: number }[] };

interface Built {
  readonly devices: Record<string, unknown>[];
  /** Function ids per owner, and every device id with BARs. */
  readonly byOwner: Record<string, string[]>;
  readonly withBars: string[];
}

/**
 * Devices for a topology, with full ACS on every port. One owner per device
 * (its functions) and per conventional bus: the fabric cannot keep apart
 * what shares a requester-ID alias or a bus a forged ID can name.
 */
function build(t: readonly Below[], attacker: string): Built {
  const devices: Record<string, unknown>[] = [];
  const byOwner: Record<string, string[]> = { host: [], vm1: [], vm2: [] };
  const withBars: string[] = [];
  let n = 0;
  const endpoint = (parent: string, d: DeviceShape) => {
    const id = `ep${n++}`;
    withBars.push(id);
    if (d.functions === 1) {
      devices.push({ id, type: 'endpoint', parent, owner: d.owner, bars: d.bars, ...(d.msi > 0 ? { msi: d.msi } : {}) });
      byOwner[d.owner]!.push(id);
      return;
    }
    const functions = Array.from({ length: d.functions }, (_, fn) => ({ id: `${id}f${fn}`, fn, owner: d.owner, bars: d.bars, acs: ['RR', 'CR'], ...(d.msi > 0 ? { msi: d.msi } : {}) }));
    devices.push({ id, type: 'endpoint', parent, functions });
    withBars.pop();
    for (const f of functions) {
      byOwner[d.owner]!.push(f.id);
      withBars.push(f.id);
    }
  };
  t.forEach((e, r) => {
    const rp = `rp${r}`;
    devices.push({ id: rp, type: 'root-port', acs: FULL_ACS });
    if (e.kind === 'endpoint') endpoint(rp, e.device);
    else if (e.kind === 'switch') {
      devices.push({ id: `up${r}`, type: 'switch-upstream', parent: rp });
      e.ports.forEach((d, p) => {
        devices.push({ id: `dp${r}.${p}`, type: 'switch-downstream', parent: `up${r}`, acs: FULL_ACS });
        endpoint(`dp${r}.${p}`, d);
      });
    } else {
      devices.push({ id: `br${r}`, type: 'pcie-pci-bridge', parent: rp });
      for (const card of e.cards) {
        const id = `pci${n++}`;
        devices.push({ id, type: 'pci-device', parent: `br${r}`, owner: e.owner, bars: card.bars, ...(card.msi > 0 ? { msi: card.msi } : {}) });
        byOwner[e.owner]!.push(id);
        withBars.push(id);
      }
    }
  });
  // The attacker needs a device: give it the first function if it has none.
  if (byOwner[attacker]!.length === 0) {
    const first = devices.find((d) => d.type === 'endpoint' || d.type === 'pci-device')!;
    const fns = (first.functions as Record<string, unknown>[] | undefined) ?? [first];
    for (const f of fns) {
      for (const list of Object.values(byOwner)) list.splice(0, list.length, ...list.filter((x) => x !== f.id));
      f.owner = attacker;
      byOwner[attacker]!.push(f.id as string);
    }
    // A conventional bus keeps one owner.
    if (first.type === 'pci-device') {
      for (const d of devices.filter((x) => x.parent === first.parent)) {
        for (const list of Object.values(byOwner)) list.splice(0, list.length, ...list.filter((x) => x !== d.id));
        d.owner = attacker;
        byOwner[attacker]!.push(d.id as string);
      }
    }
  }
  return { devices, byOwner, withBars };
}

const step = (from: fc.Arbitrary<string>, bars: string[]) =>
  fc.oneof(
    fc.record({ at: fc.nat(2000).map((t) => `${t}ns`), from, write: fc.oneof(fc.nat(0x1200_0000), fc.constantFrom(0xfee0_0000, 0xfee0_0010, 0xfee0_1018), fc.nat(0xffff_ffff)), data: fc.nat(0xffff), size: fc.constantFrom(1, 2, 4, 8, 64) }),
    fc.record({ at: fc.nat(2000).map((t) => `${t}ns`), from, read: fc.nat(0x1200_0000), size: fc.constantFrom(4, 64) }),
    fc.record({ at: fc.nat(2000).map((t) => `${t}ns`), from, write: fc.record({ bar: fc.constantFrom(...bars.map((b) => `${b}.0`)), offset: fc.nat(0x3ff).map((o) => o * 4) }), data: fc.nat(0xffff) }),
    fc.record({ at: fc.nat(2000).map((t) => `${t}ns`), from, msi: fc.record({ irte: fc.nat(40) }) }),
    fc.record({ at: fc.nat(2000).map((t) => `${t}ns`), from, 'ats-translate': fc.nat(0x1200_0000).map((a) => a & ~0xfff) }),
  )
    // Valid input only (issue 13): a BAR offset inside the BAR (every BAR here is at least 4 KiB), data that fits its access.
    .map((s) => ('data' in s && 'size' in s && s.size < 4 ? { ...s, data: s.data % 2 ** (8 * s.size) } : s))
    .chain((s) =>
    fc.record({ forged: fc.option(fc.nat(0xffff), { freq: 3 }), translated: fc.boolean() }).map(({ forged, translated }) => ({
      ...s,
      ...(forged === null ? {} : { as: `${(forged >> 8).toString(16).padStart(2, '0')}:${((forged >> 3) & 0x1f).toString(16).padStart(2, '0')}.${forged & 7}` }),
      ...(translated && !('ats-translate' in s) && !('msi' in s) ? { translated: true } : {}),
    })),
  );

/** A whole scenario under full isolation, with random page-granular grants of host memory to vm1. */
const isolatedScenario = fc
  .record({ t: topology, grants: fc.array(fc.record({ page: fc.nat(0xfff), pages: fc.integer({ min: 1, max: 4 }), perm: fc.constantFrom('r', 'w', 'rw') }), { maxLength: 3 }) })
  .chain(({ t, grants }) => {
    const b = build(t, 'vm1');
    return fc.array(step(fc.constantFrom(...b.byOwner.vm1!), b.withBars), { minLength: 1, maxLength: 8 }).map((steps) => ({ b, grants, steps: [...steps].sort((x, y) => parseInt(x.at) - parseInt(y.at)) })); // listed in time order
  })
  .map(({ b, grants, steps }) =>
    stringify({
      schema: 'tlplab/v1',
      name: 'random-isolated',
      title: 'random machine under full isolation',
      summary: 'generated',
      sources: ['test/scenario/properties.test.ts'],
      machine: {
        cpus: 4,
        iommu: { model: 'vtd', 'dma-remapping': 'on', 'interrupt-remapping': 'on', 'source-id-validation': 'on', 'compat-format': 'blocked', invalidation: 'strict' },
        memory: PRINCIPALS.map((p) => ({ name: `${p}-ram`, base: RAM[p]!, size: RAM_SIZE, owner: p })),
        devices: b.devices,
      },
      domains: Object.fromEntries(
        PRINCIPALS.filter((p) => b.byOwner[p]!.length > 0).map((p) => [
          p,
          {
            devices: b.byOwner[p],
            map: [
              { iova: 0, to: `${p}-ram`, size: RAM_SIZE, perm: 'rw' },
              // Host buffers granted whole pages at a time: nothing shares a page with them.
              ...(p === 'vm1' ? dedupe(grants).map((g) => ({ iova: 0x2000_0000 + g.page * 0x10000, to: g.page * 0x10000, size: g.pages * 0x1000, perm: g.perm })) : []),
            ],
          },
        ]),
      ),
      attack: { attacker: 'vm1', steps },
      expect: [{ verdict: 'isolated' }],
    }),
  );

function dedupe<T extends { page: number }>(grants: T[]): T[] {
  return grants.filter((g, i) => grants.findIndex((h) => h.page === g.page) === i);
}

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
