/** Every malformed scenario in test/fixtures/bad is refused with its exact message and position. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, loadScenario } from '../../src/scenario/load.ts';
import { ScenarioError, formatDiagnostic } from '../../src/scenario/diagnostics.ts';

const dir = join(import.meta.dirname, '../fixtures/bad');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('malformed scenarios', () => {
  it('has at least 20 cases', () => expect(files.length).toBeGreaterThanOrEqual(20));

  it.each(files)('%s', (file) => {
    const bytes = readFileSync(join(dir, file));
    const text = bytes.toString('utf8'); // the # expect: headers are ASCII
    const expected = text.split('\n').filter((l) => l.startsWith('# expect: ')).map((l) => `${file}:${l.slice('# expect: '.length)}`);
    expect(expected.length).toBeGreaterThan(0);
    let error: unknown;
    try {
      loadScenario(file, decodeUtf8(file, bytes));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).diagnostics.map(formatDiagnostic)).toEqual(expected);
  });
});
