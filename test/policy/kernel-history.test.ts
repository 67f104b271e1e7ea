/**
 * The kernel releases attached to every ACS quirk entry (src/policy/quirks.ts)
 * against the Linux source snapshots in test/fixtures/kernel/acs-history.json:
 * each span is recomputed here from the snapshots by the rule of
 * kernel-version.ts (absent from A, present in a release snapshot of B) and
 * must equal the one written in the table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACS_QUIRKS, INTEL_PCH_ACS_LISTS, INTEL_SPT_RANGES, PCH_ENABLE_SKIPPED } from '../../src/policy/quirks.ts';
import { parseKernelVersion, presence, spanText, type KernelSpan } from '../../src/policy/kernel-version.ts';

interface Snapshot {
  version: string;
  repo: string;
  commit: string;
  acsTable: string[];
  intelPchIds: string[];
  intelSptMatch: string | null;
  pchEnableNeedsAcsCap: boolean | null;
  reqAcsFlags: string | null;
  pciBusIsolated: boolean;
}

const history = JSON.parse(readFileSync(new URL('../fixtures/kernel/acs-history.json', import.meta.url), 'utf8')) as { snapshots: Snapshot[] };
/** Not mainline: see test/fixtures/kernel/README.md. */
const NOT_MAINLINE = new Set(['4.15.18', '6.1.0-rc3', '4.3.0-cxlbdev-rc']);
const snapshots = history.snapshots.filter((s) => !NOT_MAINLINE.has(s.version));

const VENDORS: Record<string, number> = {
  PCI_VENDOR_ID_ATI: 0x1002, PCI_VENDOR_ID_AMD: 0x1022, PCI_VENDOR_ID_SOLARFLARE: 0x1924, PCI_VENDOR_ID_INTEL: 0x8086, PCI_VENDOR_ID_QCOM: 0x17cb,
  PCI_VENDOR_ID_HXT: 0x1dbf, PCI_VENDOR_ID_CAVIUM: 0x177d, PCI_VENDOR_ID_AMCC: 0x10e8, PCI_VENDOR_ID_AMPERE: 0x1def, PCI_VENDOR_ID_BROADCOM: 0x14e4,
  PCI_VENDOR_ID_LOONGSON: 0x0014, PCI_VENDOR_ID_AMAZON_ANNAPURNA_LABS: 0x1c36, PCI_VENDOR_ID_ZHAOXIN: 0x1d17, PCI_VENDOR_ID_NXP: 0x1957, PCI_VENDOR_ID_WANGXUN: 0x8088,
};
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
/** "PCI_VENDOR_ID_INTEL:0x10c6:pci_quirk_mf_endpoint_acs" → the table's stable id. */
function entryId(entry: string): string {
  const [vendor, device, fn] = entry.split(':') as [string, string, string];
  const v = VENDORS[vendor] ?? parseInt(vendor, 16);
  return `${fn}/${hex4(v)}:${device === 'any' ? 'any' : device.slice(2)}`;
}

const parts = (v: string) => /^(\d+)\.(\d+)(?:\.(\d+))?(-rc\d+)?/.exec(v)!;
const release = (v: string) => `${parts(v)[1]}.${parts(v)[2]}`;
const order = (v: string) => Number(parts(v)[1]) * 1000 + Number(parts(v)[2]);
/** X.Y.0, X.Y.1 or an -rc tree stands for release X.Y; a later stable tree may carry backports. */
const releaseLike = (v: string) => parts(v)[4] !== undefined || Number(parts(v)[3] ?? 0) <= 1;

/** The span of a fact by kernel-version.ts's rule, from the snapshots. */
function derive(has: (s: Snapshot) => boolean): KernelSpan {
  const first = snapshots.find((s) => releaseLike(s.version) && has(s));
  const byOrder = first ? order(first.version) : Infinity;
  const absent = snapshots.filter((s) => !has(s) && order(s.version) < byOrder);
  const since = { after: absent.length > 0 ? release(absent.at(-1)!.version) : null, by: first ? release(first.version) : null };
  const last = snapshots.filter(has).at(-1);
  const gone = last ? snapshots.find((s) => order(s.version) > order(last.version) && !has(s)) : undefined;
  return gone ? { since, removed: { after: release(last!.version), by: release(gone.version) } } : { since };
}

describe('acs-history.json: the snapshots behind the spans', () => {
  it('run from 3.6 to 6.19 and name their repository and commit', () => {
    expect(snapshots[0]!.version).toBe('3.6.5');
    expect(snapshots.at(-1)!.version).toBe('6.19.0');
    for (const s of snapshots) expect(s.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('REQ_ACS_FLAGS is SV|RR|CR|UF wherever iommu.c defines it (3.17 on), and no release has the per-bus series', () => {
    for (const s of snapshots.filter((x) => order(x.version) >= order('3.17'))) expect(s.reqAcsFlags).toBe('PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF');
    expect(snapshots.filter((s) => s.pciBusIsolated)).toEqual([]);
  });
});

describe('pci_dev_acs_enabled[] entries and the releases they exist in', () => {
  const latest = snapshots.at(-1)!.acsTable.map(entryId);

  it('the table holds every entry of 6.19, in 6.19’s order (the first entry that answers wins)', () => {
    const ids = ACS_QUIRKS.map((q) => q.id);
    const inOrder = ids.filter((id) => latest.includes(id));
    expect(inOrder).toEqual(latest);
  });

  it('identifiers are stable and unique', () => {
    const ids = ACS_QUIRKS.map((q) => q.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const q of ACS_QUIRKS) expect(q.id).toBe(`${q.name}/${hex4(q.vendor)}:${q.device === -1 ? 'any' : hex4(q.device)}`);
  });

  it.each(ACS_QUIRKS.map((q) => [q.id, q] as const))('%s: its span is the one the snapshots give', (id, quirk) => {
    const seen = snapshots.some((s) => s.acsTable.map(entryId).includes(id));
    // Entries in no release snapshot are the linux-next of 2025 the table was written from.
    const expected = seen ? derive((s) => s.acsTable.map(entryId).includes(id)) : { since: { after: '6.19', by: null } };
    expect(quirk.kernels).toEqual(expected);
  });
});

describe('ID lists inside the catch-all Intel quirks', () => {
  it.each(INTEL_PCH_ACS_LISTS.map((l) => [l.name, l] as const))('pci_quirk_intel_pch_acs_ids[] %s', (_name, list) => {
    const ids = [...list.ids].map((d) => `0x${hex4(d)}`);
    expect(list.kernels).toEqual(derive((s) => ids.every((id) => s.intelPchIds.includes(id))));
  });

  it.each(INTEL_SPT_RANGES.map((l) => [l.name, l] as const))('pci_quirk_intel_spt_pch_acs_match() %s', (_name, list) => {
    const start = `0x${hex4(list.ranges[0]![0])}`;
    expect(list.kernels).toEqual(derive((s) => s.intelSptMatch !== null && s.intelSptMatch.includes(start)));
  });

  it('the 5.9 regression: pci_acs_init() enabled ACS (and so the PCH quirk) only for devices with an ACS capability in 5.9 alone', () => {
    expect(PCH_ENABLE_SKIPPED.kernels).toEqual(derive((s) => s.pchEnableNeedsAcsCap === true));
    expect(spanText(PCH_ENABLE_SKIPPED.kernels)).toBe('added in 5.9, removed in 5.10');
  });
});

describe('presence of a span in a release (kernel-version.ts)', () => {
  const wellsburg = INTEL_PCH_ACS_LISTS.find((l) => l.name.startsWith('Wellsburg'))!.kernels; // after 3.19, by 4.9
  const series300 = INTEL_SPT_RANGES.find((l) => l.name === '300 series')!.kernels; // 4.18 only
  it.each([
    [wellsburg, '3.19', 'no'],
    [wellsburg, '4.4', 'unknown'],
    [wellsburg, '4.9', 'yes'],
    [wellsburg, '6.19.3', 'yes'],
    [series300, '4.15', 'no'],
    [series300, '4.18', 'yes'],
    [series300, '4.19', 'no'],
    [series300, '4.16', 'unknown'],
  ] as const)('%j on %s: %s', (span, version, expected) => expect(presence(span, parseKernelVersion(version))).toBe(expected));

  it('without a version the newest table is meant: present unless removed', () => {
    expect(presence(wellsburg, undefined)).toBe('yes');
    expect(presence(series300, undefined)).toBe('no');
  });

  it.each([['2.6.32'], ['banana'], ['5']])('rejects %s', (text) => expect(() => parseKernelVersion(text)).toThrow(/--kernel/));
});
