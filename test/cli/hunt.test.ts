/**
 * `tlplab hunt` and `tlplab harden` as users script them: exit 0 when
 * nothing is found (1 when breaches are), 2 for bad input, the JSON
 * documents parsed by their strict schemas, reproducers written and
 * replayed by `tlplab run`, lspci dumps as input, --jobs giving the same
 * findings, and a hardened file that never overwrites its input.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { HardenDocumentSchema } from '../../src/report/harden-schema.ts';
import { HuntDocumentSchema } from '../../src/report/hunt-schema.ts';

const library = join(import.meta.dirname, '../../scenarios');
const spoofed = join(library, 'spoofed-msi.yaml');
const corpus = join(import.meta.dirname, '../fixtures/corpus');

async function tlplab(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, ...io };
}

/** The same, writing real files (for --write-repro and --write). */
async function tlplabOnDisk(...argv: string[]) {
  const io = memoryIo({ disk: true });
  const code = await main(argv, io);
  return { code, stdout: io.stdout + io.stderr };
}

describe('tlplab hunt', () => {
  it('exit 1 with findings, each listed with its path and how it was found', async () => {
    const { code, stdout } = await tlplab('hunt', spoofed, '--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.source-id-validation=on', '--budget', '0');
    expect(code).toBe(1);
    expect(stdout).toContain('F1 bar-write of host  nic → sw-dp0 → sw-dp1 → nvme ⇒ nvme.bar0');
    expect(stdout).toContain('found by foreign-bar: write nvme.bar0 (host\'s)');
    expect(stdout).toMatch(/\d+ finding\(s\) in 1 configuration\(s\)/);
  });

  it('exit 0 when nothing is found (a configuration the gate refuses, or an isolated one)', async () => {
    const { code, stdout } = await tlplab('hunt', join(library, 'dma-ownership.yaml'), '--variant', 'machine.kernel.vfio-viability=enforced', '--variant', 'machine.devices.nic.driver=e1000e', '--budget', '0');
    expect(code).toBe(0);
    expect(stdout).toContain('nothing to explore');
    expect(stdout).toContain('no breach found in 1 configuration(s)');
  });

  it('--json follows tlplab/hunt-v1, and is the same with --jobs 2 (only meta differs)', async () => {
    const one = await tlplab('hunt', join(library, 'irte-index-abuse.yaml'), '--json', '--budget', '5');
    const two = await tlplab('hunt', join(library, 'irte-index-abuse.yaml'), '--json', '--budget', '5', '--jobs', '2');
    const a = HuntDocumentSchema.parse(JSON.parse(one.stdout));
    const b = HuntDocumentSchema.parse(JSON.parse(two.stdout));
    expect(a.findings).toBeGreaterThan(0);
    expect({ ...a, meta: undefined }).toEqual({ ...b, meta: undefined });
    expect(a.meta).toMatchObject({ jobs: 1 });
  });

  it('--write-repro writes each reproducer, replayed; `tlplab run` on them passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlplab-repro-'));
    const { code, stdout } = await tlplabOnDisk('hunt', join(library, 'sub-page-exposure.yaml'), '--variant', 'attack.steps.0.write="0x100c28"', '--budget', '0', '--write-repro', dir);
    expect(code).toBe(1);
    expect(stdout).toContain('(replayed)');
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    const run = await tlplabOnDisk('run', dir);
    expect(run.code).toBe(0);
  });

  it('--markdown and --html write the findings: a table per configuration, each reproducer (its YAML in the page)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlplab-hunt-report-'));
    const md = join(dir, 'hunt.md');
    const html = join(dir, 'hunt.html');
    const { code } = await tlplabOnDisk('hunt', join(library, 'irte-index-abuse.yaml'), '--variant', 'machine.iommu.source-id-validation=off', '--budget', '0', '--markdown', md, '--html', html);
    expect(code).toBe(1);
    const markdown = readFileSync(md, 'utf8');
    expect(markdown).toContain('| finding | breach | from | found by | path |');
    expect(markdown).toMatch(/\| F1 \| foreign-irte of host \|/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<table class="findings">');
    expect(page).toContain('expect:');
    expect(page).not.toContain('<script');
  });

  it('an lspci dump: each endpoint in turn is hostile, what the dump cannot show is stated', async () => {
    const { code, stdout } = await tlplab('hunt', join(corpus, 'dell-cometlake-u-laptop.lspci.txt'), '--attacker', '00:14.3', '--budget', '0', '--json');
    const document = HuntDocumentSchema.parse(JSON.parse(stdout));
    expect(document.input.kind).toBe('lspci');
    expect(document.input.assumptions.join(' ')).toContain('interrupt remapping on');
    expect(document.targets.map((t) => t.attacker)).toEqual(['dev-00-14.3']);
    expect(code).toBe(document.findings > 0 ? 1 : 0);
  });

  it.each([
    [['hunt', join(library, 'no-such.yaml')], /cannot read .*no such file/],
    [['hunt', spoofed, '--variant', 'machine.nope=on'], /not a variant axis/],
    [['hunt', spoofed, '--budget', 'lots'], /--budget needs a non-negative integer/],
    [['hunt', join(corpus, 'dell-cometlake-u-laptop.lspci.txt'), '--attacker', '09:00.0'], /not an endpoint/],
  ])('bad input exits 2 with a message: %j', async (argv, message) => {
    const { code, stderr } = await tlplab(...argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('tlplab harden', () => {
  it('--json follows tlplab/harden-v1; exit 0 when every configuration has a hardening', async () => {
    const { code, stdout } = await tlplab('harden', join(library, 'white-rabbit-msi-injection.yaml'), '--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.x2apic=off', '--budget', '0', '--json');
    const document = HardenDocumentSchema.parse(JSON.parse(stdout));
    expect(code).toBe(0);
    const allowed = document.targets.find((t) => t.variant['machine.iommu.compat-format'] === 'allowed')!;
    expect(allowed.solutions.map((s) => s.changes.map((c) => c.label))).toEqual([['block compatibility-format MSIs (CFI clear)'], ['x2APIC mode (EIME)']]);
    expect(document.targets.find((t) => t.variant['machine.iommu.compat-format'] === 'blocked')!.status).toBe('already-isolated');
  });

  it('--write writes a new file beside the input, never the input; `tlplab run` on it passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlplab-harden-'));
    const input = join(dir, 'deferred.yaml');
    writeFileSync(input, readFileSync(join(library, 'deferred-invalidation-window.yaml'), 'utf8'));
    const before = readFileSync(input, 'utf8');
    const { code } = await tlplabOnDisk('harden', input, '--variant', 'machine.iommu.invalidation=deferred', '--variant', 'attack.steps.2.at=20us', '--variant', 'attack.steps.0.write="0x100000"', '--budget', '0', '--write');
    expect(code).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe(before);
    const written = join(dir, 'deferred-invalidation-window-hardened.yaml');
    expect(readFileSync(written, 'utf8')).toContain('invalidation: strict');
    expect((await tlplabOnDisk('run', written)).code).toBe(0);
    const refused = await tlplab('harden', input, '--variant', 'machine.iommu.invalidation=deferred', '--variant', 'attack.steps.2.at=20us', '--variant', 'attack.steps.0.write="0x100000"', '--budget', '0', '--write', input);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('would overwrite the input');
  });
});
