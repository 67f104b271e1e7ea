/**
 * Invariants of routing over random topologies and random traffic
 * (DESIGN.md §1): every TLP ends in exactly one outcome, nothing loops, and
 * the same seed gives the same trace.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../src/sim/kernel.ts';
import { Rng } from '../../src/sim/rng.ts';
import { Trace } from '../../src/sim/trace.ts';
import { compileFabric, type Fabric } from '../../src/fabric/fabric.ts';
import type { FabricEvent } from '../../src/fabric/events.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { ACS_FLAGS, acsMask } from '../../src/pcie/acs.ts';
import type { AddressType, TlpType } from '../../src/pcie/tlp.ts';
import { fabricConfig } from './build.ts';

/** A random machine: root ports with endpoints, switches (nested) or PCIe-to-PCI bridges below. */
function randomTopology(rng: Rng): FunctionConfig[] {
  const functions: FunctionConfig[] = [];
  let n = 0;
  const randomAcs = () => (rng.next() < 0.2 ? {} : { acs: { cap: acsMask(ACS_FLAGS), ctl: rng.int(128), egressVector: BigInt(rng.int(16)) } });
  const bars = () => Array.from({ length: 1 + rng.int(2) }, () => ({ size: 0x1000 << rng.int(6) }));
  const below = (parent: string, depth: number): void => {
    const choice = rng.int(depth > 2 ? 2 : 4);
    if (choice <= 1) {
      const fns = 1 + rng.int(choice === 0 ? 1 : 3);
      for (let f = 0; f < fns; f++) functions.push({ id: `ep${n++}`, kind: 'endpoint', parent, bars: bars(), ...(fns > 1 ? randomAcs() : {}) });
    } else if (choice === 2) {
      const up = `up${n++}`;
      functions.push({ id: up, kind: 'switch-upstream', parent });
      for (let d = 0, ports = 1 + rng.int(3); d < ports; d++) {
        const dp = `dp${n++}`;
        functions.push({ id: dp, kind: 'switch-downstream', parent: up, ...randomAcs() });
        if (rng.next() < 0.9) below(dp, depth + 1);
      }
    } else {
      const br = `br${n++}`;
      functions.push({ id: br, kind: 'pcie-pci-bridge', parent });
      for (let d = 0, devices = 1 + rng.int(3); d < devices; d++) functions.push({ id: `pci${n++}`, kind: 'pci-device', parent: br, bars: bars() });
    }
  };
  for (let r = 0, ports = 1 + rng.int(3); r < ports; r++) {
    const rp = `rp${n++}`;
    functions.push({ id: rp, kind: 'root-port', ...randomAcs() });
    below(rp, 1);
  }
  // Always at least one device that can issue traffic (a switch may end up with empty ports only).
  const issuers = functions.filter((f) => f.kind === 'endpoint' || f.kind === 'pci-device').length;
  if (issuers === 0 || rng.next() < 0.5) functions.push({ id: `rciep${n++}`, kind: 'rciep', bars: bars() });
  return functions;
}

/** Random traffic: writes and reads to BARs, memory, holes and the MSI window; forged IDs; AT values. */
function randomTraffic(fabric: Fabric, kernel: Kernel, rng: Rng, count: number): void {
  const devices = [...fabric.functions.values()].filter((f) => f.kind === 'endpoint' || f.kind === 'pci-device' || f.kind === 'rciep');
  const bars = [...fabric.functions.values()].flatMap((f) => f.bars);
  const types: TlpType[] = ['MemWr', 'MemWr', 'MemRd', 'CfgWr', 'Msg'];
  const ats: AddressType[] = ['untranslated', 'untranslated', 'translated', 'translation-request'];
  for (let i = 0; i < count; i++) {
    const from = rng.pick(devices);
    const pick = rng.int(5);
    const address =
      pick < 2 && bars.length > 0 ? rng.pick(bars).base + rng.int(16) * 4 : pick === 2 ? rng.int(0x8000_0000) : pick === 3 ? 0xfee0_0000 : 0xf000_0000;
    const type = rng.pick(types);
    const forged = rng.next() < 0.2 ? { requesterId: rng.pick(devices).rid } : {};
    kernel.scheduleAt(rng.int(2000), { name: `inject ${i}`, handle: () => void fabric.issue(from, { type, address, at: rng.pick(ats), targetId: rng.pick(devices).rid, routing: 'by-id', ...forged }) }, null);
  }
}

function simulate(seed: number) {
  const rng = new Rng(seed);
  const kernel = new Kernel();
  const trace = new Trace<FabricEvent>(kernel, { enabled: true });
  const fabric = compileFabric(fabricConfig(randomTopology(rng.fork('topology'))), kernel, trace);
  const endings = new Map<number, number>();
  fabric.onEnd((tlp) => endings.set(tlp.id, (endings.get(tlp.id) ?? 0) + 1));
  randomTraffic(fabric, kernel, rng.fork('traffic'), 40);
  kernel.run();
  return { fabric, trace, endings };
}

describe('routing invariants (fast-check over random machines and traffic)', () => {
  it('every TLP ends in exactly one terminal outcome and none is left in flight', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { fabric, trace, endings } = simulate(seed);
        const issued = trace.records.filter((r) => r.type === 'tlp.issued').map((r) => r.tlp);
        expect(fabric.inFlight).toBe(0);
        expect([...endings.keys()].sort((a, b) => a - b)).toEqual(issued.sort((a, b) => a - b));
        expect([...endings.values()].every((count) => count === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('no TLP loops (the hop guard never fires)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { trace } = simulate(seed);
        expect(trace.records.filter((r) => r.type === 'tlp.ended' && r.reason === 'route.loop')).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('the same seed gives the same trace, record for record', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        expect(JSON.stringify(simulate(seed).trace.records)).toBe(JSON.stringify(simulate(seed).trace.records));
      }),
      { numRuns: 20 },
    );
  });
});
