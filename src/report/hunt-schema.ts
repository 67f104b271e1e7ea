/**
 * The `tlplab hunt --json` document (tlplab/hunt-v1) as a strict zod schema,
 * like run-schema.ts: every field the reporter writes is described here, a
 * test parses real output with it, and schemas/tlplab-hunt-v1.schema.json is
 * generated from it for users (`npm run schema`).
 */
import { z } from 'zod';
import { TECHNIQUES } from '../hunt/model.ts';
import { BREACH_KINDS } from '../policy/verdict.ts';

const Technique = z.enum(TECHNIQUES).describe('how the probe that found it was built');

const Finding = z
  .strictObject({
    id: z.string().regex(/^F\d+$/).describe('"F1", "F2"… in the order found, across the whole hunt'),
    kind: z.enum(BREACH_KINDS),
    attacker: z.string(),
    victim: z.string(),
    path: z.string().describe('route, mechanisms and landing in one line; with kind and victim, what makes a finding distinct'),
    route: z.array(z.string()).describe('the nodes the TLP crossed, issuer first'),
    mechanism: z.array(z.string()).describe('what let it through: translation and its domain, a stale IOTLB entry, AT=translated, the interrupt path, a forged requester ID where something checked it'),
    landing: z.string().describe('the regions (and sub-regions) it touched, or the interrupt entry or vector owner'),
    from: z.string().describe("the attacker's function that issued it"),
    technique: Technique,
    label: z.string().describe('the first probe that found it'),
    techniques: z.array(Technique).describe('every technique whose probes found it'),
    hits: z.number().int().positive().describe('probes that produced it'),
    bytes: z.number().int().nonnegative().describe('foreign bytes its reproducer touched (0 for interrupts)'),
    cpus: z.array(z.number().int()).describe('CPUs that took a foreign interrupt'),
    detail: z.string(),
    caveats: z.array(z.string()).describe('what the verdict rests on that the model cannot settle'),
    repro: z.strictObject({
      name: z.string().describe('scenario name; the file is <name>.yaml'),
      file: z.string().nullable().describe('where --write-repro wrote it; null when not written'),
      checked: z.boolean().describe('its steps, checked as a file\'s steps are, ran on the configuration and showed the same breach'),
      replayed: z.boolean().nullable().describe('its YAML, loaded and run as tlplab run does, showed the same breach; null when not written'),
      steps: z.array(z.record(z.string(), z.unknown())).describe('its attack steps, as the scenario file writes them'),
    }),
  })
  .describe('a distinct breach with its minimal reproducer');

const Target = z
  .strictObject({
    scenario: z.string(),
    file: z.string(),
    variant: z.record(z.string(), z.unknown()).describe('the variant hunted (axis: value); {} for a dump or a file without variants'),
    attacker: z.string(),
    devices: z.array(z.string()).describe("the attacker's functions"),
    refusedBy: z.enum(['vfio-viability', 'isolated-msi']).nullable().describe('a Linux gate refused the devices (attack.via: vfio): nothing can run'),
    skipped: z.string().nullable().describe('why nothing was explored, when nothing was'),
    probes: z.strictObject({
      systematic: z.number().int().nonnegative(),
      random: z.number().int().nonnegative(),
      byTechnique: z.record(z.string(), z.number().int().nonnegative()),
    }),
    runs: z.number().int().nonnegative().describe('exploring runs: batches of probes, one machine each (meta.runs counts every run, minimizing and checking included)'),
    findings: z.array(Finding),
  })
  .describe('one configuration hunted');

export const HuntDocumentSchema = z.strictObject({
  schema: z.literal('tlplab/hunt-v1'),
  seed: z.number().int(),
  budget: z.number().int().nonnegative().describe('random probes per configuration, beyond the systematic ones'),
  input: z.strictObject({
    file: z.string(),
    kind: z.enum(['scenario', 'lspci']),
    assumptions: z.array(z.string()).describe('what the input could not show and was assumed (dumps)'),
  }),
  findings: z.number().int().nonnegative().describe('findings over every configuration; exit code 1 when above 0'),
  targets: z.array(Target),
  meta: z.record(z.string(), z.unknown()).optional().describe('wall-clock figures (wallMs, runs, runsPerSecond, firstFindingMs, jobs); everything else is byte-identical run to run'),
});

export function huntJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(HuntDocumentSchema, { io: 'output', unrepresentable: 'any' }),
    $id: 'https://tlplab.dev/schemas/tlplab-hunt-v1.schema.json',
    title: 'tlplab hunt --json (tlplab/hunt-v1)',
  };
}
