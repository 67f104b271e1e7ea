/**
 * One truth for the hardware (issue 14): every entry of Linux's ACS quirk
 * table (pci_dev_acs_enabled[], src/policy/quirks.ts) names the silicon fact
 * it relies on, and a device with that identity both shapes the kernel's
 * groups and routes by that fact. Walks the table: wherever the groups say
 * two devices are apart, a peer write between them passes the translation
 * agent; with `honours-quirk: false` the groups stay apart and the write
 * goes around it.
 */
import { describe, expect, it } from 'vitest';
import { Acs } from '../../src/pcie/acs.ts';
import { enumerate } from '../../src/fabric/enumerate.ts';
import { SILICON, type SiliconFact } from '../../src/fabric/silicon.ts';
import type { FunctionConfig } from '../../src/fabric/topology.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { perBusGroups } from '../../src/policy/groups-per-bus.ts';
import type { GroupResult } from '../../src/policy/group-result.ts';
import { topologyFromEnumeration } from '../../src/policy/pci-topology.ts';
import { ACS_QUIRKS } from '../../src/policy/quirks.ts';
import { Checker } from '../../src/scenario/checker.ts';
import { siliconFactFor, wireSilicon } from '../../src/scenario/silicon-wiring.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { acs, build, fabricConfig } from '../fabric/build.ts';

const ANY = -1;
/** A device ID each vendor-wide (PCI_ANY_ID) quirk matches, from the ranges its function tests. */
const SAMPLE_DEVICE: Record<string, number> = {
  [SILICON.intelRciep.id]: 0x09a2,
  [SILICON.intelPch.id]: 0x8c10,
  [SILICON.intelSpt.id]: 0xa110,
  [SILICON.cavium.id]: 0xa000,
  [SILICON.zhaoxinPorts.id]: 0x0710,
  [SILICON.wangxun.id]: 0x1001,
};

interface Bench {
  readonly functions: FunctionConfig[];
  /** The peer write: from `from` into the first BAR of `to`. */
  readonly from: string;
  readonly to: string;
}

/** The smallest machine where the fact's claim decides whether two devices reach each other. */
function bench(fact: SiliconFact, ids: { vendor: number; device: number }): Bench {
  const full = acs(['SV', 'RR', 'CR', 'UF']);
  const bar = [{ size: 0x1000 }];
  if (fact.places.includes('root-port')) {
    // Two root ports as functions of one device (00:1c.0, 00:1c.1), an endpoint below each.
    const rpAcs = fact.controlElsewhere ? { acs: { cap: Acs.SV | Acs.RR | Acs.CR | Acs.UF, ctl: 0 } } : {};
    return {
      functions: [
        { id: 'rp-a', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 0 }, ids, ...rpAcs },
        { id: 'rp-b', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 1 }, ids, ...rpAcs },
        { id: 'ep-a', kind: 'endpoint', parent: 'rp-a', bars: bar },
        { id: 'ep-b', kind: 'endpoint', parent: 'rp-b', bars: bar },
      ],
      from: 'ep-a',
      to: 'ep-b',
    };
  }
  if (fact.places.includes('downstream-port')) {
    return {
      functions: [
        { id: 'rp0', kind: 'root-port', acs: full },
        { id: 'up', kind: 'switch-upstream', parent: 'rp0' },
        { id: 'dp-a', kind: 'switch-downstream', parent: 'up', ids },
        { id: 'dp-b', kind: 'switch-downstream', parent: 'up', ids },
        { id: 'ep-a', kind: 'endpoint', parent: 'dp-a', bars: bar },
        { id: 'ep-b', kind: 'endpoint', parent: 'dp-b', bars: bar },
      ],
      from: 'ep-a',
      to: 'ep-b',
    };
  }
  // A two-function device: an RCiEP on the root bus (RCiEP facts, southbridge functions), else an endpoint.
  const onRootBus = fact.places.includes('rciep') || fact === SILICON.amdSouthbridge;
  const kind = onRootBus ? 'rciep' : 'endpoint';
  const parent = onRootBus ? {} : { parent: 'rp0' };
  return {
    functions: [
      { id: 'rp0', kind: 'root-port', acs: full },
      { id: 'f0', kind, package: 'dev', ids, bars: bar, ...parent },
      { id: 'f1', kind, package: 'dev', ids, bars: bar, ...parent },
    ],
    from: 'f0',
    to: 'f1',
  };
}

function wired(functions: FunctionConfig[], honoured: boolean): FunctionConfig[] {
  const check = new Checker((_path, message, code) => ({ file: 'bench', line: 1, column: 1, message, code }));
  const honours = new Map(functions.filter((f) => f.ids).map((f) => [f.id, { honoured, path: [] }]));
  const result = wireSilicon(enumerate(fabricConfig(functions)), functions, honours, {}, check);
  expect(check.diagnostics).toEqual([]);
  return result;
}

/** Whether the peer write went through the root complex (the translation agent) rather than around it. */
function passesTranslationAgent(b: Bench, functions: FunctionConfig[]): boolean {
  const t = build(functions);
  const tlp = t.send(b.from, { type: 'MemWr', address: t.fabric.fn(b.to).bars[0]!.base });
  expect([tlp.outcome, tlp.target?.name]).toEqual(['delivered', `${b.to}.bar0`]);
  return t.path(tlp).includes('root-complex:decode');
}

function apart(result: GroupResult, b: Bench, labels: Map<string, string>): boolean {
  const groupOf = (id: string) => result.groups.findIndex((g) => g.devices.some((key) => labels.get(key) === id));
  return groupOf(b.from) !== groupOf(b.to);
}

const entries = ACS_QUIRKS.map((q) => {
  const fact = q.silicon;
  const device = q.device === ANY ? SAMPLE_DEVICE[fact.id]! : q.device;
  return { name: `${q.vendor.toString(16).padStart(4, '0')}:${device.toString(16).padStart(4, '0')} ${fact.quirk}`, fact, ids: { vendor: q.vendor, device } };
});

describe('every quirk of pci_dev_acs_enabled[] names a silicon fact', () => {
  it('no entry but the ACS override (a kernel option) lacks one', () => {
    expect(ACS_QUIRKS.every((q) => q.silicon.quirk === q.name)).toBe(true);
    expect(new Set(entries.map((e) => e.fact.id)).size).toBe(Object.keys(SILICON).length);
  });
});

describe.each(entries)('$name', ({ fact, ids }) => {
  const b = bench(fact, ids);
  const enumeration = enumerate(fabricConfig(b.functions));
  const topology = topologyFromEnumeration(enumeration);
  const labels = new Map(topology.functions.map((f) => [f.key, f.label]));

  it('the identity selects this fact, the one Linux’s answering quirk relies on', () => {
    const identified = topology.functions.filter((f) => f.ids !== undefined);
    expect(identified.map((f) => siliconFactFor(f)?.id)).toEqual(identified.map(() => fact.id));
  });

  it.each([
    ['classic', classicGroups],
    ['per-bus', perBusGroups],
  ] as const)('%s groups and routing agree: devices the groups keep apart meet only through the translation agent', (_name, groups) => {
    if (apart(groups(topology), b, labels)) expect(passesTranslationAgent(b, wired(b.functions, true))).toBe(true);
  });

  it('the classic groups rely on the claim: they keep the two devices apart', () => {
    expect(apart(classicGroups(topology), b, labels)).toBe(true);
  });

  it('honours-quirk: false — the groups stay apart, the write goes around the translation agent', () => {
    expect(passesTranslationAgent(b, wired(b.functions, false))).toBe(false);
  });
});

describe('the scenario layer wires identity to behaviour', () => {
  const scenario = (extra: string) => `
schema: tlplab/v1
name: pch
title: PCH root ports
summary: two PCH root ports
sources: [drivers/pci/quirks.c]
machine:
  memory:
    - { name: host-ram, base: 0x0, size: 1G, owner: host }
  devices:
    - { id: rp0, type: root-port, bdf: "00:1c.0", ids: "8086:8c10"${extra} }
    - { id: rp1, type: root-port, bdf: "00:1c.1", ids: "8086:8c12" }
    - { id: a, type: endpoint, parent: rp0, bars: [4K], owner: vm1 }
    - { id: b, type: endpoint, parent: rp1, bars: [4K] }
attack:
  attacker: vm1
  steps:
    - { at: 0ns, from: a, write: { bar: b.0 }, data: 1 }
expect:
  - verdict: isolated
`;

  it('an Intel PCH root port gets the PCH fact, in force', () => {
    const loaded = loadScenario('pch.yaml', scenario(''));
    const rp0 = loaded.variants[0]!.spec.machine.fabric.functions.find((f) => f.id === 'rp0')!;
    expect([rp0.silicon?.fact.id, rp0.silicon?.forced, rp0.silicon?.honoured]).toEqual([SILICON.intelPch.id, Acs.SV | Acs.RR | Acs.CR | Acs.UF, true]);
  });

  it('honours-quirk on a device no quirk describes is an error naming the key', () => {
    const text = scenario('').replace('- { id: a, type: endpoint, parent: rp0, bars: [4K], owner: vm1 }', '- { id: a, type: endpoint, parent: rp0, bars: [4K], owner: vm1, hardware: { honours-quirk: false } }');
    expect(() => loadScenario('pch.yaml', text)).toThrow(/no ACS quirk of Linux's table describes 'a'/);
  });

  it('honours-quirk: false keeps the fact for explain but puts nothing in force', () => {
    const loaded = loadScenario('pch.yaml', scenario(', hardware: { honours-quirk: false }'));
    const rp0 = loaded.variants[0]!.spec.machine.fabric.functions.find((f) => f.id === 'rp0')!;
    expect([rp0.silicon?.fact.id, rp0.silicon?.honoured]).toEqual([SILICON.intelPch.id, false]);
  });

  it('a class code is one identity: config space carries it, and Linux’s class tests read it (0x0c0330: xHCI, so USB)', () => {
    const text = scenario('').replace('- { id: b, type: endpoint, parent: rp1, bars: [4K] }', '- { id: b, type: endpoint, parent: rp1, bars: [4K], ids: "8086:a36d", class: 0x0c0330, revision: 0x10 }');
    const machine = loadScenario('pch.yaml', text).variants[0]!.spec.machine;
    expect(machine.fabric.functions.find((f) => f.id === 'b')!.ids).toEqual({ vendor: 0x8086, device: 0xa36d, class: 0x0c0330, revision: 0x10 });
    expect(machine.functions.find((f) => f.id === 'b')!.class).toBe('usb');
  });
});
