/**
 * The ACS rules row by row, as PCIe Base 6.3 §6.12 states them. Each table
 * names the section (and table) a row comes from.
 */
import { describe, expect, it } from 'vitest';
import { ACS_ENHANCED, Acs, AcsCtl, memoryTargetBits } from '../../src/pcie/acs.ts';
import {
  AcsState,
  RULES,
  checkSource,
  memoryTargetRuling,
  p2pCompletionRuling,
  p2pRequestRuling,
  sameLinkRuling,
  unclaimedRuling,
} from '../../src/fabric/acs-rules.ts';
import type { AddressType } from '../../src/pcie/tlp.ts';
import { SILICON } from '../../src/fabric/silicon.ts';

const ALL = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
const state = (ctl: number, vector = 0n, cap = ALL, size = 32) => new AcsState(true, cap, ctl, vector, size);
const buses = { secondary: 3, subordinate: 5 };

describe('§6.12.1.1 Source Validation, Translation Blocking, I/O Request Blocking', () => {
  it.each<[string, AcsState | null, number, AddressType, boolean, string | null]>([
    ['no ACS capability: nothing checked', null, 9, 'translated', false, null],
    ['SV off: foreign bus passes', state(0), 9, 'untranslated', false, null],
    ['SV on: bus below secondary blocked', state(Acs.SV), 2, 'untranslated', false, 'acs.source-validation'],
    ['SV on: bus above subordinate blocked', state(Acs.SV), 6, 'untranslated', false, 'acs.source-validation'],
    ['SV on: secondary bus passes (inclusive aperture)', state(Acs.SV), 3, 'untranslated', false, null],
    ['SV on: subordinate bus passes (inclusive aperture)', state(Acs.SV), 5, 'untranslated', false, null],
    ['SV not implemented: hard-wired on (Linux pci_acs_flags_enabled)', state(0, 0n, ALL & ~Acs.SV), 9, 'untranslated', false, 'acs.source-validation'],
    ['TB not implemented: optional, not enforced', state(0, 0n, ALL & ~Acs.TB), 4, 'translated', false, null],
    ['TB on: translated blocked', state(Acs.TB), 4, 'translated', false, 'acs.translation-blocking'],
    ['TB on: translation request blocked (AT not 00b)', state(Acs.TB), 4, 'translation-request', false, 'acs.translation-blocking'],
    ['TB on: untranslated passes', state(Acs.TB), 4, 'untranslated', false, null],
    ['TB off: translated passes', state(Acs.SV), 4, 'translated', false, null],
    ['IORB on (ACS Enhanced): upstream I/O request blocked', state(AcsCtl.IORB, 0n, ALL | ACS_ENHANCED), 4, 'untranslated', true, 'acs.io-request-blocking'],
    ['IORB off: I/O request passes', state(0, 0n, ALL | ACS_ENHANCED), 4, 'untranslated', true, null],
    ['no ACS Enhanced: IORB does not exist, I/O request passes', state(AcsCtl.IORB), 4, 'untranslated', true, null],
    ['SV still applies to an I/O request', state(Acs.SV | AcsCtl.IORB, 0n, ALL | ACS_ENHANCED), 9, 'untranslated', true, 'acs.source-validation'],
  ])('%s', (_name, acs, bus, at, io, reason) => {
    expect(checkSource(acs, bus, buses, at, io)?.reason ?? null).toBe(reason);
  });
});

describe('§6.12.3 Table 6-11: ACS P2P Request Redirect and ACS P2P Egress Control interactions', () => {
  // Columns: E (P2P Egress Control Enable), R (P2P Request Redirect Enable), the target's vector bit.
  it.each<[number, number, number | 'X', 'direct' | 'redirect' | 'block', string]>([
    [0, 0, 'X', 'direct', RULES.direct],
    [0, 1, 'X', 'redirect', RULES.rr],
    [1, 0, 1, 'block', RULES.ecViolation],
    [1, 0, 0, 'direct', RULES.ecClear],
    [1, 1, 1, 'redirect', RULES.ecRedirect],
    [1, 1, 0, 'direct', RULES.ecClear],
  ])('E=%i R=%i vector bit %s: %s', (e, r, bit, decision, rule) => {
    const ctl = (e ? Acs.EC : 0) | (r ? Acs.RR : 0);
    for (const vectorBit of bit === 'X' ? [0, 1] : [bit]) {
      const ruling = p2pRequestRuling(state(ctl, vectorBit ? 1n << 5n : 0n), 'untranslated', 5);
      expect([ruling.decision, ruling.rule]).toEqual([decision, rule]);
    }
  });
});

describe('§6.12.3 and §6.12.1.1: Direct Translated P2P comes before Table 6-11', () => {
  it.each<[string, number, bigint, AddressType, string]>([
    ['DT with RR: translated goes direct', Acs.RR | Acs.DT, 0n, 'translated', 'direct'],
    ['DT with RR: untranslated still redirected', Acs.RR | Acs.DT, 0n, 'untranslated', 'redirect'],
    ['DT with E=1, R=0, bit set: translated goes direct, not a violation', Acs.EC | Acs.DT, 1n << 5n, 'translated', 'direct'],
    ['DT with E=1, R=0, bit set: untranslated is a violation', Acs.EC | Acs.DT, 1n << 5n, 'untranslated', 'block'],
    ['no DT: translated follows Table 6-11 (R=1: redirect)', Acs.RR, 0n, 'translated', 'redirect'],
  ])('%s', (_name, ctl, vector, at, decision) => {
    expect(p2pRequestRuling(state(ctl, vector), at, 5).decision).toBe(decision);
  });
});

describe('Egress Control Vector indexed by Port Number up to 256 bits (§7.7.11.2, §7.7.11.4)', () => {
  it.each<[string, number, number, bigint, 'redirect' | 'direct' | 'block']>([
    ['bit 0 names Port Number 0', 32, 0, 1n, 'block'],
    ['bit 31 in the first DWORD', 32, 31, 1n << 31n, 'block'],
    ['Port Number 40 is bit 8 of the second DWORD', 64, 40, 1n << 40n, 'block'],
    ['Port Number 255 in a 256-bit vector', 256, 255, 1n << 255n, 'block'],
    ['another port’s bit does not count', 256, 200, 1n << 201n, 'direct'],
    ['a Port Number at or beyond the Vector Size has no bit: treated as clear (row E=1, bit 0)', 8, 40, 1n << 40n, 'direct'],
  ])('%s', (_name, size, port, vector, decision) => {
    expect(p2pRequestRuling(state(Acs.EC, vector, ALL, size), 'untranslated', port).decision).toBe(decision);
  });

  it('the Vector Size field reads 00h for 256 bits and N otherwise', () => {
    expect(state(0, 0n, ALL, 256).capabilityRegister >>> 8).toBe(0);
    expect(state(0, 0n, ALL, 64).capabilityRegister >>> 8).toBe(64);
  });

  it('EC not implemented: the vector has no effect (optional control, §6.12.1.1)', () => {
    expect(p2pRequestRuling(state(Acs.EC, 1n << 5n, ALL & ~Acs.EC), 'untranslated', 5).decision).toBe('direct');
  });

  it('a target with no Port Number (-1) has no bit', () => {
    expect(p2pRequestRuling(state(Acs.EC | Acs.RR, ~0n & ((1n << 32n) - 1n)), 'untranslated', -1).decision).toBe('direct');
  });
});

describe('capability register semantics (§6.12.1.1/§6.12.1.2 with Linux pci_acs_flags_enabled)', () => {
  it.each<[string, AcsState | null, string]>([
    ['no ACS capability: direct', null, 'direct'],
    ['RR implemented and off: direct', state(Acs.CR), 'direct'],
    ['RR not implemented: hard-wired, the function cannot do P2P, so it goes upstream', state(0, 0n, ALL & ~Acs.RR), 'redirect'],
    ['capability advertising nothing: SV/RR/CR/UF hard-wired on', state(0, 0n, 0), 'redirect'],
  ])('%s', (_name, acs, decision) => {
    expect(p2pRequestRuling(acs, 'untranslated', 1).decision).toBe(decision);
  });
});

describe('§6.12.3: completion redirection is determined exclusively by CR', () => {
  it.each<[string, AcsState | null, string]>([
    ['no capability', null, 'direct'],
    ['CR off, RR on', state(Acs.RR), 'direct'],
    ['CR on', state(Acs.CR), 'redirect'],
    ['CR off, EC on with every bit set: completions are never affected by Egress Control', state(Acs.EC, (1n << 32n) - 1n), 'direct'],
  ])('%s', (_name, acs, decision) => expect(p2pCompletionRuling(acs).decision).toBe(decision));
});

describe('§6.12.1.1 ACS Upstream Forwarding: a TLP from below targeting the port’s own egress', () => {
  it.each<[string, AcsState | null, string, string]>([
    ['UF on: forwarded upstream (whether or not a lower port redirected it)', state(Acs.UF), 'upstream', RULES.uf],
    ['UF off: undefined by the spec; modelled as routed back down (worst case)', state(Acs.RR), 'reflect', RULES.reflect],
    ['UF not implemented: hard-wired on', state(0, 0n, ALL & ~Acs.UF), 'upstream', RULES.uf],
    ['no capability: undefined; routed back down', null, 'reflect', RULES.reflect],
  ])('%s', (_name, acs, decision, rule) => {
    const ruling = sameLinkRuling(acs);
    expect([ruling.decision, ruling.rule]).toEqual([decision, rule]);
  });
});

describe('§6.12.1.1 ACS DSP and USP Memory Target Access (ACS Enhanced)', () => {
  const enhanced = (ctl: number) => state(ctl, 0n, ALL | ACS_ENHANCED);
  it.each<['dsp' | 'usp', number, string, string]>([
    ['dsp', memoryTargetBits('direct', 'dsp'), 'direct', RULES.mtDirect],
    ['dsp', memoryTargetBits('block', 'dsp'), 'block', RULES.mtBlock],
    ['dsp', memoryTargetBits('redirect', 'dsp'), 'redirect', RULES.mtRedirect],
    ['dsp', 3 << 8, 'direct', RULES.mtReserved],
    ['usp', memoryTargetBits('direct', 'usp'), 'direct', RULES.mtDirect],
    ['usp', memoryTargetBits('block', 'usp'), 'block', RULES.mtBlock],
    ['usp', memoryTargetBits('redirect', 'usp'), 'redirect', RULES.mtRedirect],
    ['usp', 3 << 10, 'direct', RULES.mtReserved],
    // The DSP field does not govern the USP's BARs, nor the other way round.
    ['usp', memoryTargetBits('redirect', 'dsp') | Acs.RR, 'direct', RULES.mtDirect],
  ])('%s field %i: %s', (which, ctl, decision, rule) => {
    const ruling = memoryTargetRuling(enhanced(ctl), which);
    expect([ruling.decision, ruling.rule]).toEqual([decision, rule]);
  });

  it.each<[string, AcsState | null, string]>([
    ['without ACS Enhanced, RR on: port BARs follow RR (Linux’s assumption, 2025 series patch 10/11)', state(Acs.RR), 'redirect'],
    ['without ACS Enhanced, RR off: direct', state(0), 'direct'],
    ['no ACS capability: direct', null, 'direct'],
    ['ACS Enhanced makes RR irrelevant to port BARs', enhanced(Acs.RR), 'direct'],
  ])('%s', (_name, acs, decision) => {
    expect(memoryTargetRuling(acs, 'dsp').decision).toBe(decision);
  });
});

describe('§6.12.1.1 ACS Unclaimed Request Redirect (switch downstream ports)', () => {
  it.each<[string, AcsState | null, string]>([
    ['enabled: redirected upstream out of the switch', state(AcsCtl.UNCLAIMED_RR, 0n, ALL | ACS_ENHANCED), 'redirect'],
    ['not enabled: Unsupported Request at the downstream port', state(0, 0n, ALL | ACS_ENHANCED), 'block'],
    ['no ACS Enhanced: the control does not exist', state(AcsCtl.UNCLAIMED_RR), 'block'],
    ['no capability', null, 'block'],
  ])('%s', (_name, acs, decision) => expect(unclaimedRuling(acs).decision).toBe(decision));
});

describe('silicon facts put controls in force without an ACS capability', () => {
  it('a root port whose silicon isolates redirects P2P and names the fact', () => {
    const silicon = SILICON.qcomRootPort;
    const acs = AcsState.from(undefined, silicon, silicon.isolates)!;
    const ruling = p2pRequestRuling(acs, 'untranslated', 1);
    expect(ruling.decision).toBe('redirect');
    expect(ruling.rule).toContain(`silicon fact ${silicon.id}`);
    expect(checkSource(acs, 9, buses, 'untranslated')?.rule).toContain(silicon.id);
    expect(sameLinkRuling(acs).rule).toContain(silicon.id);
  });

  it('a claim the hardware does not honour puts nothing in force: the capability-less port routes directly', () => {
    const acs = AcsState.from(undefined, SILICON.qcomRootPort, 0)!;
    expect([p2pRequestRuling(acs, 'untranslated', 1).decision, checkSource(acs, 9, buses, 'untranslated')]).toEqual(['direct', null]);
  });

  it('a control the registers enable is cited as the register, not the fact', () => {
    const acs = AcsState.from({ cap: ALL, ctl: Acs.RR }, SILICON.intelSpt, SILICON.intelSpt.isolates)!;
    expect(p2pRequestRuling(acs, 'untranslated', 1).rule).toBe(RULES.rr);
  });
});
