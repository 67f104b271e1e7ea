/**
 * The systematic probes read off a machine (src/hunt/candidates.ts): one
 * table per class of the threat model, each row naming the fact of the
 * machine it comes from — VT-d 5.10 §5.1.2.2 for remappable handles and
 * SHV subhandles (index = handle + subhandle), §5.1.4.1 for the index
 * classes (beyond the table 21h, not present 22h), Linux dma-iommu.c's
 * flush queue for the race window (fq_timeout after the first queued
 * unmap).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systematicProbes } from '../../src/hunt/candidates.ts';
import { scenarioConfigurations } from '../../src/hunt/input.ts';
import { randomProbes } from '../../src/hunt/random.ts';
import { readSurface } from '../../src/hunt/surface.ts';
import { buildMachine } from '../../src/scenario/machine.ts';
import { composeRemappable } from '../../src/interrupts/x86-msi.ts';

function surfaceOf(file: string, variant: Record<string, unknown> = {}) {
  const path = join(import.meta.dirname, '../../scenarios', file);
  const [config] = scenarioConfigurations(path, readFileSync(path, 'utf8'), (l) => [l.variants.find((v) => Object.entries(variant).every(([k, value]) => JSON.stringify(v.assignment[k]) === JSON.stringify(value)))!]).configurations;
  const machine = buildMachine(config!.spec, 1);
  return readSurface(machine, (config!.document.attack as { steps: Record<string, unknown>[] }).steps);
}

describe('the attack surface', () => {
  it('irte-index-abuse: the NIC\'s IRTEs 0-3 are its own, the drive\'s 4 is foreign, 5 is the first free, the table holds 256 (IRTA.S=7)', () => {
    const s = surfaceOf('irte-index-abuse.yaml', { 'attack.steps.0.msi.irte': 4, 'machine.iommu.source-id-validation': 'on' });
    expect(s.irtes).toEqual({ size: 256, own: [0, 1, 2, 3], foreign: [{ index: 4, owner: 'host' }], notPresent: 5 });
  });

  it('migration-registers-same-rid: the host\'s sub-regions inside the guest\'s own BARs are targets, the guest\'s own parts are not', () => {
    const s = surfaceOf('migration-registers-same-rid.yaml');
    const mine = s.bars.filter((b) => b.device === 'acc-vf').map((b) => [b.name, b.offset, b.owner, b.subRegion]);
    expect(mine).toEqual([
      ['migration-regs', 0x8000, 'host', true],
      ['migration-bar', 0, 'host', true],
    ]);
    expect(s.bars.some((b) => b.device === 'acc-mig' && !b.subRegion)).toBe(true);
  });

  it('deferred-invalidation-window: the host\'s unmap is the timeline (the attacker\'s own writes are not); epochs at 0 and at the unmap', () => {
    const s = surfaceOf('deferred-invalidation-window.yaml');
    expect(s.timeline.map((t) => t.spec.kind)).toEqual(['unmap']);
    expect(s.epochs).toEqual([0, 10_000]);
    expect(s.devices[0]!.travel).toBe(200);
  });
});

describe('probes by class', () => {
  const spoofed = surfaceOf('spoofed-msi.yaml', { 'machine.iommu.interrupt-remapping': 'on', 'machine.iommu.source-id-validation': 'on' });
  const probes = systematicProbes(spoofed);
  const entries = (technique: string) => probes.filter((p) => p.technique === technique).map((p) => p.steps.map((s) => s.entry));

  it.each([
    // Every foreign BAR: write, read, and an AT=translated write (DT lets translated P2P through RR).
    ['foreign-bar', [[{ from: 'nic', write: { bar: 'nvme.0', offset: 0 }, data: 0x41414141 }], [{ from: 'nic', read: { bar: 'nvme.0', offset: 0 } }]]],
    // The IRTE index classes, named by handle with SHV clear (VT-d §5.1.2.2).
    ['irte-own', [[{ from: 'nic', msi: { irte: 0 } }]]],
    ['irte-foreign', [[{ from: 'nic', msi: { irte: 4 } }]]],
    ['irte-not-present', [[{ from: 'nic', msi: { irte: 5 } }]]],
    // 65536 entries: no 16-bit handle names one beyond; handle 0xffff + subhandle 1 does (index 0x10000, fault 21h).
    ['irte-beyond', [[{ from: 'nic', write: composeRemappable(0xffff, 1, true).address, data: 1 }]]],
    // The drive's IRTE 4 reached from the NIC's own handle 0 with subhandle 4.
    ['irte-subhandle', [[{ from: 'nic', write: composeRemappable(0, 4, true).address, data: 4 }]]],
    // The drive's programmed message (remappable, handle 4, SHV, subhandle 0), as a plain DWORD write.
    ['msi-replay', [[{ from: 'nic', write: composeRemappable(4, 0, true).address, data: 0, note: "nvme's MSI message (vector 0)" }]]],
    // Vector 0x80 to APIC 0 in compatibility format (bit 4 clear).
    ['msi-compat', [[{ from: 'nic', write: 0xfee0_0000, data: 0x80 }]]],
    // The drive's ID (04:00.0) into its identity domain and with its MSI; a free ID on its bus with its MSI.
    ['forged-bus', [[{ from: 'nic', write: composeRemappable(4, 0, true).address, data: 0, as: '04:1f.7', note: "nvme's MSI message (vector 0)" }]]],
  ] as const)('%s', (technique, expected) => {
    expect(entries(technique)).toEqual(expected);
  });

  it('forged requester IDs: the drive\'s, into host memory (identity domain), its BAR through the root complex, and its MSI', () => {
    const forged = entries('forged-rid').map((e) => e[0]!);
    expect(forged).toContainEqual({ from: 'nic', write: 0, data: 0x41414141, as: '04:00.0' });
    expect(forged).toContainEqual({ from: 'nic', write: { bar: 'nvme.0', offset: 0 }, data: 0x41414141, as: '04:00.0' });
    expect(forged).toContainEqual({ from: 'nic', write: composeRemappable(4, 0, true).address, data: 0, as: '04:00.0', note: "nvme's MSI message (vector 0)" });
    // Switch ports are in no domain: forging their IDs selects no context (fault), so no memory probe uses them.
    expect(forged.filter((e) => e.as === '03:00.0')).toEqual([]);
  });

  it('page edges: the bytes after a 3 KiB grant, in its page (sub-page exposure)', () => {
    const s = surfaceOf('sub-page-exposure.yaml', { 'attack.steps.0.write': '0x100c28' });
    const edges = systematicProbes(s).filter((p) => p.technique === 'page-edge').map((p) => p.steps[0]!.entry);
    expect(edges).toEqual([{ from: 'nic', write: 0x100c00, data: 0x41414141 }]);
  });

  it('races with the unmap: warm the IOTLB while mapped, then write before, inside and after the flush window', () => {
    const s = surfaceOf('deferred-invalidation-window.yaml', { 'machine.iommu.invalidation': 'deferred' });
    const races = systematicProbes(s).filter((p) => p.technique === 'race-unmap');
    expect(races.every((p) => p.alone && p.steps[0]!.entry.write === 0x100000 && p.at === 9000)).toBe(true);
    const second = races.map((p) => p.steps[1]!);
    expect(second.map((x) => x.offset ?? null)).toEqual([999, null, null, null, null]);
    // 10 ms flush timeout, 200 ns from the NIC to the IOMMU.
    expect(second.filter((x) => x.after).map((x) => [x.after!.delay, x.entry.read === undefined ? 'write' : 'read'])).toEqual([
      [1, 'write'],
      [1, 'read'],
      [10_000_000 - 200 - 1, 'write'],
      [10_000_000 + 1, 'write'],
    ]);
  });
});

describe('random probes', () => {
  const s = surfaceOf('spoofed-msi.yaml');
  it('the seed decides them, and the budget counts them', () => {
    expect(randomProbes(s, 3, 40)).toEqual(randomProbes(s, 3, 40));
    expect(randomProbes(s, 3, 40)).not.toEqual(randomProbes(s, 4, 40));
    expect(randomProbes(s, 3, 40)).toHaveLength(40);
    expect(randomProbes(s, 3, 0)).toEqual([]);
  });
});
