/**
 * The bus-indexed group algorithms (busMembers in pci-topology.ts) against
 * the scanning code they replaced (test/policy/reference/, a verbatim copy):
 * Linux's pci_device_group() and the 2025 per-bus series walk a pci_bus's
 * device list, and indexing that list by bus must not change a single group,
 * group id, order or unknown-device reason — on every corpus machine, on
 * random topologies with DMA-alias quirks and ACS overrides, and on the
 * generated benchmark machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { enumerate } from '../../src/fabric/enumerate.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { parseLspci } from '../../src/import/lspci/parse.ts';
import { topologyFromLspci } from '../../src/import/lspci/to-topology.ts';
import { ACS_FLAGS, acsMask } from '../../src/pcie/acs.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { perBusGroups } from '../../src/policy/groups-per-bus.ts';
import type { KernelModel } from '../../src/policy/kernel-options.ts';
import { busMembers, makeTopology, sameBus, topologyFromEnumeration, type PciTopology } from '../../src/policy/pci-topology.ts';
import { Rng } from '../../src/sim/rng.ts';
import { generateGroupsMachine } from '../../src/bench/groups-machine.ts';
import { classicGroups as classicScan } from './reference/groups-classic-scan.ts';
import { perBusGroups as perBusScan } from './reference/groups-per-bus-scan.ts';
import { fabricConfig } from '../fabric/build.ts';

function expectSameGroups(topology: PciTopology, kernel: KernelModel = {}): void {
  expect(classicGroups(topology, kernel)).toEqual(classicScan(topology, kernel));
  expect(perBusGroups(topology, kernel)).toEqual(perBusScan(topology, kernel));
}

/** IDs the ACS quirk table knows (pci_dev_acs_enabled[]): an 82599 MFD, Intel PCH and SPT root ports, AMD southbridge. */
const IDS = [undefined, { vendor: 0x8086, device: 0x10fb }, { vendor: 0x8086, device: 0x1c10 }, { vendor: 0x8086, device: 0xa110 }, { vendor: 0x1022, device: 0x780f }];

/** A random machine: nested switches, multifunction endpoints, PCIe-to-PCI bridges with multifunction PCI devices, RCiEP packages. */
function randomMachine(rng: Rng): PciTopology {
  const functions: FunctionConfig[] = [];
  let n = 0;
  const acs = () => (rng.next() < 0.3 ? {} : { acs: { cap: acsMask(ACS_FLAGS), ctl: rng.pick([0, 1, 0x1d, 0x1d, 0x7f, rng.int(128)]) } });
  const ids = () => {
    const id = rng.pick(IDS);
    return id ? { ids: id } : {};
  };
  const below = (parent: string, depth: number): void => {
    const choice = rng.int(depth > 2 ? 2 : 4);
    if (choice <= 1) {
      for (let f = 0, fns = choice === 0 ? 1 : 2 + rng.int(4); f < fns; f++) functions.push({ id: `ep${n++}`, kind: 'endpoint', parent, ...acs(), ...ids() });
    } else if (choice === 2) {
      const up = `up${n++}`;
      functions.push({ id: up, kind: 'switch-upstream', parent, ...(rng.next() < 0.2 ? acs() : {}) });
      for (let d = 0, ports = 1 + rng.int(4); d < ports; d++) {
        const dp = `dp${n++}`;
        functions.push({ id: dp, kind: 'switch-downstream', parent: up, ...acs(), ...ids() });
        if (rng.next() < 0.9) below(dp, depth + 1);
      }
    } else {
      const br = `br${n++}`;
      functions.push({ id: br, kind: 'pcie-pci-bridge', parent, ...(rng.next() < 0.5 ? { bars: [{ size: 0x1000 }] } : {}) });
      for (let d = 0, devices = 1 + rng.int(4); d < devices; d++) {
        for (let f = 0, fns = 1 + rng.int(3); f < fns; f++) functions.push({ id: `pci${n++}`, kind: 'pci-device', parent: br, package: `${br}.${d}` });
      }
    }
  };
  for (let r = 0, ports = 1 + rng.int(3); r < ports; r++) {
    const rp = `rp${n++}`;
    functions.push({ id: rp, kind: 'root-port', ...acs(), ...ids() });
    below(rp, 1);
  }
  for (let f = 0, fns = rng.int(4); f < fns; f++) functions.push({ id: `rciep${n++}`, kind: 'rciep', package: 'rc', ...acs(), ...ids() });
  const base = topologyFromEnumeration(enumerate(fabricConfig(functions)));
  // DMA-alias quirks (pci_add_dma_alias): some functions also use another devfn of their bus.
  return makeTopology(
    base.functions.map((fn) => (rng.next() < 0.15 ? { ...fn, dmaAliasDevfns: [rng.pick(busMembers(base, fn)).bdf.device * 8 + rng.int(2)] } : fn)),
  );
}

const KERNELS: KernelModel[] = [
  {},
  { acsOverride: { downstream: true, multifunction: false, ids: [] } },
  { acsOverride: { downstream: true, multifunction: true, ids: [] }, intelPchAcsQuirkEnabled: false, amdIvrsPresent: false },
];

describe('bus-indexed grouping gives the groups of the scanning code it replaced', () => {
  it('random topologies with DMA aliases, multifunction devices, bridges and ACS overrides (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(...KERNELS), (seed, kernel) => {
        expectSameGroups(randomMachine(new Rng(seed)), kernel);
      }),
      { numRuns: 200 },
    );
  });

  const corpus = new URL('../fixtures/corpus/', import.meta.url);
  const dumps = readdirSync(corpus).filter((f) => f.endsWith('.lspci.txt'));
  it.each(dumps)('corpus machine %s', (file) => {
    const { topology } = topologyFromLspci(parseLspci(readFileSync(new URL(file, corpus), 'utf8')));
    for (const kernel of KERNELS) expectSameGroups(topology, kernel);
  });

  it('the generated benchmark machine (2 000 functions, two segments)', () => {
    expectSameGroups(generateGroupsMachine(2000, 7));
  });

  it('busMembers lists a bus in topology order, like a filter over all functions (struct pci_bus devices)', () => {
    const topology = randomMachine(new Rng(42));
    for (const fn of topology.functions) {
      const scan = topology.functions.filter((o) => o.parent === fn.parent && o.bdf.domain === fn.bdf.domain && o.bdf.bus === fn.bdf.bus);
      expect(busMembers(topology, fn)).toEqual(scan);
      expect(sameBus(topology, fn)).toEqual(scan);
    }
  });
});
