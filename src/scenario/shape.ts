/** The structural check of a scenario document (zod), with positioned diagnostics. */
import type { Diagnostic } from './diagnostics.ts';
import { ScenarioSchema, type ScenarioFile } from './schema.ts';
import { zodDiagnostics, type Locate } from './validate.ts';

export function validateShape(data: unknown, locate: Locate): { ok: true; entry: ScenarioFile } | { ok: false; diagnostics: Diagnostic[] } {
  const parsed = ScenarioSchema.safeParse(data);
  return parsed.success ? { ok: true, entry: parsed.data } : { ok: false, diagnostics: zodDiagnostics(ScenarioSchema, parsed.error.issues, data, locate) };
}
