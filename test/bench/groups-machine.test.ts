/** The generated machine of figure 4: exact size, several PCI segments (256 buses each), and the features the figure claims. */
import { describe, expect, it } from 'vitest';
import { generateGroupsMachine } from '../../src/bench/groups-machine.ts';
import { benchGroups } from '../../src/bench/groups-bench.ts';

describe('generated groups machine', () => {
  const topology = generateGroupsMachine(10_000);

  it('has exactly the requested number of functions, over several segments, each within 256 buses', () => {
    expect(topology.functions).toHaveLength(10_000);
    const domains = new Set(topology.functions.map((f) => f.bdf.domain));
    expect(domains.size).toBeGreaterThan(1);
    expect(Math.max(...topology.functions.map((f) => f.bdf.bus))).toBeLessThan(256);
    expect(new Set(topology.functions.map((f) => f.key)).size).toBe(10_000);
  });

  it('has two switch levels, PCIe-to-PCI bridges, multifunction devices, quirk-listed IDs and mixed ACS', () => {
    const upstreamBelowDownstream = topology.functions.filter((f) => f.portType === 'upstream' && topology.byKey.get(f.parent!)?.portType === 'downstream');
    expect(upstreamBelowDownstream.length).toBeGreaterThan(0);
    expect(topology.functions.some((f) => f.portType === 'pcie-pci-bridge')).toBe(true);
    expect(topology.functions.some((f) => f.portType === 'conventional' && f.multifunction)).toBe(true);
    expect(topology.functions.some((f) => f.portType === 'endpoint' && f.multifunction)).toBe(true);
    expect(topology.functions.some((f) => f.ids?.device === 0x10fb)).toBe(true);
    const dsp = topology.functions.filter((f) => f.portType === 'downstream');
    expect(new Set(dsp.map((f) => (f.acs.kind === 'present' ? f.acs.ctl : -1))).size).toBe(3);
  });

  it('is deterministic', () => {
    expect(generateGroupsMachine(3000).functions).toEqual(generateGroupsMachine(3000).functions);
  });

  it.each([1, 2, 137, 1497])('reaches exactly %i functions', (n) => {
    expect(generateGroupsMachine(n).functions).toHaveLength(n);
  });

  it('benchGroups reports both algorithms on that machine', () => {
    const figures = benchGroups(500, { warmups: 0, runs: 1 });
    expect(figures).toMatchObject({ functions: 500, segments: 1, targetMs: 200 });
    expect(figures.classicGroups).toBeGreaterThan(0);
    expect(figures.perBusGroups).toBeGreaterThan(0);
  });
});
