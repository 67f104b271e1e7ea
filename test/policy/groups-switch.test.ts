import { describe, expect, it } from 'vitest';
import { enumerate } from '../../src/fabric/enumerate.ts';
import { topologyFromEnumeration } from '../../src/policy/pci-topology.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { perBusGroups } from '../../src/policy/groups-per-bus.ts';
import { diffPartitions, isSamePartition } from '../../src/policy/group-diff.ts';
import type { GroupResult } from '../../src/policy/group-result.ts';
import { acs, fabricConfig, switchPair } from '../fabric/build.ts';
import { ACS_ENHANCED, REQUIRED_ACS, acsMask, memoryTargetBits } from '../../src/pcie/acs.ts';

const topology = (functions: Parameters<typeof fabricConfig>[0]) => topologyFromEnumeration(enumerate(fabricConfig(functions)));
const partition = (r: GroupResult) => r.groups.map((g) => [...g.devices]);

// Cover letter of "Fix incorrect iommu_groups with PCIe ACS" (v3, 2025-09-05): root port -> USP -> two DSPs
// without ACS, one endpoint each. Enumerated: rp0 00:01.0, up 01:00.0, dp0 02:00.0, dp1 02:01.0, a 03:00.0, b 04:00.0.
describe('the 2025 series cover-letter topology (root port -> switch -> two DSPs without ACS)', () => {
  const topo = topology(switchPair(undefined));

  it('classic pci_device_group(): each endpoint only joins its own DSP (pci_acs_path_enabled(USP) passes), the bug the series fixes', () => {
    expect(partition(classicGroups(topo))).toEqual([['0000:00:01.0'], ['0000:01:00.0'], ['0000:02:00.0', '0000:03:00.0'], ['0000:02:01.0', '0000:04:00.0']]);
  });

  // With patch 10/11 (ACS Enhanced), a DSP without an ACS capability cannot promise USP_MT_RR either:
  // pcie_switch_isolated() returns PCIE_NON_ISOLATED and the upstream port (its MMIO is reachable) joins.
  it('per-bus isolation (pcie_switch_isolated: PCIE_NON_ISOLATED, no USP_MT_RR) puts the upstream port, both DSPs and both endpoints in one group', () => {
    expect(partition(perBusGroups(topo))).toEqual([['0000:00:01.0'], ['0000:01:00.0', '0000:02:00.0', '0000:02:01.0', '0000:03:00.0', '0000:04:00.0']]);
  });

  it('the diff names the merged group', () => {
    const diff = diffPartitions(partition(classicGroups(topo)), partition(perBusGroups(topo)));
    expect(isSamePartition(diff)).toBe(false);
    expect(diff.onlyRight).toEqual([['0000:01:00.0', '0000:02:00.0', '0000:02:01.0', '0000:03:00.0', '0000:04:00.0']]);
    expect(diff.onlyLeft).toHaveLength(3);
  });

  it('DSPs with ACS Enhanced that redirect the upstream port’s MMIO but not their own keep the upstream port out (PCIE_SWITCH_DSP_NON_ISOLATED)', () => {
    const enhanced = { cap: acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']) | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits('redirect', 'usp') };
    const result = partition(perBusGroups(topology(switchPair(enhanced))));
    expect(result).toEqual([['0000:00:01.0'], ['0000:01:00.0'], ['0000:02:00.0', '0000:02:01.0', '0000:03:00.0', '0000:04:00.0']]);
  });

  it('DSPs with ACS Enhanced redirecting both memory targets isolate every endpoint', () => {
    const enhanced = { cap: acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']) | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits('redirect', 'usp') | memoryTargetBits('redirect', 'dsp') };
    expect(partition(perBusGroups(topology(switchPair(enhanced))))).toHaveLength(6);
  });

  it('a root port with ACS Enhanced whose own-MMIO control is direct is not isolated (DSP_MT_RR), one that redirects is', () => {
    const rp = (dsp: 'direct' | 'redirect') => ({ cap: acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']) | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits(dsp, 'dsp') });
    const full = acs(['SV', 'RR', 'CR', 'UF']);
    expect(partition(perBusGroups(topology(switchPair(full, full, rp('direct'))))).length).toBeLessThan(6);
    expect(partition(perBusGroups(topology(switchPair(full, full, rp('redirect')))))).toHaveLength(6);
  });
});

describe('cover letter: asymmetric ACS (one DSP isolating, one not) still spoils the switch bus', () => {
  const topo = topology(switchPair(acs(['SV', 'RR', 'CR', 'UF']), acs([])));
  it('classic isolates the ACS-protected side (pci_acs_path_enabled from the DSP up)', () => {
    expect(partition(classicGroups(topo))).toContainEqual(['0000:03:00.0']);
  });
  it('per-bus groups all four (pcie_switch_isolated: any non-isolating DSP spoils the bus)', () => {
    expect(partition(perBusGroups(topo))).toContainEqual(['0000:02:00.0', '0000:02:01.0', '0000:03:00.0', '0000:04:00.0']);
  });
});

describe('fully isolating ACS: both algorithms give single-device groups', () => {
  const topo = topology(switchPair(acs(['SV', 'RR', 'CR', 'UF'])));
  it('same partition, six groups', () => {
    const classic = partition(classicGroups(topo));
    expect(classic).toHaveLength(6);
    expect(isSamePartition(diffPartitions(classic, partition(perBusGroups(topo))))).toBe(true);
  });
});
