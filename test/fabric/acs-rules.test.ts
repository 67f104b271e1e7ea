import { describe, expect, it } from 'vitest';
import { Acs } from '../../src/pcie/acs.ts';
import { AcsState, checkSource, p2pCompletionRuling, p2pRequestRuling, sameLinkRuling } from '../../src/fabric/acs-rules.ts';
import type { AddressType } from '../../src/pcie/tlp.ts';

const ALL = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
const state = (ctl: number, vector = 0, cap = ALL) => new AcsState(cap, ctl, vector);
const buses = { secondary: 3, subordinate: 5 };

describe('ACS Source Validation and Translation Blocking (PCIe 6.0 §6.12.1.1)', () => {
  it.each<[string, AcsState | null, number, AddressType, string | null]>([
    ['no ACS capability: nothing checked', null, 9, 'translated', null],
    ['SV off: foreign bus passes', state(0), 9, 'untranslated', null],
    ['SV on: bus below secondary blocked', state(Acs.SV), 2, 'untranslated', 'acs.source-validation'],
    ['SV on: bus above subordinate blocked', state(Acs.SV), 6, 'untranslated', 'acs.source-validation'],
    ['SV on: secondary bus passes (inclusive)', state(Acs.SV), 3, 'untranslated', null],
    ['SV on: subordinate bus passes (inclusive)', state(Acs.SV), 5, 'untranslated', null],
    ['SV not implemented: hard-wired on (Linux pci_acs_flags_enabled)', state(0, 0, ALL & ~Acs.SV), 9, 'untranslated', 'acs.source-validation'],
    ['TB not implemented: optional, not enforced', state(0, 0, ALL & ~Acs.TB), 4, 'translated', null],
    ['TB on: translated blocked', state(Acs.TB), 4, 'translated', 'acs.translation-blocking'],
    ['TB on: translation request blocked (AT not default)', state(Acs.TB), 4, 'translation-request', 'acs.translation-blocking'],
    ['TB on: untranslated passes', state(Acs.TB), 4, 'untranslated', null],
    ['TB off: translated passes', state(Acs.SV), 4, 'translated', null],
  ])('%s', (_name, acs, bus, at, reason) => {
    expect(checkSource(acs, bus, buses, at)?.reason ?? null).toBe(reason);
  });
});

describe('ACS peer-to-peer request interactions (PCIe 6.0 §6.12.3)', () => {
  it.each<[string, AcsState | null, AddressType, number, string]>([
    ['no ACS capability', null, 'untranslated', 1, 'direct'],
    ['nothing enabled', state(0), 'untranslated', 1, 'direct'],
    ['RR redirects', state(Acs.RR), 'untranslated', 1, 'redirect'],
    ['RR implemented and off: direct', state(Acs.CR, 0, ALL), 'untranslated', 1, 'direct'],
    ['RR not implemented: the function cannot do P2P, so it goes upstream (§6.12.1.2)', state(0, 0, ALL & ~Acs.RR), 'untranslated', 1, 'redirect'],
    ['capability advertising nothing: SV/RR/CR/UF hard-wired on', state(0, 0, 0), 'untranslated', 1, 'redirect'],
    ['EC not implemented: no egress control', state(Acs.RR, ~0, ALL & ~Acs.EC & ~Acs.RR), 'untranslated', 1, 'redirect'],
    ['DT with RR: translated goes direct', state(Acs.RR | Acs.DT), 'translated', 1, 'direct'],
    ['DT with RR: untranslated still redirected', state(Acs.RR | Acs.DT), 'untranslated', 1, 'redirect'],
    ['DT overrides EC for translated', state(Acs.EC | Acs.DT, 0b10), 'translated', 1, 'direct'],
    ['DT ignored when TB is set', state(Acs.RR | Acs.DT | Acs.TB), 'translated', 1, 'redirect'],
    ['EC bit set, RR clear: blocked', state(Acs.EC, 0b10), 'untranslated', 1, 'block'],
    ['EC bit set, RR set: redirected', state(Acs.EC | Acs.RR, 0b10), 'untranslated', 1, 'redirect'],
    ['EC bit clear for this target: direct', state(Acs.EC, 0b01), 'untranslated', 1, 'direct'],
    ['EC vector without EC enabled: direct', state(0, 0b10), 'untranslated', 1, 'direct'],
    ['EC with a target that has no port number: direct', state(Acs.EC, ~0), 'untranslated', -1, 'direct'],
  ])('%s', (_name, acs, at, target, decision) => {
    expect(p2pRequestRuling(acs, at, target).decision).toBe(decision);
  });

  it.each<[string, AcsState | null, string]>([
    ['no capability', null, 'direct'],
    ['CR off', state(Acs.RR), 'direct'],
    ['CR on', state(Acs.CR), 'redirect'],
  ])('completions: %s', (_name, acs, decision) => expect(p2pCompletionRuling(acs).decision).toBe(decision));

  it.each<[string, AcsState | null, boolean, string]>([
    ['UF on, redirected TLP: forwarded upstream', state(Acs.UF), true, 'upstream'],
    ['UF on, TLP not redirected: routed normally', state(Acs.UF), false, 'reflect'],
    ['UF off, redirected TLP: reflected back down', state(Acs.RR), true, 'reflect'],
    ['no capability: reflected', null, true, 'reflect'],
  ])('same-link routing: %s (§6.12.1.1 ACS Upstream Forwarding)', (_name, acs, redirected, decision) => {
    expect(sameLinkRuling(acs, redirected).decision).toBe(decision);
  });
});
