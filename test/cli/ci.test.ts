/**
 * A CLI fit for CI (issue 13): no silent passes, conventions users know
 * from vitest and cargo, outputs that never destroy a file (issue 18).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';
import { tlplab } from './harness.ts';

const root = join(import.meta.dirname, '../..');
const library = join(root, 'scenarios');
const reference = join(library, 'spoofed-msi.yaml');
const fixtures = join(import.meta.dirname, '../fixtures');
const p2p = join(fixtures, 'scenarios/p2p-redirect.yaml');
const wrong = join(fixtures, 'scenarios/wrong-expectation.yaml');

/** Runs in a fresh directory with files really written. */
async function onDisk(...argv: string[]) {
  const io = memoryIo({ disk: true });
  const code = await main(argv, io);
  return { code, ...io };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'tlplab-ci-'));
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('conventions', () => {
  it('tlplab alone prints help and exits 2: a CI line that lost its arguments must not pass', async () => {
    const { code, stdout } = await tlplab();
    expect(code).toBe(2);
    expect(stdout).toContain('Usage:');
    expect(stdout).toContain('Exit codes:');
  });

  it('--help shows examples and exit codes; --version reads package.json', async () => {
    const help = await tlplab('run', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('$ tlplab run my.yaml --variant iommu.interrupt-remapping=on');
    expect(help.stdout).toMatch(/1 {2}an expectation failed/);
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect((await tlplab('--version')).stdout).toBe(`tlplab ${version}\n`);
  });

  it.each([
    [['rnu'], "unknown command 'rnu' — did you mean 'run'?"],
    [['lsit'], "unknown command 'lsit' — did you mean 'list'?"],
    [['run', reference, '--jsno'], "unknown option '--jsno' — did you mean '--json'?"],
  ])('%j: did-you-mean, exit 2', async (argv, message) => {
    const { code, stderr } = await tlplab(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    noStack(stderr);
  });
});

describe('no silent passes', () => {
  it('a --variant axis no scenario has is exit 2 with a suggestion', async () => {
    const { code, stderr } = await tlplab('run', reference, '--variant', 'machine.iommu.interrupt-remaping=on');
    expect(code).toBe(2);
    expect(stderr).toContain("--variant machine.iommu.interrupt-remaping: not a variant axis of");
    expect(stderr).toContain("did you mean 'machine.iommu.interrupt-remapping'?");
  });

  it('a value no variant takes is exit 2, naming the values the axis takes', async () => {
    const { code, stderr } = await tlplab('run', reference, '--variant', 'iommu.interrupt-remapping=maybe');
    expect(code).toBe(2);
    expect(stderr).toContain('--variant iommu.interrupt-remapping=maybe: no variant takes this value; iommu.interrupt-remapping takes off, on');
  });

  it('the table header spelling (without machine.) selects the same runs as the full path', async () => {
    const short = JSON.parse((await tlplab('run', reference, '--json', '--variant', 'iommu.interrupt-remapping=on')).stdout).runs;
    const full = JSON.parse((await tlplab('run', reference, '--json', '--variant', 'machine.iommu.interrupt-remapping=on')).stdout).runs;
    expect(short).toEqual(full);
    expect(short).toHaveLength(2);
  });

  it('across the library, a filter runs only the scenarios that have the axis, and says how many it left out', async () => {
    const { code, stdout } = await tlplab('run', library, '--variant', 'iommu.x2apic=on');
    expect(code).toBe(0);
    expect(stdout).toContain('white-rabbit-msi-injection');
    expect(stdout).not.toContain('spoofed-msi —');
    expect(stdout).toMatch(/\d+ scenario\(s\) not run: --variant \/ -t selects none of their variants/);
  });

  it('filters that exist but select nothing together are exit 2', async () => {
    const { code, stderr } = await tlplab('run', library, '--variant', 'iommu.x2apic=on', '--variant', 'iommu.interrupt-remapping=off', '--variant', 'iommu.source-id-validation=on');
    expect(code).toBe(2);
    expect(stderr).toContain('no run selected');
  });

  it('-t selects scenarios or variants by name; a pattern that matches nothing is exit 2', async () => {
    const one = JSON.parse((await tlplab('run', library, '--json', '-t', 'spoofed-msi .*source-id-validation=on')).stdout).runs;
    expect(one.map((r: { scenario: string }) => r.scenario)).toEqual(['spoofed-msi', 'spoofed-msi']);
    const none = await tlplab('run', library, '-t', 'no-such-thing');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no run selected: -t no-such-thing');
    const bad = await tlplab('run', library, '-t', '(');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("-t/--filter '(' is not a regular expression");
  });

  it('a path without scenarios is exit 2, even beside one with scenarios', async () => {
    const empty = scratch();
    const { code, stderr } = await tlplab('run', reference, empty);
    expect(code).toBe(2);
    expect(stderr).toContain(`no scenario files (*.yaml, *.yml) in ${empty}`);
  });

  it('a matrix over --max-runs is refused before anything runs, with the count', async () => {
    const { code, stderr, stdout } = await tlplab('run', library, '--max-runs', '100');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/more than 100 runs selected \(the --max-runs limit\): .*\.yaml \(\d+\)/);
    const file = await tlplab('run', reference, '--max-runs', '3');
    expect(file.stderr).toContain(`${reference}:53:1: the variant matrix has 4 combinations (2 × 2), over the limit of 3 runs`);
  });

  it('explain exits 1 when a run is not as expected', async () => {
    expect((await tlplab('explain', wrong)).code).toBe(1);
    expect((await tlplab('explain', reference, '--variant', 'iommu.interrupt-remapping=on', '--variant', 'iommu.source-id-validation=on')).code).toBe(0);
  });

  it('send --expect judges its TLP like a run: the forged compat MSI breaches with remapping off', async () => {
    const off = ['send', reference, '--from', 'nic', '--write', '0xfee00000', '--data', '0x30', '--variant', 'iommu.interrupt-remapping=off', '--variant', 'iommu.source-id-validation=on'];
    const breached = await tlplab(...off, '--expect', 'breached');
    expect(breached.code).toBe(0);
    expect(breached.stdout).toContain('verdict: BREACHED for vm1 (expected breached, as expected)');
    const isolated = await tlplab(...off, '--expect', 'isolated', '--json');
    expect(isolated.code).toBe(1);
    expect(JSON.parse(isolated.stdout)).toMatchObject({ verdict: 'breached', expected: 'isolated', pass: false, breaches: [{ kind: 'interrupt-injection' }] });
    const on = await tlplab('send', reference, '--from', 'nic', '--write', '0xfee00000', '--variant', 'iommu.interrupt-remapping=on', '--variant', 'iommu.source-id-validation=on', '--expect', 'isolated');
    expect(on.code).toBe(0);
    expect((await tlplab(...off, '--expect', 'maybe')).code).toBe(2);
  });

  it('send reads addresses exactly, past what the command-line parser would round', async () => {
    const on = ['--variant', 'iommu.interrupt-remapping=on', '--variant', 'iommu.source-id-validation=on'];
    const over = await tlplab('send', reference, '--from', 'nic', '--write', '0x10000000000000000', ...on);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain("--write '0x10000000000000000' is beyond the 64-bit limit 0xffff_ffff_ffff_ffff");
    // Above 2^53 the address is carried exactly (readRequestAddress): it faults at the IOMMU's address width, named as typed.
    const wide = await tlplab('send', reference, '--from', 'nic', '--write=0x20000000000001', ...on, '--json');
    expect(wide.code).toBe(0);
    expect(JSON.parse(wide.stdout)).toMatchObject({ outcome: 'faulted', reason: 'iommu.address-width', faultCode: '0x04' });
    const data = await tlplab('send', reference, '--from', 'nic', '--write=0x1000', '--data=0x20000000000001', ...on);
    expect(data.stderr).toContain("--data '0x20000000000001' is 0x20_0000_0000_0000 (2^53) or more");
  });

  it('--bail stops after the first failed expectation and exits 1', async () => {
    const { code, stdout } = await tlplab('run', wrong, library, '--bail');
    expect(code).toBe(1);
    expect(stdout).toContain('--bail: stopped after the first failure');
    expect(stdout).not.toContain('white-rabbit-msi-injection');
  });
});

describe('list and init', () => {
  it('list prints every variant with the verdict it expects, and runs nothing', async () => {
    const { code, stdout } = await tlplab('list', reference);
    expect(code).toBe(0);
    expect(stdout).toContain('spoofed-msi — A passed-through NIC forges an MSI write');
    expect(stdout).toContain('1 scenario(s), 4 variant(s)');
    const json = JSON.parse((await tlplab('list', reference, '--json')).stdout);
    expect(json.schema).toBe('tlplab/list-v1');
    expect(json.scenarios[0].variants.map((v: { expected: string }) => v.expected)).toEqual(['breached', 'breached', 'breached', 'isolated']);
  });

  it('list of an invalid scenario is exit 2 with its diagnostics', async () => {
    const { code, stdout } = await tlplab('list', join(fixtures, 'bad/steps-out-of-order.yaml'));
    expect(code).toBe(2);
    expect(stdout).toContain('steps-out-of-order.yaml:23:13: step 1 at 20ns comes before step 0 at 10us');
  });

  it('init writes a commented scenario that runs as written, and never overwrites one', async () => {
    const dir = scratch();
    const path = join(dir, 'my-attack');
    const init = await onDisk('init', path);
    expect(init.code).toBe(0);
    const text = readFileSync(`${path}.yaml`, 'utf8');
    expect(text).toContain('name: my-attack');
    expect(text).toMatch(/^# A tlplab scenario/);
    const run = await tlplab('run', `${path}.yaml`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 runs, 2 as expected, 0 not');
    const again = await onDisk('init', path);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; refusing to overwrite it');
    expect((await onDisk('init', join(dir, 'Bad_Name'))).code).toBe(2);
  });
});

describe('outputs (issue 13 part 5, issue 18 part 1)', () => {
  it('creates missing directories for output files', async () => {
    const dir = scratch();
    const junit = join(dir, 'reports/deep/x.xml');
    const { code } = await onDisk('run', reference, '--junit', junit, '--json-file', join(dir, 'out/r.json'));
    expect(code).toBe(0);
    expect(readFileSync(junit, 'utf8')).toContain('<testsuites name="tlplab" tests="4"');
    expect(JSON.parse(readFileSync(join(dir, 'out/r.json'), 'utf8')).runs).toHaveLength(4);
  });

  it('a directory given as a file is exit 2', async () => {
    const dir = scratch();
    const { code, stderr } = await onDisk('run', reference, '--junit', dir);
    expect(code).toBe(2);
    expect(stderr).toContain(`--junit ${dir}: that is a directory`);
  });

  it('`run --json my.yaml` runs my.yaml and prints JSON: the scenario is never overwritten', async () => {
    const dir = scratch();
    const mine = join(dir, 'my.yaml');
    writeFileSync(mine, readFileSync(reference));
    const { code, stdout, files } = await onDisk('run', '--json', mine);
    expect(code).toBe(0);
    expect(files.size).toBe(0);
    expect(readFileSync(mine, 'utf8')).toBe(readFileSync(reference, 'utf8'));
    expect(JSON.parse(stdout).runs.every((r: { file: string }) => r.file === mine)).toBe(true);
  });

  it.each([
    ['--json=FILE', (f: string) => [`--json=${f}`]],
    ['--json-file FILE', (f: string) => ['--json-file', f]],
    ['--json FILE.json (the old spelling, only for .json)', (f: string) => ['--json', f]],
  ])('%s writes the JSON file and still prints the table', async (_name, spelling) => {
    const out = join(scratch(), 'result.json');
    const { code, stdout } = await onDisk('run', reference, ...spelling(out));
    expect(code).toBe(0);
    expect(stdout).toContain('4 runs, 4 as expected');
    expect(JSON.parse(readFileSync(out, 'utf8')).schema).toBe('tlplab/run-v1');
  });

  it.each([
    ['an input', () => reference, 'that is one of the inputs'],
    ['a YAML file', () => join(scratch(), 'out.yaml'), 'refusing to write over a YAML file'],
    ['a file that is not tlplab output', () => {
      const f = join(scratch(), 'notes.json');
      writeFileSync(f, '{"mine": true}\n');
      return f;
    }, 'the file exists and is not an earlier tlplab output'],
  ])('refuses to write over %s without --force (exit 2, nothing run)', async (_what, target, message) => {
    const path = target();
    const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
    const { code, stderr, stdout } = await onDisk('run', reference, '--json-file', path);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
    expect(existsSync(path) ? readFileSync(path, 'utf8') : null).toBe(before);
  });

  it('overwrites an earlier tlplab output, and anything with --force', async () => {
    const dir = scratch();
    const out = join(dir, 'r.json');
    expect((await onDisk('run', reference, '--json-file', out)).code).toBe(0);
    expect((await onDisk('run', reference, '--json-file', out, '--seed', '2')).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).seed).toBe(2);
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'mine');
    expect((await onDisk('run', reference, '--junit', notes, '--force')).code).toBe(0);
    expect(readFileSync(notes, 'utf8')).toContain('<testsuites');
  });

  it('two outputs into one file are refused', async () => {
    const out = join(scratch(), 'x.json');
    const { code, stderr } = await onDisk('run', reference, '--json-file', out, '--junit', out);
    expect(code).toBe(2);
    expect(stderr).toContain('already writes that file');
  });

  it('--json FILE works where --json exists: explain, send, list, groups', async () => {
    const dir = scratch();
    for (const argv of [
      ['explain', reference, '--variant', 'iommu.interrupt-remapping=on', '--variant', 'iommu.source-id-validation=on'],
      ['send', reference, '--from', 'nic', '--write', '0xfee00000', '--variant', 'iommu.interrupt-remapping=on', '--variant', 'iommu.source-id-validation=on'],
      ['list', reference],
      ['groups', reference],
    ]) {
      const out = join(dir, `${argv[0]}.json`);
      const { code, stdout } = await onDisk(...argv, `--json=${out}`);
      expect(code).toBe(0);
      expect(stdout).toBe('');
      expect(JSON.parse(readFileSync(out, 'utf8')).schema).toMatch(/^tlplab\//);
    }
  });
});

describe('shards and merge (issue 18 part 2)', () => {
  it('shards of all runs are within one run of each other and merge into the output of one run', async () => {
    const dir = scratch();
    const whole = JSON.parse((await tlplab('run', library, p2p, '--json')).stdout);
    const paths: string[] = [];
    for (const i of [1, 2, 3]) {
      const path = join(dir, `shard-${i}.json`);
      paths.push(path);
      expect((await onDisk('run', library, p2p, '--shard', `${i}/3`, '--json-file', path)).code).toBe(0);
    }
    const sizes = paths.map((p) => JSON.parse(readFileSync(p, 'utf8')).runs.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const merged = await onDisk('merge', paths[2]!, paths[0]!, paths[1]!, '--json-file', join(dir, 'all.json'), '--junit', join(dir, 'all.xml'));
    expect(merged.code).toBe(0);
    const all = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8'));
    expect(all.runs).toEqual(whole.runs);
    expect(all.errors).toEqual(whole.errors);
    expect(readFileSync(join(dir, 'all.xml'), 'utf8')).toContain(`tests="${whole.runs.length}" failures="0" errors="0"`);
    const missing = await onDisk('merge', paths[0]!, paths[1]!);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('shard 3/3 is missing');
    const twice = await onDisk('merge', paths[0]!, paths[0]!, paths[1]!, paths[2]!);
    expect(twice.code).toBe(2);
  }, 60_000);

  it('merging keeps the exit code of the failures it holds', async () => {
    const dir = scratch();
    const out = join(dir, 'w.json');
    mkdirSync(dir, { recursive: true });
    expect((await onDisk('run', wrong, '--json-file', out)).code).toBe(1);
    expect((await onDisk('merge', out)).code).toBe(1);
  });
});
