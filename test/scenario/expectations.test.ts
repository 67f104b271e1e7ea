/**
 * Expectations that assert the reason (src/scenario/expectations.ts): a
 * run passes only when every stated part matches — verdict, the distinct
 * breaches (kind, victim), the distinct stops (reason, fault, place), the
 * gate that refused it — and every difference is reported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differences, type Observed } from '../../src/scenario/expectations.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import type { ExpectRuleSpec } from '../../src/scenario/model.ts';
import { runVariant } from '../../src/scenario/runner.ts';

const rule = (over: Partial<ExpectRuleSpec>): ExpectRuleSpec => ({ when: {}, verdict: 'isolated', breaches: null, stopped: null, refusedBy: null, because: null, ...over });
const run = (over: Partial<Observed>): Observed => ({ verdict: 'isolated', breaches: [], stopped: [], refusedBy: null, ...over });
const sid = { reason: 'ir.source-id', faultCode: '0x26', at: 'root-complex' };
const compat = { reason: 'ir.compat-blocked', faultCode: '0x25', at: 'root-complex' };

describe('differences between a rule and a run', () => {
  it.each<[string, ExpectRuleSpec, Observed, string[]]>([
    ['verdict only, matching', rule({}), run({ stopped: [sid] }), []],
    ['verdict differs', rule({ verdict: 'breached' }), run({}), ['verdict: expected breached, got isolated']],
    ['stop by reason', rule({ stopped: [{ reason: 'ir.source-id', fault: null, at: null }] }), run({ stopped: [sid, sid] }), []],
    ['stop by fault code alone', rule({ stopped: [{ reason: null, fault: 0x26, at: 'root-complex' }] }), run({ stopped: [sid] }), []],
    ['a stated stop that did not happen', rule({ stopped: [{ reason: 'ir.not-present', fault: null, at: null }] }), run({ stopped: [sid] }), ['stopped: expected ir.not-present, which did not happen', 'stopped: unexpected ir.source-id (0x26) at root-complex']],
    ['a stop the rule does not state', rule({ stopped: [{ reason: 'ir.source-id', fault: null, at: null }] }), run({ stopped: [sid, compat] }), ['stopped: unexpected ir.compat-blocked (0x25) at root-complex']],
    ['stopped: [] and nothing stopped', rule({ stopped: [] }), run({}), []],
    [
      'breaches exactly',
      rule({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: 'host' }] }),
      run({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: 'host' }, { kind: 'bar-write', victim: 'host' }] }),
      [],
    ],
    [
      'a new breach kind fails the run',
      rule({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: null }] }),
      run({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: 'host' }, { kind: 'memory-write', victim: 'vm2' }] }),
      ['breaches: unexpected memory-write of vm2'],
    ],
    ['wrong victim', rule({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: 'vm2' }] }), run({ verdict: 'breached', breaches: [{ kind: 'bar-write', victim: 'host' }] }), ['breaches: expected bar-write of vm2, which did not happen', 'breaches: unexpected bar-write of host']],
    ['refused by the stated gate', rule({ refusedBy: 'vfio-viability' }), run({ refusedBy: 'vfio-viability' }), []],
    ['not refused although the rule says so', rule({ refusedBy: 'vfio-viability' }), run({}), ['refused-by: expected vfio-viability, got none']],
    ['refused although the rule says none', rule({ refusedBy: 'none' }), run({ refusedBy: 'isolated-msi' }), ['refused-by: expected none, got isolated-msi']],
  ])('%s', (_name, r, o, expected) => {
    expect(differences(r, o)).toEqual(expected);
  });
});

describe('a library scenario with a wrong reason fails, naming the difference', () => {
  const file = join(import.meta.dirname, '../../scenarios/spoofed-msi.yaml');
  // The isolated configuration is stopped by 25h and 26h; claim 22h instead.
  const text = readFileSync(file, 'utf8').replace('{ reason: ir.source-id, fault: 0x26, at: root-complex }]', '{ reason: ir.not-present, fault: 0x22, at: root-complex }]');

  it('the same verdict, a different reason: not as expected', () => {
    const loaded = loadScenario(file, text);
    const variant = loaded.variants.find((v) => v.assignment['machine.iommu.interrupt-remapping'] === 'on' && v.assignment['machine.iommu.source-id-validation'] === 'on')!;
    const { result } = runVariant(loaded, variant, 1);
    expect(result.verdict).toBe('isolated');
    expect(result.pass).toBe(false);
    expect(result.differences).toEqual([
      'stopped: expected ir.not-present fault 0x22 at root-complex, which did not happen',
      'stopped: unexpected ir.source-id (0x26) at root-complex',
    ]);
  });
});
