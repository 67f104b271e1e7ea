/** tlplab audit: the library's attacks on an imported machine (issue 7). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';
import type { AuditReport } from '../../src/scenario/audit.ts';

const corpus = (name: string) => join(import.meta.dirname, '../fixtures/corpus', name);

async function audit(...argv: string[]): Promise<{ code: number; report: AuditReport; stderr: string }> {
  const io = memoryIo();
  const code = await main(['audit', ...argv, '--json'], io);
  return { code, report: code === 0 ? (JSON.parse(io.stdout) as AuditReport) : (null as never), stderr: io.stderr };
}

describe('tlplab audit on the Dell Comet Lake laptop (root dump, kernel groups in the corpus)', () => {
  it('finds P2P only among functions of multifunction PCH devices without ACS — the devices Linux groups together', async () => {
    const { code, report } = await audit(corpus('dell-cometlake-u-laptop.lspci.txt'));
    expect(code).toBe(0);
    const p2p = report.findings.filter((f) => f.attack === 'p2p-bar-write' && f.result === 'succeeds');
    expect(p2p.length).toBeGreaterThan(0);
    for (const f of p2p) expect(f.attacker.slice(0, 10)).toBe(f.victim!.slice(0, 10)); // same bus:device
    // The NVMe drive and the card reader sit behind root ports with ACS: nothing reaches them peer to peer.
    expect(p2p.filter((f) => f.victim === '0000:02:00.0' || f.victim === '0000:01:00.0')).toEqual([]);
  });

  it('forged requester IDs behind a root port with SV are stopped there; integrated devices are unknown, not guessed', async () => {
    const { report } = await audit(corpus('dell-cometlake-u-laptop.lspci.txt'));
    const behindPort = report.findings.filter((f) => f.attacker === '0000:02:00.0' && f.attack === 'forged-requester-id');
    expect(behindPort.every((f) => f.result === 'stopped' && f.detail.includes('acs.source-validation'))).toBe(true);
    const integrated = report.findings.filter((f) => f.attacker === '0000:00:14.0' && f.attack === 'forged-requester-id');
    expect(integrated.every((f) => f.result === 'unknown')).toBe(true);
  });

  it.each([
    ['on', 'stopped'],
    ['off', 'succeeds'],
  ])('a forged MSI with interrupt remapping %s %s', async (ir, result) => {
    const { report } = await audit(corpus('dell-cometlake-u-laptop.lspci.txt'), '--interrupt-remapping', ir);
    const msi = report.findings.filter((f) => f.attack === 'msi-injection');
    expect(msi.length).toBe(report.devices.length);
    expect(new Set(msi.map((f) => f.result))).toEqual(new Set([result]));
  });
});

describe('tlplab audit without root', () => {
  it('never invents ACS: what depends on it is unknown', async () => {
    const { report } = await audit(corpus('lenovo-thinkpad-e580-nonroot.lspci.txt'));
    expect(report.findings.filter((f) => f.attack !== 'msi-injection' && f.result === 'succeeds').every((f) => f.detail.length > 0)).toBe(true);
    expect(report.skipped.length + report.findings.filter((f) => f.result === 'unknown').length).toBeGreaterThan(0);
  });

  it('rejects bad options with exit 2', async () => {
    const { code, stderr } = await audit(corpus('dell-cometlake-u-laptop.lspci.txt'), '--iommu', 'smmu');
    expect(code).toBe(2);
    expect(stderr).toContain('--iommu must be vtd, amd-vi or none');
  });
});
