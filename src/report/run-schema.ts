/**
 * The `tlplab run --json` document (tlplab/run-v1) as a strict zod schema:
 * every field the JSON reporter writes is described here, a test parses
 * real output with it (so a field added without a description fails), and
 * schemas/tlplab-run-v1.schema.json is generated from it for users.
 */
import { z } from 'zod';
import { GATE_NAMES } from '../scenario/model.ts';

const Hex = z.string().regex(/^0x[0-9a-f]+$/);
const Outcome = z.enum(['delivered', 'completed', 'blocked', 'faulted', 'unsupported-request']);

const ByteSpan = z
  .strictObject({
    base: z.number().int().nonnegative(),
    length: z.number().int().nonnegative(),
    kind: z.enum(['memory', 'bar', 'unclaimed']).describe('host memory region, a BAR, or bytes no region or BAR holds'),
    region: z.string().nullable().describe('memory region or BAR ("nic.bar0")'),
    sub: z.string().nullable().describe('BAR sub-region, "past-end" for bytes a BAR\'s completer took beyond its end, or "quarantine-scratch" for a quarantined device\'s scratch page'),
    owner: z.string().nullable(),
  })
  .describe('a stretch of bytes with one owner');

const Effect = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('bytes'), op: z.enum(['write', 'read']), spans: z.array(ByteSpan) }),
  z.strictObject({
    kind: z.literal('interrupt'),
    controller: z.string(),
    path: z.string(),
    entry: z.number().int().nullable().describe('IRTE index, AMD-Vi IRTE or ITS EventID used'),
    entryOwner: z.string().nullable(),
    stale: z.boolean().describe('a stale interrupt-entry-cache entry was used'),
    vector: z.number().int().describe('vector (x86) or INTID (GIC) the message or its table entry named'),
    destination: z.number().int().describe('destination ID named (APIC ID, or 0xFF broadcast); -1 for a posted interrupt'),
    receivers: z.array(z.strictObject({ cpu: z.number().int().describe('-1: a posted-interrupt descriptor'), vector: z.number().int(), vectorOwner: z.string().nullable() })),
  }),
  z.strictObject({ kind: z.literal('config'), op: z.enum(['write', 'read']), device: z.string(), offset: z.number().int(), length: z.number().int(), owner: z.string().nullable() }),
  z.strictObject({ kind: z.literal('data'), device: z.string().describe('function (or "host") that received a completion\'s data'), owner: z.string().nullable() }),
]);

const Ending = z
  .strictObject({
    tlp: z.number().int().nullable().describe('null for a host-side refusal: no TLP was issued'),
    type: z.enum(['MemRd', 'MemWr', 'Cpl', 'CplD', 'CfgRd', 'CfgWr', 'Msg']).nullable(),
    origin: z.string().describe('issuing function id, or "host"'),
    principal: z.string().nullable().describe('who it acts for: the issuing function\'s owner, or the user a host action served'),
    requester: z.number().int().describe('requester ID as issued (possibly forged)'),
    address: z.number().int().nonnegative().describe('address as issued (the IOVA for DMA); rounded when 2^53 or more, see exactAddress'),
    exactAddress: z.string().optional().describe('the exact 64-bit address as hex, present when it is 2^53 or more'),
    length: z.number().int().nonnegative(),
    at: z.enum(['untranslated', 'translation-request', 'translated']),
    outcome: Outcome,
    reason: z.string().describe('code in the reason registry (README, "Reasons")'),
    rule: z.string().describe('the rule as applied, with its source'),
    decidedAt: z.string(),
    faultCode: z.number().int().nullable(),
    time: z.number().int().describe('simulated ns'),
    request: z.number().int().nullable().describe('for a completion: its request\'s tlp id'),
    step: z.number().int().describe('index of the attack step that caused it; -1 when none'),
    effects: z.array(Effect),
  })
  .describe('one ending record: what became of a TLP, or of an action the host refused');

const Breach = z.strictObject({
  kind: z.enum(['memory-write', 'memory-read', 'bar-write', 'bar-read', 'interrupt-injection', 'foreign-irte', 'config-write', 'config-read']),
  attacker: z.string(),
  victim: z.string(),
  tlp: z.number().int(),
  bytes: z.number().int().nonnegative().describe('foreign bytes touched (0 for interrupts)'),
  spans: z.array(ByteSpan).describe('the foreign, ungranted pieces'),
  cpus: z.array(z.number().int()).describe('CPUs that took a foreign interrupt'),
  evidence: z.array(z.number().int()).describe('trace record ids'),
  detail: z.string(),
});

const Stop = z.strictObject({
  tlp: z.number().int().nullable(),
  origin: z.string(),
  outcome: z.string(),
  reason: z.string(),
  faultCode: Hex.nullable(),
  at: z.string(),
  evidence: z.array(z.number().int()),
});

const Gate = z.enum(GATE_NAMES);

const Run = z.strictObject({
  scenario: z.string(),
  file: z.string(),
  variant: z.record(z.string(), z.unknown()),
  verdict: z.enum(['breached', 'isolated']),
  expected: z.enum(['breached', 'isolated']),
  expectation: z.strictObject({
    verdict: z.enum(['breached', 'isolated']),
    breaches: z.array(z.strictObject({ kind: z.string(), victim: z.string().nullable() })).nullable(),
    stopped: z.array(z.strictObject({ reason: z.string().nullable(), fault: z.number().int().nullable(), at: z.string().nullable() })).nullable(),
    refusedBy: z.enum([...GATE_NAMES, 'none']).nullable(),
    because: z.string().nullable(),
  }),
  pass: z.boolean(),
  differences: z.array(z.string()).describe('how the run differs from its expectation; empty when it passes'),
  refusedBy: Gate.nullable().describe('the Linux gate that refused the assignment; the attack did not run'),
  breaches: z.array(Breach),
  stopped: z.array(Stop),
  gates: z.array(z.strictObject({ gate: Gate, passed: z.boolean(), enforced: z.boolean(), detail: z.string() })),
  tlps: z.array(Ending),
});

export const RunDocumentSchema = z.strictObject({
  schema: z.literal('tlplab/run-v1'),
  seed: z.number().int(),
  runs: z.array(Run),
  errors: z.array(
    z.strictObject({
      file: z.string(),
      scenario: z.string().nullable(),
      kind: z.enum(['invalid', 'crashed']),
      variant: z.record(z.string(), z.unknown()).nullable(),
      message: z.string(),
      diagnostics: z.array(z.strictObject({ line: z.number().int(), column: z.number().int(), code: z.string(), message: z.string() })),
    }),
  ),
  seeds: z
    .strictObject({
      from: z.number().int(),
      to: z.number().int(),
      races: z.array(
        z.strictObject({
          scenario: z.string(),
          file: z.string(),
          variant: z.record(z.string(), z.unknown()),
          outcomes: z.array(z.strictObject({ seed: z.number().int(), verdict: z.enum(['breached', 'isolated']), pass: z.boolean(), breaches: z.array(z.string()), stopped: z.array(z.string()) })),
        }),
      ),
      failedSeeds: z.array(z.number().int()),
    })
    .optional()
    .describe('run --seeds A..B: runs whose outcome depended on the seed (races); `runs` are the first seed\'s'),
  meta: z.record(z.string(), z.unknown()).optional().describe('wall-clock figures; everything else is byte-identical run to run'),
});

export function runJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(RunDocumentSchema, { io: 'output', unrepresentable: 'any' }),
    $id: 'https://tlplab.dev/schemas/tlplab-run-v1.schema.json',
    title: 'tlplab run --json (tlplab/run-v1)',
  };
}
