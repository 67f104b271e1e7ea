/** The scenario JSON Schema, schemas/tlplab-v1.schema.json, from the zod schema (written by `npm run schema`). */
import { scenarioJsonSchema } from './schema.ts';

export const SCHEMA_PATH = 'schemas/tlplab-v1.schema.json';

export function renderJsonSchema(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
