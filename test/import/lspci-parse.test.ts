import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LspciParseError, parseLspci } from '../../src/import/lspci/parse.ts';
import { fabricFromLspci } from '../../src/import/lspci/to-fabric.ts';
import { enumerate } from '../../src/fabric/enumerate.ts';
import { Acs } from '../../src/pcie/acs.ts';
import { memoryIo } from '../../src/cli/io.ts';
import { runGroups } from '../../src/cli/commands/groups.ts';

const ROOT_PORT = [
  '00:1c.0 PCI bridge [0604]: Intel Corporation Device [8086:a33a] (rev f0) (prog-if 00 [Normal decode])',
  '\tIOMMU group: 7',
  '\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0',
  '\tMemory behind bridge: a1000000-a10fffff [size=1M]',
  '\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00',
  '\tCapabilities: [220 v1] Access Control Services',
  '\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd- EgressCtrl- DirectTrans-',
  '\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd- EgressCtrl- DirectTrans-',
  '\tKernel driver in use: pcieport',
];

describe('lspci format variants (one table, each the same root port)', () => {
  const variants: [string, string][] = [
    ['tabs (lspci -vvvnn)', ROOT_PORT.join('\n')],
    ['8 spaces (Outlook)', ROOT_PORT.map((l) => l.replace(/\t/g, '        ')).join('\n')],
    ['NBSP x7 + space (Thunderbird)', ROOT_PORT.map((l) => l.replace(/\t/g, '\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0 ')).join('\n')],
    ['"> " quoted', ROOT_PORT.map((l) => `> ${l}`).join('\n')],
    ['domain printed (lspci -D)', ROOT_PORT.map((l, i) => (i === 0 ? `0000:${l}` : l)).join('\n')],
    ['Gmail: indentation stripped, ACSCap wrapped', ROOT_PORT.map((l) => l.trim()).join('\n').replace('UpstreamFwd- EgressCtrl- DirectTrans-\nACSCtl', 'UpstreamFwd-\nEgressCtrl- DirectTrans-\nACSCtl')],
  ];
  it.each(variants)('%s', (_name, text) => {
    const [dev] = parseLspci(text).devices;
    expect(dev!.bdf).toEqual({ domain: 0, bus: 0, device: 0x1c, fn: 0 });
    expect(dev!.express?.type).toBe('root-port');
    expect(dev!.acs?.cap).toBe(Acs.SV | Acs.TB | Acs.RR | Acs.CR);
    expect(dev!.acs?.ctl).toBe(Acs.SV | Acs.RR | Acs.CR);
    expect(dev!.bus).toEqual({ primary: 0, secondary: 1, subordinate: 1 });
    expect(dev!.iommuGroup).toBe(7);
    expect(dev!.driver).toBe('pcieport');
  });

  it('-PP path BDFs: the function is the last element, the others are its bridges', () => {
    const [dev] = parseLspci('00:1c.4/07:00.0/08:00.0 PCI bridge [0604]: Intel Corporation JHL7540 [8086:15ea]\n').devices;
    expect(dev!.bdf).toEqual({ domain: 0, bus: 8, device: 0, fn: 0 });
    expect(dev!.path.map((b) => b.bus)).toEqual([0, 7]);
  });

  it('5-hex-digit VMD domain', () => {
    expect(parseLspci('10000:e1:00.0 Non-Volatile memory controller: SK hynix Device\n').devices[0]!.bdf.domain).toBe(0x10000);
  });

  it('errors name the line (pciutils "Bus:" line it cannot read)', () => {
    const text = '00:01.0 PCI bridge: Foo\n\tBus: primary=zz\n';
    expect(() => parseLspci(text)).toThrow(LspciParseError);
    expect(() => parseLspci(text)).toThrow(/^line 2: /);
  });

  it('no device header at all is an error at line 1', () => {
    expect(() => parseLspci('hello\nworld\n')).toThrow(/^line 1: no lspci device header/);
  });
});

const corpus = (name: string) => new URL(`../fixtures/corpus/${name}`, import.meta.url).pathname;

describe('FabricConfig export (pinned bdf, buses, windows, BAR addresses)', () => {
  it.each(['microsoft-surface-i7-8650u-usbc-dock', 'dell-cometlake-u-laptop'])('%s enumerates as the machine was numbered', (name) => {
    const { config, skipped } = fabricFromLspci(parseLspci(readFileSync(corpus(`${name}.lspci.txt`), 'utf8')));
    expect(skipped.map((s) => s.device)).toEqual(['0000:00:00.0']);
    const enumeration = enumerate(config);
    for (const fn of enumeration.scanOrder) expect(fn.config.id).toContain(`:${fn.bus.toString(16).padStart(2, '0')}:`);
  });
});

describe('tlplab groups (CLI)', () => {
  it('prints the sysfs layout and exits 0 when --compare matches', () => {
    const io = memoryIo();
    const code = runGroups(io, { path: corpus('dell-cometlake-u-laptop.lspci.txt'), compare: corpus('dell-cometlake-u-laptop.groups.txt') });
    expect(code).toBe(0);
    expect(io.stdout).toContain('/sys/kernel/iommu_groups/11/devices/0000:00:1c.0');
    expect(io.stdout).toMatch(/22 devices compared, 16 groups match, 0 differ/);
  });

  it('--json follows tlplab/groups-v1 and a non-root dump reports unknown devices', () => {
    const io = memoryIo();
    runGroups(io, { path: corpus('lenovo-thinkpad-e580-nonroot.lspci.txt'), json: true });
    const out = JSON.parse(io.stdout);
    expect(out.schema).toBe('tlplab/groups-v1');
    expect(out.algorithm).toBe('classic');
    expect(out.unknown.length).toBe(16);
    expect(out.groups[0]).toEqual({ id: 0, devices: ['0000:00:00.0'] });
  });

  it('exits 1 when the kernel listing differs (per-bus on the Apple T2 Mac)', () => {
    const io = memoryIo();
    const code = runGroups(io, { path: corpus('apple-t2-mac-cometlake-titanridge.lspci.txt'), algorithm: 'per-bus', compare: corpus('apple-t2-mac-cometlake-titanridge.groups.txt') });
    expect(code).toBe(1);
  });

  it('a scenario file gives the groups of its machine (the 2025 cover-letter switch: classic splits, per-bus merges)', () => {
    const io = memoryIo();
    const reference = new URL('../../scenarios/spoofed-msi.yaml', import.meta.url).pathname;
    expect(runGroups(io, { path: reference, algorithm: 'both' })).toBe(0);
    expect(io.stdout).toContain('per-bus group {0000:02:00.0 0000:02:01.0 0000:03:00.0 0000:04:00.0} <- classic {0000:02:00.0 0000:03:00.0} {0000:02:01.0 0000:04:00.0}');
  });

  it('a missing scenario file names itself', () => {
    expect(() => runGroups(memoryIo(), { path: 'machine.yaml' })).toThrow(/machine.yaml:1:1: cannot read scenario: no such file/);
  });

  it('input errors name file:line', () => {
    expect(() => runGroups(memoryIo(), { path: corpus('README.md') })).toThrow(/README\.md:1: no lspci device header/);
  });
});
