import { describe, expect, it } from 'vitest';
import { renderJsonSchema } from '../../src/scenario/write-schema.ts';

describe('JSON Schema for editors', () => {
  it('forbids unknown keys and requires the v1 marker', () => {
    const schema = JSON.parse(renderJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('schema');
    expect(schema.properties.schema.const).toBe('tlplab/v1');
  });
});
