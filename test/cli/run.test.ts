/** The public contract of DESIGN.md §4: exit codes, JSON, JUnit, determinism. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { discoverScenarios, runSuite } from '../../src/scenario/suite.ts';
import { tlplab } from './harness.ts';

const fixtures = join(import.meta.dirname, '../fixtures');
const reference = join(import.meta.dirname, '../../scenarios/spoofed-msi.yaml');
const p2p = join(fixtures, 'scenarios/p2p-redirect.yaml');
const wrong = join(fixtures, 'scenarios/wrong-expectation.yaml');

/** JSON without wall-clock figures, with paths relative to the repository. */
function stable(json: string): unknown {
  const document = JSON.parse(json.replaceAll(join(import.meta.dirname, '../..') + '/', ''));
  delete document.meta;
  return document;
}

describe('tlplab run', () => {
  it('runs the reference example as written: every expectation met, exit 0', async () => {
    const { code, stdout } = await tlplab('run', reference);
    expect(code).toBe(0);
    expect(stdout).toContain('4 runs, 4 as expected, 0 not (seed 1)');
  });

  it.each([
    ['spoofed-msi', reference],
    ['p2p-redirect', p2p],
  ])('prints the golden JSON for %s', async (name, file) => {
    const { code, stdout } = await tlplab('run', file, '--json');
    expect(code).toBe(0);
    const golden = JSON.parse(readFileSync(join(fixtures, `golden/${name}.json`), 'utf8'));
    expect(stable(stdout)).toEqual(golden);
  });

  it('is deterministic: the same seed gives byte-identical JSON (meta aside)', async () => {
    const strip = (text: string) => text.replace(/"meta": \{[^}]*\}/, '');
    const a = await tlplab('run', reference, p2p, '--json', '--seed', '7');
    const b = await tlplab('run', reference, p2p, '--json', '--seed', '7');
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    expect(JSON.parse(a.stdout).seed).toBe(7);
  });

  it('exits 1 on a failed expectation and writes a JUnit failure (not an error), escaped', async () => {
    const { code, files, stdout } = await tlplab('run', wrong, p2p, '--junit', 'out.xml');
    expect(code).toBe(1);
    expect(stdout).toContain('expected isolated, got breached');
    const xml = files.get('out.xml')!;
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    expect(doc.testsuites['@_tests']).toBe('3');
    expect(doc.testsuites['@_failures']).toBe('1');
    expect(doc.testsuites['@_errors']).toBe('0');
    const suites = [doc.testsuites.testsuite].flat();
    const failing = suites.find((s: { '@_name': string }) => s['@_name'] === 'wrong-expectation');
    expect(failing.testcase.failure['@_message']).toBe('expected isolated, got breached');
  });

  it('exits 2 with file:line:column for an invalid scenario, and marks it a JUnit error', async () => {
    const bad = join(fixtures, 'bad/unknown-step-device.yaml');
    const { code, stdout, files } = await tlplab('run', bad, '--junit', 'out.xml');
    expect(code).toBe(2);
    expect(stdout).toContain(`${bad}:22:24: unknown device 'nvme0' — did you mean 'nvme'?`);
    const xml = files.get('out.xml')!;
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<error message="invalid scenario" type="invalid">');
  });

  it.each([
    [['run', 'no/such/dir'], /no such file or directory: no\/such\/dir/],
    [['run', reference, '--seed', 'abc'], /--seed needs a non-negative integer/],
    [['run', reference, '--variant', 'oops'], /--variant needs axis=value/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 on usage errors: %j', async (argv, message) => {
    const { code, stderr } = await tlplab(...(argv as string[]));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('writes JSON to a file and still prints the table', async () => {
    const { code, stdout, files } = await tlplab('run', p2p, '--json', 'result.json');
    expect(code).toBe(0);
    expect(stdout).toContain('p2p-redirect');
    expect(JSON.parse(files.get('result.json')!).schema).toBe('tlplab/run-v1');
  });

  it('filters variants with --variant', async () => {
    const { stdout } = await tlplab('run', reference, '--json', '--variant', 'machine.iommu.interrupt-remapping=on');
    expect(JSON.parse(stdout).runs.map((r: { variant: Record<string, string> }) => r.variant['machine.iommu.interrupt-remapping'])).toEqual(['on', 'on']);
  });
});

describe('tlplab explain and send', () => {
  it('explains why the forged MSI faults, hop by hop', async () => {
    const { code, stdout } = await tlplab('explain', reference, '--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.source-id-validation=on');
    expect(code).toBe(0);
    expect(stdout).toContain('fault 0x26: SVT=01b: requester 03:00.0 ≠ SID 04:00.0 under SQ=00b');
    expect(stdout).toContain('verdict: ISOLATED');
  });

  it('send --json follows tlplab/send-v1, with the interrupt when one is delivered', async () => {
    const { code, stdout } = await tlplab(
      'send', reference, '--from', 'nic', '--write', '0xfee00000', '--data', '0x41', '--json',
      '--variant', 'machine.iommu.interrupt-remapping=off', '--variant', 'machine.iommu.source-id-validation=on',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ schema: 'tlplab/send-v1', outcome: 'delivered', faultCode: null, interrupt: { vector: 0x41, destination: 0, irte: null } });
    expect(result.path[0]).toEqual({ at: 0, device: 'nic', decision: 'up', rule: expect.stringContaining('PCIe 6.0'), detail: '→ sw-dp0' });
  });

  it('send reports the fault code as a string', async () => {
    const { stdout } = await tlplab('send', reference, '--from', 'nic', '--write', '0xfee00000', '--json', '--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.source-id-validation=on');
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'faulted', faultCode: '0x25' });
  });

  it('send refuses an ambiguous variant selection', async () => {
    const { code, stderr } = await tlplab('send', reference, '--from', 'nic', '--write', '0xfee00000');
    expect(code).toBe(2);
    expect(stderr).toContain('4 variants match; pin one with --variant');
  });
});

describe('a new user edits the reference example (issue 5, done-when)', () => {
  it('allowing compatibility-format MSIs (CFI set) breaches the last variant; run exits 1 and explain says why', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tlplab-'));
    const edited = join(dir, 'my-msi.yaml');
    writeFileSync(edited, readFileSync(reference, 'utf8').replace('compat-format: blocked', 'compat-format: allowed'));

    const run = await tlplab('run', edited, '--junit', 'out.xml');
    expect(run.code).toBe(1);
    expect(run.files.get('out.xml')).toContain('<failure message="expected isolated, got breached"');

    const why = await tlplab('explain', edited, '--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.source-id-validation=on');
    expect(why.stdout).toContain('a compatibility-format request bypasses interrupt remapping');
    expect(why.stdout).toContain('verdict: BREACHED');
  });
});

describe('parallel and sharded runs (issue 8)', () => {
  const library = join(import.meta.dirname, '../../scenarios');
  const withoutMeta = (json: string) => json.replace(/,\n {2}"meta": \{[^}]*\}/, '');

  it('--jobs 2 prints exactly what --jobs 1 prints', async () => {
    const one = await tlplab('run', library, p2p, '--json', '--jobs', '1');
    const two = await tlplab('run', library, p2p, '--json', '--jobs', '2');
    expect(two.code).toBe(one.code);
    expect(withoutMeta(two.stdout)).toBe(withoutMeta(one.stdout));
    // 125 runs are below the crossover where workers pay: the pool is not started.
    expect(JSON.parse(two.stdout).meta.jobs).toBe(1);
  }, 60_000);

  it('with the pool started, workers give exactly the results of this thread, in order', async () => {
    const files = discoverScenarios([library, p2p]);
    const inline = await runSuite(files, { seed: 3 });
    const pooled = await runSuite(files, { seed: 3, jobs: 2, poolMinRuns: 0 });
    expect(pooled).toEqual(inline);
    expect(inline.runs.length).toBeGreaterThan(100);
  }, 60_000);

  it('--shard i/n splits the files into disjoint slices that together make the whole', async () => {
    const whole = JSON.parse((await tlplab('run', library, '--json')).stdout).runs;
    const parts = [];
    for (const shard of ['1/3', '2/3', '3/3']) parts.push(...JSON.parse((await tlplab('run', library, '--json', '--shard', shard)).stdout).runs);
    expect(parts).toEqual(whole);
  }, 60_000);

  it.each(['0/2', '3/2', 'half'])('rejects --shard %s', async (shard) => {
    const { code, stderr } = await tlplab('run', p2p, '--shard', shard);
    expect(code).toBe(2);
    expect(stderr).toContain('--shard needs i/n');
  });
});

describe('tlplab report (DESIGN.md §4: report --html out.html)', () => {
  it('writes an HTML page and Markdown with every matrix, escaping text, and says where it wrote', async () => {
    const { code, files, stdout } = await tlplab('report', reference, wrong, '--html', 'out.html', '--markdown', 'out.md');
    expect(code).toBe(1); // the wrong expectation still fails the run
    expect(stdout).toBe('wrote out.html, out.md (5 runs, 4 as expected, 1 not; seed 1)\n');
    const html = files.get('out.html')!;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<h2>A passed-through NIC forges an MSI write</h2>');
    expect(html).toMatch(/<td class="cell breached miss" data-run="r\d+">/);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(files.get('out.md')).toContain('| iommu.interrupt-remapping | iommu.source-id-validation | verdict | expected |  |');
  });

  it('needs --html or --markdown', async () => {
    const { code, stderr } = await tlplab('report', reference);
    expect(code).toBe(2);
    expect(stderr).toContain('report needs --html <file> and/or --markdown <file>');
  });
});
