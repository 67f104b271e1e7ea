/**
 * SR-IOV (SR-IOV 1.1) and ARI (PCIe 6.3 §6.13): VF Routing IDs from First VF
 * Offset and VF Stride, bus numbers reserved for VFs, VF BARs as slices of
 * the PF's VF BARs, paths inside the device with and without ACS, and the
 * IOMMU groups Linux forms for VFs.
 */
import { describe, expect, it } from 'vitest';
import { formatRid } from '../../src/pcie/bdf.ts';
import { enumerate } from '../../src/fabric/enumerate.ts';
import { TopologyError, type FunctionConfig, type SriovConfig } from '../../src/fabric/topology.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { perBusGroups } from '../../src/policy/groups-per-bus.ts';
import { topologyFromEnumeration } from '../../src/policy/pci-topology.ts';
import { acs, build, fabricConfig } from './build.ts';

const vfIds = (n: number) => Array.from({ length: n }, (_, i) => `vf${i}`);
const sriov = (over: Partial<SriovConfig> = {}): SriovConfig => ({ vfs: vfIds(4), offset: 0x80, stride: 2, vfBars: [{ size: 0x4000 }], ari: true, ...over });

function nic(over: Partial<SriovConfig> = {}, pf: Partial<FunctionConfig> = {}): FunctionConfig[] {
  return [
    { id: 'rp0', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'pf', kind: 'endpoint', parent: 'rp0', bars: [{ size: 0x10_0000 }], sriov: sriov(over), ...pf },
    { id: 'rp1', kind: 'root-port', acs: acs(['SV', 'RR', 'CR', 'UF']) },
    { id: 'other', kind: 'endpoint', parent: 'rp1', bars: [{ size: 0x1000 }] },
  ];
}

const rids = (functions: FunctionConfig[]) => {
  const e = enumerate(fabricConfig(functions));
  return Object.fromEntries(e.scanOrder.map((f) => [f.config.id, formatRid(f.rid)]));
};

describe('VF Routing IDs (SR-IOV 1.1 §2.1.2; Linux pci_iov_virtfn_bus/devfn)', () => {
  it.each<[string, Partial<SriovConfig>, Record<string, string>]>([
    ['offset 0x80, stride 2 (82576-like): device 0x10, every other function', {}, { vf0: '01:10.0', vf1: '01:10.2', vf2: '01:10.4', vf3: '01:10.6' }],
    ['offset 1, stride 1: ARI functions 1..4 of device 0', { offset: 1, stride: 1 }, { vf0: '01:00.1', vf1: '01:00.2', vf2: '01:00.3', vf3: '01:00.4' }],
    ['offset 0x10, stride 1: functions 16 to 19 (ARI Function Numbers above 7)', { offset: 0x10, stride: 1 }, { vf0: '01:02.0', vf3: '01:02.3' }],
    ['offset 0xfe, stride 1: VFs spill onto the next bus number', { offset: 0xfe, stride: 1 }, { vf0: '01:1f.6', vf1: '01:1f.7', vf2: '02:00.0', vf3: '02:00.1' }],
  ])('%s', (_name, over, expected) => {
    expect(rids(nic(over))).toMatchObject(expected);
  });

  it('bus numbers the VFs spill onto are reserved before the next bridge gets its bus (pci_iov_bus_range)', () => {
    const r = rids(nic({ offset: 0xfe, stride: 1 }));
    expect([r['rp1'], r['other']]).toEqual(['00:02.0', '03:00.0']);
    const e = enumerate(fabricConfig(nic({ offset: 0xfe, stride: 1 })));
    expect(e.byId.get('rp0')!.buses).toEqual({ secondary: 1, subordinate: 2 });
  });

  it('without ARI, a VF at a device number other than 0 below a PCIe port is an error (PCIe 6.3 §6.13)', () => {
    expect(() => enumerate(fabricConfig(nic({ ari: false })))).toThrow(TopologyError);
    expect(() => enumerate(fabricConfig(nic({ ari: false, offset: 1, stride: 1 })))).not.toThrow();
  });

  it('a VF Routing ID that another function has is an error naming the PF', () => {
    const functions: FunctionConfig[] = [
      { id: 'rp0', kind: 'root-port' },
      { id: 'pf', kind: 'endpoint', parent: 'rp0', package: 'card', sriov: sriov({ offset: 1, stride: 1 }) },
      { id: 'f1', kind: 'endpoint', parent: 'rp0', package: 'card' },
    ];
    try {
      enumerate(fabricConfig(functions));
      expect.unreachable();
    } catch (error) {
      expect([(error as TopologyError).code, (error as TopologyError).subject, (error as TopologyError).field]).toEqual(['DUPLICATE_BDF', 'pf', 'sriov']);
    }
  });
});

describe('VF BARs are slices of the PF’s VF BAR (SR-IOV 1.1 §3.3.14; Linux pci_iov_add_virtfn)', () => {
  it('VF n’s BAR is the PF’s VF BAR base + n × size, aligned to the size and inside the root port’s window', () => {
    const t = build(nic({ vfBars: [{ size: 0x4000 }, { size: 0x1000 }] }));
    const vf = (n: number, i: number) => t.fabric.fn(`vf${n}`).bars[i]!.base;
    expect(vf(1, 0) - vf(0, 0)).toBe(0x4000);
    expect(vf(3, 1) - vf(0, 1)).toBe(3 * 0x1000);
    expect(vf(0, 0) % 0x4000).toBe(0);
    const w = t.fabric.fn('rp0').windows.memory!;
    expect(vf(3, 0) + 0x4000).toBeLessThanOrEqual(w.base + w.size);
  });

  it('the PF’s SR-IOV capability reads NumVFs, First VF Offset and VF Stride', () => {
    const t = build(nic());
    const cfg = t.fabric.fn('pf').config;
    const base = cfg.findExtendedCapability(0x0010);
    expect([cfg.read(base + 0x10, 2), cfg.read(base + 0x14, 2), cfg.read(base + 0x16, 2)]).toEqual([4, 0x80, 2]);
  });
});

describe('paths inside an SR-IOV device (PCIe 6.3 §6.12.1.2: SR-IOV devices are handled as multi-function)', () => {
  const write = (functions: FunctionConfig[], from: string, to: string) => {
    const t = build(functions);
    const tlp = t.send(from, { type: 'MemWr', address: t.fabric.fn(to).bars[0]!.base });
    return { path: t.path(tlp), tlp };
  };

  it('without the device’s ACS, a VF reaches another VF’s BAR and the PF’s inside the device', () => {
    expect(write(nic(), 'vf0', 'vf1').path).toEqual(['vf0:p2p-direct', 'vf1:delivered']);
    expect(write(nic(), 'vf0', 'pf').path).toEqual(['vf0:p2p-direct', 'pf:delivered']);
  });

  it('with RR on the PF (and so on its VFs) the write leaves the device', () => {
    expect(write(nic({}, { acs: acs(['RR', 'CR'], ['RR', 'CR', 'EC', 'DT']) }), 'vf0', 'vf1').path.slice(0, 2)).toEqual(['vf0:redirect-up', 'rp0:upstream-forward']);
  });

  it('an egress vector indexed by the ARI Function Number blocks one VF: VF1 is function 0x82 (130), beyond 32 bits', () => {
    const blocking = acs(['EC'], ['RR', 'CR', 'EC', 'DT'], 1n << 130n, 256);
    expect(write(nic({}, { acs: blocking }), 'vf0', 'vf1').tlp.reason).toBe('acs.egress-control');
    expect(write(nic({}, { acs: blocking }), 'vf0', 'vf2').path).toEqual(['vf0:p2p-direct', 'vf2:delivered']);
  });

  it('a VF’s own BAR is its own: always reached', () => {
    expect(write(nic({}, { acs: acs(['RR', 'CR'], ['RR', 'CR', 'EC', 'DT']) }), 'vf2', 'vf2').tlp.outcome).toBe('delivered');
  });
});

describe('IOMMU groups with VFs as Linux forms them (drivers/iommu/iommu.c pci_device_group; drivers/pci/iov.c)', () => {
  it('each VF gets a group of its own, whatever the device’s ACS: a VF is not multifunction (virtfn->multifunction = 0)', () => {
    for (const pfAcs of [undefined, acs([], ['RR', 'CR', 'EC', 'DT'])]) {
      const topology = topologyFromEnumeration(enumerate(fabricConfig(nic({}, pfAcs ? { acs: pfAcs } : {}))));
      for (const groups of [classicGroups(topology), perBusGroups(topology)]) {
        const vfGroups = groups.groups.filter((g) => g.devices.some((d) => ['0000:01:10.0', '0000:01:10.2'].includes(d)));
        expect(vfGroups.map((g) => g.devices)).toEqual([['0000:01:10.0'], ['0000:01:10.2']]);
      }
    }
  });

  it('VFs are probed after the boot-time scan (sriov_enable → pci_iov_add_virtfn)', () => {
    const topology = topologyFromEnumeration(enumerate(fabricConfig(nic())));
    expect(topology.functions.map((f) => f.label).slice(-4)).toEqual(vfIds(4));
    expect(topology.functions.find((f) => f.label === 'vf1')!.physfn).toBe('0000:01:00.0');
  });

  it('a VF below a root port without ACS joins the port’s group, as the PF does', () => {
    const functions = nic().map((f) => (f.id === 'rp0' ? { id: 'rp0', kind: 'root-port' as const } : f));
    const topology = topologyFromEnumeration(enumerate(fabricConfig(functions)));
    const group = classicGroups(topology).groups.find((g) => g.devices.includes('0000:00:01.0'))!;
    expect(group.devices).toEqual(['0000:00:01.0', '0000:01:00.0', '0000:01:10.0', '0000:01:10.2', '0000:01:10.4', '0000:01:10.6']);
  });
});
