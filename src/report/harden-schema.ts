/**
 * The `tlplab harden --json` document (tlplab/harden-v1) as a strict zod
 * schema (a test parses real output with it; schemas/tlplab-harden-v1.schema.json
 * is generated from it by `npm run schema`).
 */
import { z } from 'zod';
import { COST_CLASSES } from '../hunt/harden/changes.ts';
import { BREACH_KINDS } from '../policy/verdict.ts';

const Change = z.strictObject({
  id: z.string().describe('stable key, e.g. "acs:sw-dp0:RR"'),
  label: z.string().describe('"RR on sw-dp0"'),
  cost: z.string().describe('what the change costs, in a sentence'),
  costClass: z.enum(COST_CLASSES).describe('cheapest first: a setting, a kernel option, firmware, new hardware, giving up a device'),
  path: z.string().describe('the scenario field it sets (a variant-axis path)'),
  value: z.unknown().describe('what it sets there (an ACS control: the control added)'),
});

export const HardenDocumentSchema = z.strictObject({
  schema: z.literal('tlplab/harden-v1'),
  seed: z.number().int(),
  budget: z.number().int().nonnegative().describe('random probes per hunt'),
  input: z.strictObject({ file: z.string(), kind: z.enum(['scenario', 'lspci']), assumptions: z.array(z.string()) }),
  targets: z.array(
    z.strictObject({
      scenario: z.string(),
      file: z.string(),
      variant: z.record(z.string(), z.unknown()),
      attacker: z.string(),
      status: z.enum(['already-isolated', 'hardened', 'no-solution']),
      findings: z.array(z.strictObject({ id: z.string(), kind: z.enum(BREACH_KINDS), victim: z.string(), path: z.string() })).describe('what hunt finds in the configuration as it is'),
      solutions: z
        .array(z.strictObject({ size: z.number().int().positive(), search: z.enum(['exhaustive', 'greedy']), changes: z.array(Change) }))
        .describe('sets of changes under which a hunt from scratch finds nothing: fewest changes first, then cheapest'),
      candidates: z.number().int().nonnegative().describe('changes considered'),
      hunts: z.number().int().positive().describe('hunts run (the first on the configuration as it is)'),
      hardened: z
        .strictObject({ name: z.string(), file: z.string().nullable().describe('where --write put it; null when not written'), replayed: z.boolean().describe('its YAML loaded and ran isolated, as its expectation states') })
        .nullable()
        .describe('the scenario with the first solution made'),
    }),
  ),
  meta: z.record(z.string(), z.unknown()).optional().describe('wall-clock figures'),
});

export function hardenJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(HardenDocumentSchema, { io: 'output', unrepresentable: 'any' }),
    $id: 'https://tlplab.dev/schemas/tlplab-harden-v1.schema.json',
    title: 'tlplab harden --json (tlplab/harden-v1)',
  };
}
