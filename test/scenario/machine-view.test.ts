/** The picture data of a built machine (src/scenario/machine-view.ts): containers, owners, ACS bits, both groupings. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Acs } from '../../src/pcie/acs.ts';
import { AcsState } from '../../src/fabric/acs-rules.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { buildMachine } from '../../src/scenario/machine.ts';
import { acsBits, machineView, sizeText, type MachineView } from '../../src/scenario/machine-view.ts';
import { selectVariants } from '../../src/scenario/suite.ts';

const scenarios = join(import.meta.dirname, '../../scenarios');

function view(file: string, filter: Record<string, string> = {}): MachineView {
  const loaded = loadScenarioFile(join(scenarios, file));
  return machineView(buildMachine(selectVariants(loaded, filter)[0]!.spec, 1));
}

const node = (v: MachineView, id: string) => v.nodes.find((n) => n.id === id)!;

describe('machine view', () => {
  it('puts root ports in the root complex and a switch\'s ports in one switch box, endpoints below their ports', () => {
    const v = view('spoofed-msi.yaml');
    expect(node(v, 'rp0')).toMatchObject({ kind: 'root-port', parent: 'rc', bdf: '00:1c.0' });
    expect(node(v, 'sw-up').parent).toBe('switch:sw-up');
    expect(node(v, 'sw-dp0').parent).toBe('switch:sw-up');
    expect(node(v, 'nic')).toMatchObject({ parent: null, owner: 'vm1' });
    expect(v.links).toContainEqual({ from: 'sw-dp0', to: 'nic' });
    expect(v.links).toContainEqual({ from: 'host-bridge', to: 'rp0' });
    expect(v.owners).toEqual(['host', 'vm1']);
  });

  it('reads ACS per control: { cap: [SV, RR, CR, UF, EC], ctl: [SV] } is SV on, RR..EC off, TB and DT absent (PCIe 6.0 §7.7.8)', () => {
    expect(node(view('spoofed-msi.yaml'), 'sw-dp1').acs).toEqual({ SV: 'on', TB: 'absent', RR: 'off', CR: 'off', UF: 'off', EC: 'off', DT: 'absent' });
  });

  it('marks SV, RR, CR, UF missing from the capability as hard-wired on, as Linux pci_acs_flags_enabled() does', () => {
    expect(acsBits(new AcsState(true, Acs.SV, Acs.SV, 0n, 32))).toEqual({ SV: 'on', TB: 'absent', RR: 'hard-wired', CR: 'hard-wired', UF: 'hard-wired', EC: 'absent', DT: 'absent' });
    expect(acsBits(null)).toBeNull();
  });

  it('says "no ACS capability" only where ACS matters: a downstream port without it', () => {
    const v = view('p2p-behind-switch.yaml', { 'machine.devices.sw-dp0.acs': 'none' });
    expect(node(v, 'sw-dp0')).toMatchObject({ acs: null, acsRelevant: true });
    expect(node(v, 'sw-up')).toMatchObject({ acs: null, acsRelevant: false });
  });

  it('has both groupings: classic gives the GPU a group of its own port, per-bus joins the whole switch bus and, without USP_MT_RR, its upstream port (Gunthorpe v3 03/11, 10/11)', () => {
    const v = view('p2p-behind-switch.yaml', { 'machine.devices.sw-dp0.acs': 'none', 'machine.kernel.groups': 'per-bus' });
    expect(v.groupsUsed).toBe('per-bus');
    expect(v.groups.classic.map((g) => g.members)).toContainEqual(['sw-dp0', 'gpu']);
    expect(v.groups['per-bus'].map((g) => g.members)).toContainEqual(['sw-up', 'sw-dp0', 'sw-dp1', 'gpu', 'nvme']);
  });

  it('draws a multifunction device as one box holding its functions', () => {
    const v = view('multifunction-no-acs.yaml');
    const fns = v.nodes.filter((n) => n.parent?.startsWith('device:'));
    expect(fns.map((n) => n.id)).toEqual(['gpu', 'gpu-audio']);
    expect(node(v, fns[0]!.parent!).kind).toBe('device');
  });

  it.each([
    [2 ** 31, '2G'],
    [64 * 1024, '64K'],
    [3 * 1024, '3K'],
    [100, '100 B'],
  ])('sizes %d as %s', (bytes, text) => expect(sizeText(bytes)).toBe(text));
});
