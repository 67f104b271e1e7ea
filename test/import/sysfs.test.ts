/**
 * The sysfs reader (src/import/sysfs) on trees the tests build: a machine
 * with a PCIe switch (one downstream port with ACS, one without), a
 * multifunction GPU without ACS, and a PCIe-to-PCI bridge with two
 * conventional devices — read as root (4096-byte config space) and as a
 * user (64 bytes: capabilities unknown); and real config bytes from the
 * X99 machine's `lspci -xxxx` dump.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFromHex, deviceFromConfig } from '../../src/import/sysfs/config.ts';
import { barsFromResource, readSysfs } from '../../src/import/sysfs/read.ts';
import { parseLspci } from '../../src/import/lspci/parse.ts';
import { topologyFromLspci } from '../../src/import/lspci/to-topology.ts';
import { classicGroups } from '../../src/policy/groups-classic.ts';
import { Acs } from '../../src/pcie/acs.ts';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';
import type { AuditReport } from '../../src/scenario/audit.ts';
import { writeSysfsTree, type SysfsDevice } from './sysfs-tree.ts';

const FULL = { cap: Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF, ctl: Acs.SV | Acs.RR | Acs.CR | Acs.UF };
const M = 0x10_0000;

/**
 * The kernel's groups for this machine, derived by hand from pci_device_group()
 * (see each comment), on a kernel booted with pcie_acs_override=downstream.
 */
const MACHINE: SysfsDevice[] = [
  { bdf: '0000:00:00.0', ids: [0x8086, 0x3e30], classCode: 0x0600, group: 0 },
  // CPU root port with ACS; below it a GPU whose two functions have none: they share a group (get_pci_function_alias_group).
  { bdf: '0000:00:01.0', ids: [0x8086, 0x1901], classCode: 0x0604, pcie: 'root-port', acs: FULL, bridge: { secondary: 1, subordinate: 1, memory: [0xa000_0000, 0xa1ff_ffff] }, driver: 'pcieport', group: 1 },
  { bdf: '0000:01:00.0', parent: '0000:00:01.0', ids: [0x10de, 0x1c82], classCode: 0x0300, pcie: 'endpoint', multifunction: true, msi: true, bars: [[0xa000_0000, 16 * M, false]], driver: 'vfio-pci', group: 2 },
  { bdf: '0000:01:00.1', parent: '0000:00:01.0', ids: [0x10de, 0x0fb9], classCode: 0x0403, pcie: 'endpoint', multifunction: true, bars: [[0xa100_0000, 0x4000, false]], driver: 'snd_hda_intel', group: 2 },
  // PCH root port with ACS → switch: DSP 03:08.0 with ACS isolates the NVMe drive; DSP 03:09.0 has none, which
  // would put the NIC in its group — but the booted pcie_acs_override=downstream claims ACS for it, so both are alone.
  { bdf: '0000:00:1c.0', ids: [0x8086, 0x06b8], classCode: 0x0604, pcie: 'root-port', acs: FULL, bridge: { secondary: 2, subordinate: 5, memory: [0xb000_0000, 0xb03f_ffff] }, group: 3 },
  { bdf: '0000:02:00.0', parent: '0000:00:1c.0', ids: [0x10b5, 0x8747], classCode: 0x0604, pcie: 'upstream', bridge: { secondary: 3, subordinate: 5, memory: [0xb000_0000, 0xb03f_ffff] }, group: 4 },
  { bdf: '0000:03:08.0', parent: '0000:02:00.0', ids: [0x10b5, 0x8747], classCode: 0x0604, pcie: 'downstream', acs: { cap: FULL.cap | Acs.EC, ctl: FULL.ctl }, bridge: { secondary: 4, subordinate: 4, memory: [0xb000_0000, 0xb00f_ffff] }, group: 5 },
  { bdf: '0000:03:09.0', parent: '0000:02:00.0', ids: [0x10b5, 0x8747], classCode: 0x0604, pcie: 'downstream', bridge: { secondary: 5, subordinate: 5, memory: [0xb010_0000, 0xb01f_ffff] }, group: 6 },
  { bdf: '0000:04:00.0', parent: '0000:03:08.0', ids: [0x144d, 0xa808], classCode: 0x0108, pcie: 'endpoint', msi: true, bars: [[0xb000_0000, 0x4000, true]], driver: 'nvme', group: 7 },
  { bdf: '0000:05:00.0', parent: '0000:03:09.0', ids: [0x8086, 0x1533], classCode: 0x0200, pcie: 'endpoint', msi: true, bars: [[0xb010_0000, 0x2_0000, false]], driver: 'igb', group: 11 },
  // Root port with ACS → PCIe-to-PCI bridge: both conventional devices behind it alias to (07, 00.0) and share its group.
  { bdf: '0000:00:1d.0', ids: [0x8086, 0x06b0], classCode: 0x0604, pcie: 'root-port', acs: FULL, bridge: { secondary: 6, subordinate: 7, memory: [0xc000_0000, 0xc00f_ffff] }, group: 8 },
  { bdf: '0000:06:00.0', parent: '0000:00:1d.0', ids: [0x12d8, 0xe111], classCode: 0x0604, pcie: 'pcie-pci-bridge', bridge: { secondary: 7, subordinate: 7, memory: [0xc000_0000, 0xc00f_ffff] }, group: 9 },
  { bdf: '0000:07:00.0', parent: '0000:06:00.0', ids: [0x1106, 0x3044], classCode: 0x0c00, bars: [[0xc000_0000, 0x800, false]], driver: 'firewire_ohci', group: 9 },
  { bdf: '0000:07:01.0', parent: '0000:06:00.0', ids: [0x1102, 0x0002], classCode: 0x0401, bars: [[0xc000_1000, 0x1000, false]], group: 9 },
  // PCH multifunction integrated functions without a PCIe capability: conventional, never ACS, one group.
  { bdf: '0000:00:1f.0', ids: [0x8086, 0x0687], classCode: 0x0601, multifunction: true, group: 10 },
  { bdf: '0000:00:1f.3', ids: [0x8086, 0x06c8], classCode: 0x0403, multifunction: true, bars: [[0xd000_0000, 0x4000, true]], driver: 'snd_hda_intel', group: 10 },
];

const readAll = (root: string) => topologyFromLspci(readSysfs(root).dump).topology;
const byKey = (root: string) => readAll(root).byKey;

describe('reading a generated sysfs tree as root (4096-byte config spaces)', () => {
  const root = writeSysfsTree(MACHINE, { cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on intremap=nosid pcie_acs_override=downstream', release: '6.8.0-45-generic' });

  it('reads every function with its PCIe type, bridge, ACS and parent from the /sys/devices path', () => {
    const t = byKey(root);
    expect(t.size).toBe(MACHINE.length);
    expect(t.get('0000:03:08.0')).toMatchObject({ portType: 'downstream', parent: '0000:02:00.0', buses: { secondary: 4, subordinate: 4 }, acs: { kind: 'present', cap: FULL.cap | Acs.EC, ctl: FULL.ctl } });
    expect(t.get('0000:03:09.0')).toMatchObject({ portType: 'downstream', acs: { kind: 'none' } });
    expect(t.get('0000:06:00.0')).toMatchObject({ portType: 'pcie-pci-bridge', isBridge: true });
    expect(t.get('0000:07:01.0')).toMatchObject({ portType: 'conventional', parent: '0000:06:00.0', acs: { kind: 'none' } });
    expect(t.get('0000:01:00.1')).toMatchObject({ multifunction: true, ids: { vendor: 0x10de, device: 0x0fb9 }, driver: 'snd_hda_intel' });
  });

  it('reads the kernel command line, the release and the live groups', () => {
    const live = readSysfs(root);
    expect(live.cmdline).toContain('pcie_acs_override=downstream');
    expect(live.release).toBe('6.8');
    expect(live.groups.get('0000:05:00.0')).toBe(11);
  });

  it('BARs come from `resource` (a 64-bit BAR takes two lines), windows from the bridge registers', () => {
    const dump = readSysfs(root).dump;
    const nvme = dump.devices.find((d) => d.bdf.bus === 4)!;
    expect(nvme.bars).toEqual([{ index: 0, kind: 'memory', address: 0xb000_0000, size: 0x4000, bits: 64, prefetch: false, disabled: false }]);
    const dsp = dump.devices.find((d) => d.bdf.bus === 3 && d.bdf.device === 9)!;
    expect(dsp.windows).toEqual({ memory: { base: 0xb010_0000, limit: 0xb01f_ffff }, prefetchable: null });
  });

  it('classic grouping of what was read (without the override): the switch, the multifunction GPU, the PCIe-to-PCI bridge', () => {
    const groups = classicGroups(readAll(root), {}).groups.map((g) => g.devices.join(' ')).filter((g) => g.includes(' '));
    expect(groups.sort()).toEqual(['0000:00:1f.0 0000:00:1f.3', '0000:01:00.0 0000:01:00.1', '0000:03:09.0 0000:05:00.0', '0000:06:00.0 0000:07:00.0 0000:07:01.0']);
  });

  it('tlplab groups --sysfs models the booted pcie_acs_override and the running release, and matches the live groups (exit 0)', async () => {
    const io = memoryIo();
    expect(await main(['groups', '--sysfs', root], io)).toBe(0);
    expect(io.stdout).toContain(`# compare classic with kernel listing: ${MACHINE.length} devices compared`);
    const json = memoryIo();
    await main(['groups', '--sysfs', root, '--json'], json);
    expect(JSON.parse(json.stdout).kernel).toBe('6.8');
    // Modelled without the override, the DSP and its NIC share a group the live kernel does not have: exit 1.
    expect(await main(['groups', '--sysfs', root, '--acs-override', 'multifunction'], memoryIo())).toBe(1);
  });

  it('groups --why explains the alias group behind the PCIe-to-PCI bridge and the switch port without ACS', async () => {
    const io = memoryIo();
    await main(['groups', '--sysfs', root, '--why', '--acs-override', 'multifunction'], io);
    expect(io.stdout).toContain('#   why: 0000:07:00.0, 0000:07:01.0 reach the IOMMU as 0000:06:00.0 (12d8:e111, PCI bridge: Device 12d8:e111): a bridge to conventional PCI takes ownership of their transactions and tags them with its secondary bus with devfn 00.0 (pci_for_each_dma_alias)');
    expect(io.stdout).toContain('#   why: 0000:05:00.0 share 0000:03:09.0\'s group because 0000:03:09.0 (10b5:8747, PCI bridge: Device 10b5:8747) has no ACS capability and no quirk applies on Linux 6.8');
  });

  it('tlplab audit --sysfs: the command line says intremap=nosid and pcie_acs_override=downstream; exit 1 (the GPU functions reach each other)', async () => {
    const io = memoryIo();
    expect(await main(['audit', '--sysfs', root, '--json'], io)).toBe(1);
    const report = JSON.parse(io.stdout) as AuditReport;
    expect(report.input).toEqual({ kind: 'sysfs', path: root });
    expect(report.options).toMatchObject({ sourceIdValidation: false, kernel: '6.8', acsOverride: 'downstream' });
    expect(report.findings.find((f) => f.id === 'p2p-bar-write:0000:01:00.0->0000:01:00.1')).toMatchObject({ result: 'succeeds' });
    // The NIC behind the DSP without ACS writes past its own port to the NVMe drive's port: routed peer to peer on the switch.
    expect(report.findings.find((f) => f.id === 'p2p-bar-write:0000:05:00.0->0000:04:00.0')).toMatchObject({ result: 'succeeds', stoppers: [expect.objectContaining({ at: '0000:03:09.0', bits: ['RR'] })] });
    // The override splits the DSP without ACS from its NIC; nothing routes differently for it.
    expect(report.whatIf?.splits).toEqual([{ before: ['0000:03:09.0', '0000:05:00.0'], after: [['0000:03:09.0'], ['0000:05:00.0']] }]);
    // Behind the PCIe-to-PCI bridge the two conventional devices reach each other on the shared bus.
    expect(report.findings.find((f) => f.id === 'p2p-bar-write:0000:07:00.0->0000:07:01.0')!.stoppers[0]!.kind).toBe('topology');
  });
});

describe('reading the same tree as a user (64-byte config spaces)', () => {
  const root = writeSysfsTree(MACHINE, { readable: 64 });

  it('capabilities are unknown, never invented: PCIe type and ACS unknown where a capability list exists', () => {
    const t = byKey(root);
    expect(t.get('0000:03:08.0')).toMatchObject({ portType: 'unknown', acs: { kind: 'unknown' } });
    // Conventional functions with no capability list are known to have none.
    expect(t.get('0000:00:1f.0')).toMatchObject({ portType: 'conventional', acs: { kind: 'none' } });
    // The header is always readable: bridges, bus numbers, IDs.
    expect(t.get('0000:02:00.0')).toMatchObject({ isBridge: true, buses: { secondary: 3, subordinate: 5 }, ids: { vendor: 0x10b5, device: 0x8747 } });
  });

  it('grouping what depends on the hidden facts is unknown, and audit says so', async () => {
    expect(classicGroups(readAll(root), {}).unknown.length).toBeGreaterThan(0);
    const io = memoryIo();
    const code = await main(['audit', '--sysfs', root, '--json'], io);
    expect([0, 1]).toContain(code);
    const report = JSON.parse(io.stdout) as AuditReport;
    expect(report.findings.find((f) => f.id === 'p2p-bar-write:0000:05:00.0->0000:04:00.0')!.result).toBe('unknown');
  });
});

describe('real config bytes: the X99 machine’s lspci -xxxx dumps (corpus intel-x99-i7-5930k-asmedia-switch)', () => {
  const text = readFileSync(new URL('../fixtures/corpus/intel-x99-i7-5930k-asmedia-switch.lspci.txt', import.meta.url), 'utf8');
  const hexOf = (bdf: string) => {
    const start = text.indexOf(`lspci -xxxx -s ${bdf}`);
    const end = text.indexOf('\nlspci ', start + 1);
    return configFromHex(text.slice(start, end < 0 ? undefined : end));
  };
  const fromLspci = topologyFromLspci(parseLspci(text)).topology;
  const bdf = (s: string) => ({ domain: 0, bus: parseInt(s.slice(0, 2), 16), device: parseInt(s.slice(3, 5), 16), fn: Number(s.slice(6)) });

  it.each(['00:01.0', '00:01.1', '00:1c.4'])('%s: 4096 bytes decode to the facts lspci -vvvv printed', (name) => {
    const config = hexOf(name);
    expect(config.length).toBe(4096);
    const dev = deviceFromConfig(bdf(name), config, { bars: [], path: [] });
    const fromText = fromLspci.byKey.get(`0000:${name}`)!;
    expect(dev.express?.type).toBe(fromText.portType);
    expect(dev.bus).toBeDefined();
    const acs = dev.acs?.cap === undefined ? { kind: 'none' } : { kind: 'present', cap: dev.acs.cap, ctl: dev.acs.ctl! };
    expect(acs).toEqual(fromText.acs);
  });

  it('00:1c.4 is the Wellsburg PCH port 8086:8d18 without an ACS capability; 00:01.0 has ACSCap 0x1f, ACSCtl 0x1d', () => {
    expect(deviceFromConfig(bdf('00:1c.4'), hexOf('00:1c.4'), { bars: [], path: [] })).toMatchObject({ ids: { vendor: 0x8086, device: 0x8d18 }, express: { type: 'root-port' } });
    expect(deviceFromConfig(bdf('00:01.0'), hexOf('00:01.0'), { bars: [], path: [] }).acs).toMatchObject({ cap: 0x1f, ctl: 0x1d });
  });
});

describe('the resource file', () => {
  it.each([
    ['a 32-bit memory BAR', '0x00000000a0000000 0x00000000a0ffffff 0x0000000000040200', { address: 0xa000_0000, size: 0x100_0000, bits: 32, prefetch: false }],
    ['a 64-bit prefetchable BAR', '0x0000006000000000 0x000000600fffffff 0x000000000014220c', { address: 0x60_0000_0000, size: 0x1000_0000, bits: 64, prefetch: true }],
    ['an I/O BAR', '0x000000000000e000 0x000000000000e07f 0x0000000000040101', { kind: 'io', size: 0x80 }],
    ['an unassigned BAR (start 0)', '0x0000000000000000 0x0000000000003fff 0x0000000000040200', { size: 0x4000 }],
  ])('%s', (_what, line, expected) => {
    const [bar] = barsFromResource(line);
    expect(bar).toMatchObject(expected);
    if (line.startsWith('0x0000000000000000')) expect(bar!.address).toBeUndefined();
  });

  it('an empty line is no BAR', () => expect(barsFromResource('0x0000000000000000 0x0000000000000000 0x0000000000000000')).toEqual([]));
});

describe('bad input', () => {
  it('a directory that is not sysfs is exit 2 naming it', async () => {
    const io = memoryIo();
    expect(await main(['audit', '--sysfs', '/nonexistent-sysfs'], io)).toBe(2);
    expect(io.stderr).toContain('/nonexistent-sysfs/bus/pci/devices: not a sysfs tree');
  });
});
