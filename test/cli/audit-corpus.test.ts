/**
 * `tlplab audit` on every corpus dump that `groups` reads (root and
 * non-root): each builds a machine as firmware assigned it and audits
 * without an internal error — exit 0 (nothing succeeds) or 1 (something
 * does), with a non-empty report. Before issue 12, eleven of these exited 3.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditExitCode, auditReportFor } from '../../src/cli/commands/audit.ts';

const dir = join(import.meta.dirname, '../fixtures/corpus');
const dumps = readdirSync(dir).filter((f) => f.endsWith('.lspci.txt')).sort();

/** Exit 0 on these, and why nothing succeeds. */
const NOTHING_REACHABLE: Record<string, string> = {
  'asus-g14-ga402nv-usb4-dock-nonroot.lspci.txt': 'non-root: every routed attack depends on hidden ACS; the forged MSI is blocked by interrupt remapping',
  'dell-inspiron-14-5425-ryzen-nonroot.lspci.txt': 'non-root: as above',
  'gigabyte-b760m-ds3h-raptorlake-pericom.lspci.txt': 'two root ports, no endpoint: nothing to attack from',
  'intel-x99-i7-5930k-asmedia-switch.lspci.txt': 'three root ports, no endpoint',
  'lenovo-yoga7-2in1-14akp10-amd.lspci.txt': 'one function: no victim; its forged MSI is blocked',
  'nxp-ls1028a-arm64-rciep.lspci.txt': 'RCiEPs with ACS RR (and SV) in control: P2P redirected, forged IDs unknown (no port above)',
};

describe('tlplab audit on every corpus dump', () => {
  it('covers all 26 lspci dumps of the corpus', () => expect(dumps).toHaveLength(26));

  it.each(dumps)('%s audits: exit 0/1, a non-empty report', { timeout: 30_000 }, (name) => {
    const report = auditReportFor({ path: join(dir, name) });
    const code = auditExitCode(report);
    expect(code).toBe(name in NOTHING_REACHABLE ? 0 : 1);
    expect(report.schema).toBe('tlplab/audit-v1');
    expect(report.devices.length).toBeGreaterThan(0);
    expect(report.groups.groups.length + report.groups.unknown.length).toBeGreaterThan(0);
    const counted = report.summary.succeeds + report.summary.stopped + report.summary.contained + report.summary.unknown;
    expect(counted).toBe(report.findings.length);
    // Every success carries its path and at least one way to stop it; every unknown says what it depends on.
    for (const f of report.findings) {
      if (f.result === 'succeeds') {
        expect(f.path.length).toBeGreaterThan(0);
        expect(f.stoppers.length).toBeGreaterThan(0);
      }
      if (f.result === 'unknown') expect(f.detail).not.toBe('');
    }
  });
});
