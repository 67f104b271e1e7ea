/**
 * The fast YAML path (src/scenario/fast-yaml.ts) gives exactly the data the
 * position-keeping `yaml` parser gives, or steps aside: over every scenario
 * and fixture in the repository, and the corner cases of YAML 1.2's core
 * schema.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastData } from '../../src/scenario/fast-yaml.ts';
import { SourceFile } from '../../src/scenario/source.ts';

const root = join(import.meta.dirname, '../..');
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? yamlFiles(path) : /\.ya?ml$/.test(entry) ? [path] : [];
  });
}
const files = [...yamlFiles(join(root, 'scenarios')), ...yamlFiles(join(root, 'test/fixtures'))];

describe('fast YAML path', () => {
  it.each(files.map((f) => [f.slice(root.length + 1), f]))('%s: same data as the yaml library, or none', (_name, path) => {
    const text = readFileSync(path, 'utf8');
    const fast = fastData(text);
    const slow = SourceFile.parseWithPositions('f.yaml', text);
    if (fast === undefined) return;
    expect(slow.diagnostics).toEqual([]);
    expect(fast).toEqual(slow.data);
  });

  it('takes every file of the attack library (nothing unusual in them)', () => {
    for (const f of yamlFiles(join(root, 'scenarios'))) expect(fastData(readFileSync(f, 'utf8'))).not.toBeUndefined();
  });

  it.each([
    ['a: 0x1f', { a: 31 }],
    ['a: 0o17', { a: 15 }],
    ['a: +12', { a: 12 }],
    ['a: 0b101', { a: '0b101' }],
    ['a: 0xffff_ffff', { a: '0xffff_ffff' }],
    ['a: 0x1fffffffffffff', { a: Number.MAX_SAFE_INTEGER }],
    ['a: 0x20000000000000', { a: '0x20000000000000' }],
    ['a: 18446744073709551615', { a: '18446744073709551615' }],
    ['a: on', { a: 'on' }],
    ['a: yes', { a: 'yes' }],
    ['a: True', { a: true }],
    ['a: ~', { a: null }],
    ['a: 1.5', { a: 1.5 }],
    ['a: 1e3', { a: 1000 }],
    ['a: .inf', { a: Infinity }],
    ['a: 2001-12-14', { a: '2001-12-14' }],
    ['a: "0x10"', { a: '0x10' }],
    ['a: [SV, RR]', { a: ['SV', 'RR'] }],
    ['a: { b: [], c: {} }', { a: { b: [], c: {} } }],
    ['a: >\n  folded\n  text\n', { a: 'folded text\n' }],
  ])('%j reads as the yaml library reads it', (text, value) => {
    expect(fastData(text)).toEqual(value);
    expect(SourceFile.parseWithPositions('f.yaml', text).data).toEqual(value);
  });

  it.each([
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['an alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['nesting near the limit', `a: ${'['.repeat(64)}${']'.repeat(64)}\n`],
  ])('steps aside for %s (the yaml path reports it with its position)', (_what, text) => {
    expect(fastData(text)).toBeUndefined();
  });
});
