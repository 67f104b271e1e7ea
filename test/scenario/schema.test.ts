import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJsonSchema, SCHEMA_PATH } from '../../src/scenario/write-schema.ts';

describe('JSON Schema for editors', () => {
  it('is in sync with the zod schema (regenerate with `npm run schema`)', () => {
    const committed = readFileSync(join(import.meta.dirname, '../..', SCHEMA_PATH), 'utf8');
    expect(committed).toBe(renderJsonSchema());
  });

  it('forbids unknown keys and requires the v1 marker', () => {
    const schema = JSON.parse(renderJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('schema');
    expect(schema.properties.schema.const).toBe('tlplab/v1');
  });
});
