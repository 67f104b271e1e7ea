/**
 * Verdict rules of DESIGN.md §3, row by row, judged from ending records
 * whose byte spans come from the same Ownership the fabric attributes with.
 * Byte-exactness: an access is cut at every region, BAR, sub-region and
 * grant boundary; every foreign, ungranted piece is a breach with its byte
 * count; a span across two grants both held is not.
 */
import { describe, expect, it } from 'vitest';
import type { Effect, Ending } from '../../src/fabric/ending.ts';
import { GrantLedger } from '../../src/policy/grants.ts';
import { Ownership } from '../../src/policy/ownership.ts';
import { judge } from '../../src/policy/verdict.ts';

const NVME_BAR = { name: 'nvme.bar0', base: 0xc000_0000, size: 0x4000 };
const NIC_BAR = { name: 'nic.bar0', base: 0xc001_0000, size: 0x10000 };

const ownership = new Ownership(
  [
    { name: 'host-ram', base: 0, size: 0x7000_0000, owner: 'host' },
    { name: 'vm2-ram', base: 0x7000_0000, size: 0x1000_0000, owner: 'vm2' },
    { name: 'vm1-ram', base: 0x8000_0000, size: 0x4000_0000, owner: 'vm1' },
  ],
  [
    { ...NVME_BAR, owner: 'host', regions: [] },
    { ...NIC_BAR, owner: 'vm1', regions: [{ name: 'nic migration registers', offset: 0x8000, size: 0x8000, owner: 'host' }] },
  ],
  new Map([
    ['nic', 'vm1'],
    ['nvme', 'host'],
  ]),
);

function grants() {
  const ledger = new GrantLedger();
  // vm1's NIC may DMA into 0x100 bytes of a host bounce buffer at 0x10_0100 (sub-page: starts mid-page) until t=500.
  ledger.map('vm1', ['vm1'], { iova: 0x0, hpa: 0x10_0100, size: 0x100, perm: 'rw' }, 0);
  ledger.map('vm1', ['vm1'], { iova: 0x1_0000, hpa: 0x20_0000, size: 0x1000, perm: 'r' }, 0);
  // Two adjacent grants, each of 0x80 bytes: together they cover [0x30_0000, 0x30_0100).
  ledger.map('vm1', ['vm1'], { iova: 0x2_0000, hpa: 0x30_0000, size: 0x80, perm: 'rw' }, 0);
  ledger.map('vm1', ['vm1'], { iova: 0x3_0000, hpa: 0x30_0080, size: 0x80, perm: 'rw' }, 0);
  ledger.unmap('vm1', 0x0, 0x100, 500);
  return ledger;
}

let nextTlp = 1;
function ending(effects: Effect[], over: Partial<Ending> = {}): Ending {
  return {
    tlp: nextTlp++, type: 'MemWr', origin: 'nic', principal: 'vm1', requester: 0x0300, address: 0, length: 4, at: 'untranslated',
    outcome: 'delivered', reason: 'memory.write', rule: '', decidedAt: 'root-complex', faultCode: null, time: 100, request: null, step: 0, effects, ...over,
  };
}

/** A write or read landing in host memory at `hpa`, with its spans cut by the Ownership. */
const memory = (hpa: number, length = 4, op: 'write' | 'read' = 'write', time = 100) =>
  ending([{ kind: 'bytes', op, spans: ownership.memorySpans(hpa, length) }], { length, time, type: op === 'write' ? 'MemWr' : 'MemRd', outcome: op === 'write' ? 'delivered' : 'completed', reason: `memory.${op}` });
const bar = (b: typeof NIC_BAR, offset: number, length = 4) => ending([{ kind: 'bytes', op: 'write', spans: ownership.barSpans(b, b.base + offset, length) }], { length, reason: 'bar.write' });
/** A read's completion, delivered to `device` (so the verdict knows where the data went). */
const dataTo = (request: Ending, device: string) =>
  ending([{ kind: 'data', device, owner: ownership.ownerOfFunction(device) }], { type: 'CplD', origin: 'host', principal: 'host', request: request.tlp, reason: 'completion.delivered' });

const breachesOf = (endings: Ending[]) => judge('vm1', endings, grants()).breaches.map((b) => [b.kind, b.victim, b.bytes]);

describe('memory and BAR accesses, byte by byte (DESIGN.md §3)', () => {
  it.each<[string, Ending, (string | number)[][]]>([
    ['own memory', memory(0x8000_1000), []],
    ['inside a granted buffer', memory(0x10_0100), []],
    ['a granted buffer after its unmap (stale IOTLB window): the grant ended at t=500', memory(0x10_0100, 4, 'write', 600), [['memory-write', 'host', 4]]],
    ['same page as the buffer, outside it (sub-page exposure)', memory(0x10_0000), [['memory-write', 'host', 4]]],
    ['straddling the end of a grant: only the 2 bytes past it are foreign', memory(0x10_01fe), [['memory-write', 'host', 2]]],
    ['straddling two adjacent grants both held: nothing foreign', memory(0x30_0070, 0x20), []],
    ['straddling out of the second grant', memory(0x30_00f0, 0x20), [['memory-write', 'host', 0x10]]],
    ['straddling from foreign into own memory: only the foreign bytes count', memory(0x7fff_fffc, 8), [['memory-write', 'vm2', 4]]],
    ['straddling two foreign regions: one breach per victim', memory(0x6fff_fffc, 8), [['memory-write', 'host', 4], ['memory-write', 'vm2', 4]]],
    ['read-only grant read', memory(0x20_0000, 4, 'read'), []],
    ['read-only grant written', memory(0x20_0000), [['memory-write', 'host', 4]]],
    ['peer BAR written', bar(NVME_BAR, 0x10), [['bar-write', 'host', 4]]],
    ['own BAR written', bar(NIC_BAR, 0x10), []],
    ['own BAR, host-owned sub-region inside it', bar(NIC_BAR, 0x8000), [['bar-write', 'host', 4]]],
    ['own BAR, straddling into the host-owned sub-region: the 4 bytes inside it', bar(NIC_BAR, 0x7ffc, 8), [['bar-write', 'host', 4]]],
    ['unclaimed hole: no owner, no victim', memory(0xf000_0000 + 0x1000_0000), []],
  ])('%s', (_name, e, expected) => {
    expect(breachesOf([e])).toEqual(expected);
  });

  it('names the victim, the foreign pieces and their region', () => {
    const [breach] = judge('vm1', [memory(0x10_01fe)], grants(), { evidence: () => [1, 2], how: () => 'stale IOTLB' }).breaches;
    expect(breach).toMatchObject({ attacker: 'vm1', victim: 'host', bytes: 2, evidence: [1, 2], spans: [{ base: 0x10_0200, length: 2, region: 'host-ram', owner: 'host' }] });
    expect(breach!.detail).toMatch(/2 of 4 byte\(s\) at 0x100200\+2 in host-ram .* — stale IOTLB/);
  });

  it('ignores effects of principals other than the attacker', () => {
    expect(judge('vm1', [{ ...memory(0x5000), principal: 'host' }], grants()).verdict).toBe('isolated');
  });
});

describe('reads are judged by where their data went (PCIe 6.0 §2.2.9)', () => {
  it('a foreign read whose completion reached the attacker is a breach', () => {
    const read = memory(0x5000, 4, 'read');
    expect(breachesOf([read, dataTo(read, 'nic')])).toEqual([['memory-read', 'host', 4]]);
  });

  it('a foreign read under a forged ID whose data went to the victim is a stop, not a breach', () => {
    const read = memory(0x5000, 4, 'read');
    const result = judge('vm1', [read, dataTo(read, 'nvme')], grants());
    expect(result.breaches).toEqual([]);
    expect(result.stopped.map((s) => s.reason)).toEqual(['read.data-elsewhere']);
  });
});

describe('interrupts: every CPU that accepted it (DESIGN.md §3)', () => {
  const irq = (receivers: { cpu: number; vectorOwner: string | null }[], entry: number | null = null, entryOwner: string | null = null) =>
    ending([{ kind: 'interrupt', controller: 'lapic', path: entry === null ? 'untranslated' : 'remapped', entry, entryOwner, stale: false, vector: 0x30, destination: 0, receivers: receivers.map((r) => ({ ...r, vector: 0x30 })) }], { reason: 'interrupt.delivered' });

  it.each<[string, Ending, (string | number[])[][]]>([
    ['own vector through own IRTE', irq([{ cpu: 0, vectorOwner: 'vm1' }], 0, 'vm1'), []],
    ['foreign IRTE (remappable MSI naming another device’s entry)', irq([{ cpu: 2, vectorOwner: 'host' }], 4, 'host'), [['foreign-irte', 'host', [2]]]],
    ['compat-format MSI with a host vector', irq([{ cpu: 0, vectorOwner: 'host' }]), [['interrupt-injection', 'host', [0]]]],
    ['compat-format MSI with a vector nobody allocated', irq([{ cpu: 0, vectorOwner: null }]), [['interrupt-injection', 'host', [0]]]],
    ['own vector without remapping', irq([{ cpu: 0, vectorOwner: 'vm1' }]), []],
    ['broadcast: own vector on CPU 0, the host\'s on CPUs 1 and 3 (SDM §11.6.2.3 and §11.12.9)', irq([{ cpu: 0, vectorOwner: 'vm1' }, { cpu: 1, vectorOwner: 'host' }, { cpu: 3, vectorOwner: 'host' }]), [['interrupt-injection', 'host', [1, 3]]]],
    ['logical destination, every CPU of the set has it as vm1\'s', irq([{ cpu: 0, vectorOwner: 'vm1' }, { cpu: 1, vectorOwner: 'vm1' }]), []],
    ['posted interrupt to another guest\'s descriptor (VT-d §5.2.3)', irq([{ cpu: -1, vectorOwner: 'vm2' }]), [['interrupt-injection', 'vm2', [-1]]]],
  ])('%s', (_name, e, expected) => {
    expect(judge('vm1', [e], grants()).breaches.map((b) => [b.kind, b.victim, [...b.cpus]])).toEqual(expected);
  });
});

describe('config accesses and stops', () => {
  it('a config write to a foreign device is a breach; to its own device it is not', () => {
    const config = (device: string) => ending([{ kind: 'config', op: 'write', device, offset: 4, length: 2, owner: ownership.ownerOfFunction(device) }], { type: 'CfgWr', origin: 'host', principal: 'vm1', reason: 'config.write' });
    expect(breachesOf([config('nvme'), config('nic')])).toEqual([['config-write', 'host', 2]]);
  });

  it('blocked, faulted and refused attempts are isolation evidence, not breaches', () => {
    const faulted = ending([], { outcome: 'faulted', reason: 'ir.source-id', faultCode: 0x26 });
    const refused = ending([], { tlp: null, type: null, origin: 'host', outcome: 'blocked', reason: 'vfio.not-owner', decidedAt: 'host (vfio-pci)' });
    const result = judge('vm1', [faulted, refused], grants());
    expect(result.verdict).toBe('isolated');
    expect(result.stopped.map((s) => [s.reason, s.faultCode, s.decidedAt])).toEqual([
      ['ir.source-id', 0x26, 'root-complex'],
      ['vfio.not-owner', null, 'host (vfio-pci)'],
    ]);
  });
});
