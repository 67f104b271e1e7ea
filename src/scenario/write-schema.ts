/** Writes schemas/tlplab-v1.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from './schema.ts';

export const SCHEMA_PATH = 'schemas/tlplab-v1.schema.json';

export function renderJsonSchema(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

if (process.argv[1]?.endsWith('write-schema.ts')) {
  writeFileSync(SCHEMA_PATH, renderJsonSchema());
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
