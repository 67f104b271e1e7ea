/**
 * Invariants of routing over random topologies and random traffic
 * (DESIGN.md §1): every TLP ends in exactly one outcome, nothing loops, and
 * the same inputs give the same trace. Machines and traffic are fast-check
 * values built from combinators, so a failure shrinks to a small machine.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../src/sim/kernel.ts';
import { Trace } from '../../src/sim/trace.ts';
import { compileFabric } from '../../src/fabric/fabric.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { ACS_FLAGS, acsMask } from '../../src/pcie/acs.ts';
import type { AddressType, TlpType } from '../../src/pcie/tlp.ts';
import { fabricConfig } from './build.ts';

/** ACS on a port or function: absent (no capability), or every bit implemented with random controls and egress vector. */
const acs = fc.option(fc.record({ ctl: fc.nat(127), egressVector: fc.nat(15) }), { freq: 5 });
const bars = fc.array(fc.integer({ min: 0, max: 5 }).map((shift) => ({ size: 0x1000 << shift })), { minLength: 1, maxLength: 2 });

type Below =
  | { readonly kind: 'device'; readonly functions: readonly { readonly bars: readonly { size: number }[]; readonly acs: { ctl: number; egressVector: number } | null }[] }
  | { readonly kind: 'switch'; readonly ports: readonly { readonly acs: { ctl: number; egressVector: number } | null; readonly below: Below | null }[] }
  | { readonly kind: 'bridge'; readonly devices: readonly (readonly { size: number }[])[] };

/** What sits below a port: a (multifunction) device, a switch (nested up to depth 3) or a PCIe-to-PCI bridge. */
const below: fc.Arbitrary<Below> = fc.letrec<{ below: Below }>((tie) => ({
  below: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('device' as const), functions: fc.array(fc.record({ bars, acs }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('switch' as const), ports: fc.array(fc.record({ acs, below: fc.option(tie('below'), { freq: 9 }) }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('bridge' as const), devices: fc.array(bars, { minLength: 1, maxLength: 3 }) }),
  ),
})).below;

const machine = fc.record({ rootPorts: fc.array(fc.record({ acs, below }), { minLength: 1, maxLength: 3 }), rciep: fc.option(bars) });

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

function functionsOf(m: ValueOf<typeof machine>): FunctionConfig[] {
  const functions: FunctionConfig[] = [];
  let n = 0;
  const withAcs = (a: { ctl: number; egressVector: number } | null) => (a === null ? {} : { acs: { cap: acsMask(ACS_FLAGS), ctl: a.ctl, egressVector: BigInt(a.egressVector) } });
  const place = (parent: string, b: Below): void => {
    if (b.kind === 'device') {
      const multi = b.functions.length > 1;
      for (const f of b.functions) functions.push({ id: `ep${n++}`, kind: 'endpoint', parent, bars: [...f.bars], ...(multi ? withAcs(f.acs) : {}) });
    } else if (b.kind === 'switch') {
      const up = `up${n++}`;
      functions.push({ id: up, kind: 'switch-upstream', parent });
      for (const port of b.ports) {
        const dp = `dp${n++}`;
        functions.push({ id: dp, kind: 'switch-downstream', parent: up, ...withAcs(port.acs) });
        if (port.below !== null) place(dp, port.below);
      }
    } else {
      const br = `br${n++}`;
      functions.push({ id: br, kind: 'pcie-pci-bridge', parent });
      for (const device of b.devices) functions.push({ id: `pci${n++}`, kind: 'pci-device', parent: br, bars: [...device] });
    }
  };
  for (const rp of m.rootPorts) {
    const id = `rp${n++}`;
    functions.push({ id, kind: 'root-port', ...withAcs(rp.acs) });
    place(id, rp.below);
  }
  // Always at least one device that can issue traffic (a switch may end up with empty ports only).
  const issuers = functions.filter((f) => f.kind === 'endpoint' || f.kind === 'pci-device').length;
  if (issuers === 0 || m.rciep !== null) functions.push({ id: `rciep${n++}`, kind: 'rciep', bars: [...(m.rciep ?? [{ size: 0x1000 }])] });
  return functions;
}

/** One injected TLP: from the i-th issuer (mod their count), to a target class, with its type, AT and an optional forged ID. */
const injection = fc.record({
  at: fc.nat(2000),
  from: fc.nat(),
  type: fc.constantFrom<TlpType>('MemWr', 'MemWr', 'MemRd', 'CfgWr', 'Msg'),
  at_: fc.constantFrom<AddressType>('untranslated', 'untranslated', 'translated', 'translation-request'),
  target: fc.oneof(fc.record({ bar: fc.nat(), offset: fc.nat(15) }), fc.record({ address: fc.oneof(fc.nat(0x7fff_ffff), fc.constant(0xfee0_0000), fc.constant(0xf000_0000)) })),
  forged: fc.option(fc.nat(), { freq: 4 }),
  id: fc.nat(),
});

const scenario = fc.record({ machine, traffic: fc.array(injection, { minLength: 1, maxLength: 40 }) });

function simulate({ machine: m, traffic }: ValueOf<typeof scenario>) {
  const kernel = new Kernel();
  const trace = new Trace<FabricEvent>(kernel, { enabled: true });
  const fabric = compileFabric(fabricConfig(functionsOf(m)), kernel, trace);
  const endings = new Map<number, number>();
  fabric.onEnd((tlp) => endings.set(tlp.id, (endings.get(tlp.id) ?? 0) + 1));
  const devices = [...fabric.functions.values()].filter((f) => f.kind === 'endpoint' || f.kind === 'pci-device' || f.kind === 'rciep');
  const allBars = [...fabric.functions.values()].flatMap((f) => f.bars);
  traffic.forEach((t, i) => {
    const from = devices[t.from % devices.length]!;
    const address = 'bar' in t.target ? (allBars.length > 0 ? allBars[t.target.bar % allBars.length]!.base + t.target.offset * 4 : 0) : t.target.address;
    const forged = t.forged === null ? {} : { requesterId: devices[t.forged % devices.length]!.rid };
    const targetId = devices[t.id % devices.length]!.rid;
    kernel.scheduleAt(t.at, { name: `inject ${i}`, handle: () => void fabric.issue(from, { type: t.type, address, at: t.at_, targetId, routing: 'by-id', ...forged }) }, null);
  });
  kernel.run();
  return { fabric, trace, endings };
}

describe('routing invariants (fast-check over random machines and traffic)', () => {
  it('every TLP ends in exactly one terminal outcome and none is left in flight', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { fabric, trace, endings } = simulate(s);
        const issued = trace.records.flatMap((r) => (r.type === 'tlp.issued' ? [r.tlp] : []));
        expect(fabric.inFlight).toBe(0);
        expect([...endings.keys()].sort((a, b) => a - b)).toEqual(issued.sort((a, b) => a - b));
        expect([...endings.values()].every((count) => count === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('no TLP loops (the hop guard never fires)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { trace } = simulate(s);
        expect(trace.records.filter((r) => r.type === 'tlp.ended' && r.reason === 'route.loop')).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('the same machine and traffic give the same trace, record for record', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        expect(JSON.stringify(simulate(s).trace.records)).toBe(JSON.stringify(simulate(s).trace.records));
      }),
      { numRuns: 20 },
    );
  });
});
