/**
 * The importer and both grouping algorithms on every real machine of the
 * corpus (test/fixtures/corpus/README.md gives each file's source and category).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLspci } from '../../src/import/lspci/parse.ts';
import { topologyFromLspci } from '../../src/import/lspci/to-topology.ts';
import { listingPartition, parseGroupListing } from '../../src/import/groups/listing.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { perBusGroups } from '../../src/policy/groups-per-bus.ts';
import { diffPartitions } from '../../src/policy/group-diff.ts';
import { pciAcsEnabled, REQ_ACS_FLAGS } from '../../src/policy/acs-check.ts';
import type { GroupResult } from '../../src/policy/group-result.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/corpus/${name}`, import.meta.url), 'utf8');
const imported = (name: string) => topologyFromLspci(parseLspci(fixture(`${name}.lspci.txt`)));
const partition = (r: GroupResult) => r.groups.map((g) => [...g.devices]);
const real = (file: string) => listingPartition(parseGroupListing(fixture(file)));

// SOURCES.md stats: devices = device header lines.
const DEVICE_COUNTS: [string, number, string?][] = [
  ['acer-predator-helios-neo16-raptorlake-vmd', 38],
  ['apple-t2-mac-cometlake-titanridge-nonroot', 33],
  ['apple-t2-mac-cometlake-titanridge', 33],
  ['arm-n1sdp-plx-switch', 16],
  ['asrock-amd-990fx-nonroot', 31],
  ['asus-g14-ga402nv-usb4-dock-nonroot', 43],
  ['asus-raptorlake-desktop-ath9k-nonroot', 36],
  ['candelatech-skylake-e3-pcie-switches', 44, 'SOURCES.md says 43: it does not count the header the poster truncated to "0:00.0 Host bridge", which we read'],
  ['dell-1028-075b-kabylake-da300-dock', 22],
  ['dell-cometlake-u-laptop', 22],
  ['dell-inspiron-14-5425-ryzen-nonroot', 31],
  ['dell-xps15-9500', 31],
  ['gigabyte-b760m-ds3h-raptorlake-pericom', 2],
  ['icelake-sp-connectx7-sriov', 2],
  ['intel-x99-i7-5930k-asmedia-switch', 3, 'SOURCES.md counts 6 header lines: each of the 3 functions is printed twice (lspci -vvvv, then lspci -xxxx)'],
  ['intel-xeon-e5-2618lv3-wellsburg', 86],
  ['intel-xeon-e5v3-2socket-i40e', 201],
  ['kabylake-laptop-iwlwifi-boot-device-missing', 19],
  ['kabylake-laptop-iwlwifi-boot-ok', 20],
  ['lenovo-20uh-amd-renoir-DEGRADED', 37],
  ['lenovo-meteorlake-laptop-nonroot', 28],
  ['lenovo-thinkpad-e580-nonroot', 21],
  ['lenovo-yoga7-2in1-14akp10-amd', 1],
  ['microsoft-surface-i7-8650u-usbc-dock', 25],
  ['nxp-imx8-pericom-switch-lan743x', 7],
  ['nxp-ls1028a-arm64-rciep', 8],
];

describe('lspci importer on every corpus dump', () => {
  it.each(DEVICE_COUNTS)('%s parses with %i functions', (name, count) => {
    const dump = parseLspci(fixture(`${name}.lspci.txt`));
    expect(dump.devices).toHaveLength(count);
    const { topology } = topologyFromLspci(dump);
    expect(topology.functions).toHaveLength(count);
  });

  const NON_ROOT = DEVICE_COUNTS.map(([n]) => n).filter((n) => n.endsWith('-nonroot'));
  it.each(NON_ROOT)('%s: <access denied> yields unknown ACS and port type, never invented', (name) => {
    const dump = parseLspci(fixture(`${name}.lspci.txt`));
    const { topology } = topologyFromLspci(dump);
    const denied = dump.devices.filter((d) => d.capabilitiesDenied);
    expect(denied.length).toBeGreaterThan(0);
    for (const d of denied) {
      const fn = topology.functions.find((f) => f.bdf.bus === d.bdf.bus && f.bdf.device === d.bdf.device && f.bdf.fn === d.bdf.fn && f.bdf.domain === d.bdf.domain)!;
      expect(fn.acs.kind).toBe('unknown');
      expect(fn.portType).toBe('unknown');
    }
    const result = classicGroups(topology);
    expect(result.unknown.length).toBeGreaterThan(0);
    // What can be decided without root must agree with the kernel (devices it groups and we decided).
    const diff = diffPartitions(partition(result), real(`${name}.groups.txt`));
    expect(diff.onlyLeft).toEqual([]);
    expect(diff.onlyRight).toEqual([]);
  });
});

// Category A/D machines: root dumps whose groups came from the same boot. Classic must match exactly.
interface Machine {
  name: string;
  kernel: string;
  /** Devices the kernel lists in no group, with the reason. */
  notGrouped?: { devices: string[]; why: string };
  /** Expected per-bus vs kernel differences, with the reason. */
  perBusDiffers?: { groups: string[][]; why: string };
}

const MACHINES: Machine[] = [
  {
    name: 'apple-t2-mac-cometlake-titanridge',
    kernel: '6.12',
    perBusDiffers: {
      groups: [['0000:00:01.0'], ['0000:01:00.0'], ['0000:02:00.0'], ['0000:03:00.0'], ['0000:03:00.1']],
      why: 'CPU root port 00:01.0 has no ACS capability: classic merges everything below it; the series treats a root port without ACS as isolated ("no ACS cap then no loopback"), and the Navi GPU functions have an ACS capability implementing nothing (all bits count as enabled)',
    },
  },
  { name: 'dell-cometlake-u-laptop', kernel: '~5.10' },
  { name: 'microsoft-surface-i7-8650u-usbc-dock', kernel: '5.15.13 (Arch)' },
  { name: 'acer-predator-helios-neo16-raptorlake-vmd', kernel: '6.15.9 (Fedora 42)' },
  {
    name: 'nxp-ls1028a-arm64-rciep',
    kernel: '~6.5 (arm64, SMMU)',
    notGrouped: {
      devices: ['0000:00:00.0', '0000:00:00.1', '0000:00:00.6', '0000:00:1f.0'],
      why: 'disabled/unbound ENETC functions and the RCEC were never attached to the SMMU (no iommu_probe_device), so sysfs has no group for them',
    },
  },
  {
    name: 'lenovo-20uh-amd-renoir-DEGRADED',
    kernel: '5.18 (Debian)',
    notGrouped: {
      devices: ['0000:00:00.0', '0000:00:00.2'],
      why: 'amd_iommu does not probe the root complex 00:00.0 nor the IOMMU function 00:00.2 itself (not covered as IVRS devices), so they have no group',
    },
  },
];

describe.each(MACHINES)('$name (kernel $kernel) against its real groups', (machine) => {
  const { topology } = imported(machine.name);
  const kernelGroups = real(`${machine.name}.groups.txt`);

  it('classic pci_device_group() reproduces every kernel group exactly', () => {
    const result = classicGroups(topology);
    expect(result.unknown).toEqual([]);
    const diff = diffPartitions(partition(result), kernelGroups);
    expect(diff.onlyLeft).toEqual([]);
    expect(diff.onlyRight).toEqual([]);
    expect(diff.missingLeft).toEqual([]);
    expect(diff.missingRight).toEqual(machine.notGrouped?.devices ?? []);
  });

  it(machine.perBusDiffers ? `per-bus differs: ${machine.perBusDiffers.why}` : 'per-bus gives the same partition on this machine', () => {
    const diff = diffPartitions(partition(perBusGroups(topology)), kernelGroups);
    expect(diff.onlyLeft).toEqual(machine.perBusDiffers?.groups ?? []);
  });
});

describe('intel-x99-i7-5930k-asmedia-switch (category B: 3-function lspci, full listings from 5.8 and 5.9)', () => {
  const { topology } = imported('intel-x99-i7-5930k-asmedia-switch');
  const pch = topology.byKey.get('0000:00:1c.4')!;

  it('00:1c.4 is a Wellsburg PCH root port without an ACS capability (ids read from the lspci -xxxx dump)', () => {
    expect(pch.acs.kind).toBe('none');
    expect(pch.ids?.vendor).toBe(0x8086);
    expect(pch.ids?.device).toBe(0x8d18);
  });

  it('pci_quirk_intel_pch_acs: isolated on 5.8 (quirk enabled), not on 5.9 (52fbf5bdeeef skipped pci_quirk_enable_intel_pch_acs)', () => {
    expect(pciAcsEnabled(pch, REQ_ACS_FLAGS, {})).toBe(true);
    expect(pciAcsEnabled(pch, REQ_ACS_FLAGS, { intelPchAcsQuirkEnabled: false })).toBe(false);
  });

  it('the three functions in the dump match the 5.8 listing (restricted to them)', () => {
    const diff = diffPartitions(partition(classicGroups(topology)), real('intel-x99-i7-5930k-asmedia-switch.groups.txt'));
    expect(diff.compared).toBe(3);
    expect(diff.onlyLeft).toEqual([]);
    expect(diff.onlyRight).toEqual([]);
  });

  it('the 5.9 listing merges the PCH root ports 00:1c.x (only 00:1c.4 is in the dump, so the restricted partition cannot show it)', () => {
    const listing = real('intel-x99-i7-5930k-asmedia-switch.groups-kernel5.9-regression.txt');
    expect(listing.find((g) => g.includes('0000:00:1c.4'))).toEqual(expect.arrayContaining(['0000:00:1c.0', '0000:00:1c.3', '0000:00:1c.4']));
  });
});

describe('gigabyte-b760m-ds3h-raptorlake-pericom (category B: listing made with v2 of the 2025 series)', () => {
  const { topology } = imported('gigabyte-b760m-ds3h-raptorlake-pericom');
  it('00:1c.1 was dumped with lspci -v (ACS capability listed without registers): unknown, so 00:1c.0 (same slot, no ACS) is unknown too', () => {
    expect(topology.byKey.get('0000:00:1c.1')!.acs.kind).toBe('unknown');
    const result = classicGroups(topology);
    expect(result.unknown.map((u) => u.device)).toEqual(['0000:00:1c.0', '0000:00:1c.1']);
  });
  it('the v2 mega-group listing is read with its -PP paths', () => {
    const group = real('gigabyte-b760m-ds3h-raptorlake-pericom.groups.txt')[0]!;
    expect(group.length).toBeGreaterThan(4);
    expect(group).toContain('0000:00:1c.0');
  });
});

describe('dmesg group listings (category F)', () => {
  it('hp-proliant-dl388p-gen8: 156 of the 157 "Adding to iommu group" lines are readable', () => {
    const listing = parseGroupListing(fixture('hp-proliant-dl388p-gen8.groups.txt'));
    // "[   25.416b.0: Adding to iommu group 57" lost its BDF to the mail client; "[   20000:20:00.0" glued a timestamp digit on.
    expect(listing.size).toBe(156);
    expect(listing.get('0000:20:00.0')).toBe(26);
  });
  it('lenovo-yoga7: the ACPI platform device MSFT0201:00 in group 0 is not a PCI device and is skipped', () => {
    const listing = parseGroupListing(fixture('lenovo-yoga7-2in1-14akp10-amd.groups.txt'));
    expect([...listing.values()]).not.toContain(0);
    expect(listing.get('0000:04:00.7')).toBeDefined();
  });
});
