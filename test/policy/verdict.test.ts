/** Verdict rules of DESIGN.md §3, row by row. */
import { describe, expect, it } from 'vitest';
import { GrantLedger } from '../../src/policy/grants.ts';
import { Ownership } from '../../src/policy/ownership.ts';
import { judge, type AccessEffect, type Effect, type InterruptEffect } from '../../src/policy/verdict.ts';

const ownership = new Ownership(
  [
    { name: 'host-ram', base: 0, size: 0x8000_0000, owner: 'host' },
    { name: 'vm1-ram', base: 0x8000_0000, size: 0x4000_0000, owner: 'vm1' },
  ],
  [
    { name: 'nvme.bar0', base: 0xc000_0000, size: 0x4000, owner: 'host', regions: [] },
    { name: 'nic.bar0', base: 0xc001_0000, size: 0x10000, owner: 'vm1', regions: [{ name: 'nic migration registers', offset: 0x8000, size: 0x8000, owner: 'host' }] },
  ],
  new Map([
    ['nic', 'vm1'],
    ['nvme', 'host'],
  ]),
);

function grants() {
  const ledger = new GrantLedger();
  // vm1's NIC may DMA into 0x1000 bytes of a host bounce buffer at 0x10_0100 (sub-page: starts mid-page).
  ledger.map('vm1', ['vm1'], { iova: 0x0, hpa: 0x10_0100, size: 0x100, perm: 'rw' }, 0);
  ledger.map('vm1', ['vm1'], { iova: 0x1_0000, hpa: 0x20_0000, size: 0x1000, perm: 'r' }, 0);
  ledger.unmap('vm1', 0x0, 0x100, 500);
  return ledger;
}

const access = (address: number, op: 'read' | 'write' = 'write', time = 100, length = 4): AccessEffect => ({
  kind: 'access', tlp: 1, principal: 'vm1', origin: 'nic', op, address, length, time, evidence: [1, 2], how: '',
});

describe('memory and BAR accesses (DESIGN.md §3)', () => {
  it.each<[string, AccessEffect, string | null]>([
    ['own memory', access(0x8000_1000), null],
    ['granted buffer, inside the mapping', access(0x10_0100), null],
    ['granted buffer, after unmap (stale IOTLB window)', access(0x10_0100, 'write', 600), 'memory-write'],
    ['same page as the buffer but outside it (sub-page exposure)', access(0x10_0000), 'memory-write'],
    ['access straddling the end of the grant', access(0x10_01fe), 'memory-write'],
    ['read-only grant read', access(0x20_0000, 'read'), null],
    ['read-only grant written', access(0x20_0000, 'write'), 'memory-write'],
    ['foreign memory read', access(0x5000, 'read'), 'memory-read'],
    ['peer BAR written', access(0xc000_0010), 'bar-write'],
    ['own BAR written', access(0xc001_0010), null],
    ['own BAR, host-owned region inside it', access(0xc001_8000), 'bar-write'],
    ['unowned hole', access(0xf000_0000), null],
  ])('%s', (_name, effect, kind) => {
    const result = judge('vm1', [effect], ownership, grants());
    expect(result.breaches.map((b) => b.kind)).toEqual(kind === null ? [] : [kind]);
    expect(result.verdict).toBe(kind === null ? 'isolated' : 'breached');
  });

  it('names the victim and keeps the evidence ids', () => {
    const [breach] = judge('vm1', [access(0xc000_0010)], ownership, grants()).breaches;
    expect(breach).toMatchObject({ attacker: 'vm1', victim: 'host', evidence: [1, 2] });
  });

  it('ignores effects of principals other than the attacker', () => {
    expect(judge('vm1', [{ ...access(0x5000), principal: 'host' }], ownership, grants()).verdict).toBe('isolated');
  });
});

describe('interrupts', () => {
  const irq = (over: Partial<InterruptEffect>): InterruptEffect => ({
    kind: 'interrupt', tlp: 1, principal: 'vm1', origin: 'nic', vector: 0x30, destination: 0, vectorOwner: null, irte: null, irteOwner: null, evidence: [3], ...over,
  });

  it.each<[string, InterruptEffect, string | null]>([
    ['own vector through own IRTE', irq({ vectorOwner: 'vm1', irte: 0, irteOwner: 'vm1' }), null],
    ['foreign IRTE (remappable MSI naming another device’s entry)', irq({ vectorOwner: 'host', irte: 4, irteOwner: 'host' }), 'foreign-irte'],
    ['compat-format MSI with a host vector', irq({ vectorOwner: 'host' }), 'interrupt-injection'],
    ['compat-format MSI with a vector nobody allocated', irq({}), 'interrupt-injection'],
    ['own vector without remapping', irq({ vectorOwner: 'vm1' }), null],
  ])('%s', (_name, effect, kind) => {
    expect(judge('vm1', [effect], ownership, grants()).breaches.map((b) => b.kind)).toEqual(kind === null ? [] : [kind]);
  });
});

describe('config writes and refusals', () => {
  it('a config write to a foreign device is a breach; to its own device it is not', () => {
    const effects: Effect[] = [
      { kind: 'config', principal: 'vm1', device: 'nvme', offset: 0x4, evidence: [7] },
      { kind: 'config', principal: 'vm1', device: 'nic', offset: 0x4, evidence: [8] },
    ];
    expect(judge('vm1', effects, ownership, grants()).breaches.map((b) => [b.kind, b.victim])).toEqual([['config-write', 'host']]);
  });

  it('blocked and faulted attempts are isolation evidence, not breaches', () => {
    const result = judge('vm1', [{ kind: 'refusal', tlp: 4, origin: 'nic', outcome: 'faulted', reason: 'ir.sid-mismatch', faultCode: 0x26, decidedAt: 'root-complex', evidence: [9] }], ownership, grants());
    expect(result.verdict).toBe('isolated');
    expect(result.refusals).toHaveLength(1);
  });
});
