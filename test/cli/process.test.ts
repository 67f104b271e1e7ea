/**
 * The shipped CLI as a process (issue 13): bin/tlplab.js runs the bundle in
 * dist/, which this file builds first (`npm run build`, as npm install does),
 * so it never tests a stale build. Every other CLI test runs the sources in
 * this process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/tlplab.js');
const reference = join(root, 'scenarios/spoofed-msi.yaml');

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' });
}, 60_000);

const env = { ...process.env, NO_COLOR: '1' };
const tlplab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 28 });
/** Through bash with pipefail, so the exit code is tlplab's, not head's. */
const piped = (command: string) => spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd: root, encoding: 'utf8', env });

describe('the built CLI', () => {
  it('prints its version', () => {
    const { status, stdout } = tlplab('--version');
    expect(status).toBe(0);
    expect(stdout).toBe(`tlplab ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
  });

  it('runs the built-in library from any directory', () => {
    const { status, stdout } = spawnSync(process.execPath, [bin, 'run'], { cwd: tmpdir(), encoding: 'utf8', env });
    expect(status).toBe(0);
    expect(stdout).toMatch(/\d+ runs, \d+ as expected, 0 not \(seed 1\)/);
  });

  it('`run --json | head -1` ends quietly with the code the run had (EPIPE is no error)', () => {
    const ok = piped(`node ${bin} run --json | head -1`);
    expect(ok.stdout).toBe('{\n');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const failing = piped(`node ${bin} run ${join(root, 'test/fixtures/scenarios/wrong-expectation.yaml')} | head -1`);
    expect(failing.stderr).toBe('');
    expect(failing.status).toBe(1);
  });

  it('--junit into a directory that does not exist creates it; never "internal error"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlplab-proc-'));
    const { status, stderr } = tlplab('run', reference, '--junit', join(dir, 'reports/x.xml'));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(readFileSync(join(dir, 'reports/x.xml'), 'utf8')).toContain('<testsuites name="tlplab"');
  });

  it('bad input is exit 2 with file:line:column and no stack trace', () => {
    const bad = join(root, 'test/fixtures/bad/address-over-64-bit.yaml');
    const { status, stdout, stderr } = tlplab('run', bad);
    expect(status).toBe(2);
    expect(stdout).toContain(`${bad}:22:36: address '0x10000000000000000' is beyond the 64-bit limit 0xffff_ffff_ffff_ffff`);
    expect(stdout + stderr).not.toMatch(/\n\s+at /);
  });

  it('prints nothing on stderr when piped: no progress bar', () => {
    const { status, stderr } = tlplab('run');
    expect(status).toBe(0);
    expect(stderr).toBe('');
  });

  it('runs workers from the bundle: --jobs 2 with the pool started gives the same JSON', () => {
    // 1024 runs are below the size where the pool pays: force it on (TLPLAB_POOL_MIN_RUNS) to test it.
    const big = join(root, 'test/fixtures/scenarios/matrix-4x5.yaml');
    const a = tlplab('run', big, '--json');
    const b = spawnSync(process.execPath, [bin, 'run', big, '--json', '--jobs', '2'], { cwd: root, encoding: 'utf8', env: { ...env, TLPLAB_POOL_MIN_RUNS: '0' }, maxBuffer: 1 << 28 });
    const unforced = tlplab('run', big, '--json', '--jobs', '2');
    expect(JSON.parse(unforced.stdout).meta.jobs).toBe(1);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    const strip = (s: string) => s.replace(/"meta": \{[\s\S]*\}\n\}\n$/, '');
    expect(strip(b.stdout)).toBe(strip(a.stdout));
    expect(JSON.parse(b.stdout).meta.jobs).toBe(2);
  }, 60_000);
});
