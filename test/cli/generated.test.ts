/**
 * Generated files stay in step with the code (regenerate with `npm run
 * schema`), and the run-output schema describes every field the JSON
 * reporter really writes: the library's output parses under the strict schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles, ROOT } from '../../src/cli/generate.ts';
import { renderJson } from '../../src/report/json.ts';
import { RunDocumentSchema } from '../../src/report/run-schema.ts';
import { registry } from '../../src/scenario/reasons.ts';
import { BUILT_IN_LIBRARY, discoverScenarios, runSuite } from '../../src/scenario/suite.ts';

describe('generated files', () => {
  it.each([...generatedFiles()])('%s is in sync (npm run schema)', (path, content) => {
    expect(readFileSync(join(ROOT, path), 'utf8')).toBe(content);
  });

  it('the README lists every registered reason', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const reason of registry()) expect(readme).toContain(`| \`${reason.code}\` | ${reason.outcome} |`);
  });
});

describe('the run-output schema (tlplab/run-v1)', () => {
  const library = runSuite(discoverScenarios([BUILT_IN_LIBRARY]), { seed: 1 });

  it('describes every field of the library\'s JSON (strict: an undescribed field fails)', async () => {
    const suite = await library;
    const document = JSON.parse(renderJson({ ...suite, seed: 1, meta: { wallMs: 0, jobs: 1 } }));
    const parsed = RunDocumentSchema.safeParse(document);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
  });

  it('every reason in the output is registered, with the outcome the registry gives it', async () => {
    const suite = await library;
    const byCode = new Map(registry().map((r) => [r.code, r.outcome]));
    for (const run of suite.runs) for (const e of run.tlps) expect([e.reason, byCode.get(e.reason)]).toEqual([e.reason, e.outcome]);
  });
});
