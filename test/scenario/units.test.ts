/**
 * Quantities are read exactly (src/scenario/units.ts): PCIe addresses are 64
 * bits (PCIe 6.0 §2.2.4.1, 4DW headers); the simulator holds numbers below
 * 2^53 exactly and refuses, never rounds, anything larger.
 */
import { describe, expect, it } from 'vitest';
import { EXACT_LIMIT, hexGrouped, MAX_ADDRESS_64, readQuantity } from '../../src/scenario/units.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { ScenarioError } from '../../src/scenario/diagnostics.ts';

describe('readQuantity', () => {
  it.each([
    [4096, 4096],
    ['0x1000', 0x1000],
    ['0xffff_ffff', 0xffff_ffff],
    ['64K', 65536],
    ['64KiB', 65536],
    ['1.5M', 1.5 * 2 ** 20],
    ['2G', 2 ** 31],
    ['0x1f_ffff_ffff_ffff', Number.MAX_SAFE_INTEGER],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [2n ** 52n, 2 ** 52],
  ])('%s reads as %d, exactly', (input, value) => expect(readQuantity(input)).toEqual({ ok: true, value }));

  it.each([
    ['0x20_0000_0000_0000', 2n ** 53n],
    ['0xffff_ffff_ffff_ffff', MAX_ADDRESS_64],
    ['18446744073709551615', MAX_ADDRESS_64],
    ['16384T', 2n ** 54n],
  ])('%s is a 64-bit value the simulator cannot hold exactly yet: refused with the exact value, not rounded', (input, exact) => {
    expect(readQuantity(input)).toEqual({ ok: false, reason: 'inexact', exact });
  });

  it.each(['0x1_0000_0000_0000_0000', '18446744073709551616', '16777216T'])('%s past 64 bits is refused as such', (input) => {
    expect(readQuantity(input)).toMatchObject({ ok: false, reason: 'over-64-bit' });
  });

  it.each(['1.5', '0.3K', '-4', 'four', '', '0x', 12.5, -1, null])('%s is malformed', (input) => {
    expect(readQuantity(input)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('quotes limits in grouped hex', () => {
    expect(hexGrouped(MAX_ADDRESS_64)).toBe('0xffff_ffff_ffff_ffff');
    expect(hexGrouped(EXACT_LIMIT)).toBe('0x20_0000_0000_0000');
    expect(hexGrouped(0x1234n)).toBe('0x1234');
  });
});

const scenario = (write: string) => `
schema: tlplab/v1
name: wide
title: t
summary: s
sources: [s]
machine:
  memory: [{ name: ram, base: 0x0, size: 1G, owner: host }]
  devices:
    - { id: rp0, type: root-port, acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K] }
attack:
  attacker: vm1
  steps:
    - { at: 0ns, from: nic, write: ${write}, data: 1 }
expect: [{ verdict: isolated }]
`;

describe('YAML integer literals beyond 2^53 never pass through a float', () => {
  it('the largest exact one loads as itself', () => {
    const loaded = loadScenario('wide.yaml', scenario('0x1fffffffffffff'));
    expect(loaded.variants[0]!.spec.steps[0]).toMatchObject({ target: { address: Number.MAX_SAFE_INTEGER } });
  });

  it.each([
    ['0x20000000000000', '0x20000000000000'],
    ['18446744073709551615', '0xffffffffffffffff'],
  ])('a request address %s loads exactly, as hex text beside its stand-in number (readRequestAddress)', (literal, exact) => {
    const loaded = loadScenario('wide.yaml', scenario(literal));
    expect(loaded.variants[0]!.spec.steps[0]).toMatchObject({ target: { address: Number(BigInt(exact)), exact } });
  });

  it.each([['0x10000000000000000', "address '0x10000000000000000' is beyond the 64-bit limit 0xffff_ffff_ffff_ffff"]])('%s is refused at its position, as written', (literal, message) => {
    let error: unknown;
    try {
      loadScenario('wide.yaml', scenario(literal));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const [d] = (error as ScenarioError).diagnostics;
    expect([d!.line, d!.column]).toEqual([15, 36]);
    expect(d!.message).toContain(message);
  });
});
