/**
 * Seeded random exploration beyond the systematic probes: random accesses
 * from the attacker's devices around every interesting address (BARs,
 * memory, IOVAs, the MSI window) or anywhere, with random sizes, requester
 * IDs (another function's, or any 16-bit value), AT values and times
 * across the host's timeline and its flush windows. The seed decides
 * everything; the same seed and budget give the same probes.
 */
import { Rng } from '../sim/rng.ts';
import { MSI_WINDOW } from '../interrupts/x86-msi.ts';
import type { Probe } from './model.ts';
import { hex, readEntry, writeEntry } from './candidates.ts';
import { PAGE, type Surface } from './surface.ts';

const SIZES = [1, 2, 4, 4, 4, 8, 64];

export function randomProbes(s: Surface, seed: number, budget: number): Probe[] {
  if (budget <= 0 || s.devices.length === 0) return [];
  const rng = new Rng(`hunt/${seed}`);
  const horizon = Math.max(0, ...s.timeline.map((t) => t.spec.at)) + (s.deferred ? s.flushTimeoutNs : 0) + 2000;
  const anchors = anchorsOf(s);
  const probes: Probe[] = [];
  for (let i = 0; i < budget; i++) {
    const d = rng.pick(s.devices);
    const roll = rng.next();
    // Near an anchor (within its page, DWORD-aligned), or anywhere below 4 GiB.
    const anchor = roll < 0.85 && anchors.length > 0 ? rng.pick(anchors) : null;
    let address = anchor === null ? rng.int(2 ** 30) * 4 : anchor + rng.int(PAGE / 4) * 4 - (rng.next() < 0.2 ? PAGE : 0);
    address = Math.max(0, address);
    let size = rng.pick(SIZES);
    // A DMA request may not cross a 4 KiB boundary (PCIe 6.0 §2.2.7); keep probes well-formed most of the time.
    if (rng.next() < 0.9 && (address % PAGE) + size > PAGE) size = PAGE - (address % PAGE);
    const forge = rng.next();
    const as = forge < 0.15 && s.functions.length > 0 ? rng.pick(s.functions).rid : forge < 0.2 ? rng.int(0x10000) : undefined;
    const translated = rng.next() < 0.1;
    const read = rng.next() < 0.3;
    const at = rng.next() < 0.5 ? rng.pick(s.epochs) : rng.int(horizon + 1);
    const m = { size, translated, ...(as === undefined ? {} : { as }) };
    const entry = read ? readEntry(d.id, { address }, m) : writeEntry(d.id, { address }, inWindow(address) ? rng.int(0x10000) : rng.int(2 ** 32), m);
    probes.push({ technique: 'random', from: d.id, label: `random ${read ? 'read' : 'write'} of ${size} byte(s) at ${hex(address)}${as === undefined ? '' : ` as ${hex(as)}`}${translated ? ' (AT=translated)' : ''}`, steps: [{ entry }], at, alone: false });
  }
  return probes;
}

function inWindow(address: number): boolean {
  return address >= MSI_WINDOW.base && address < MSI_WINDOW.base + MSI_WINDOW.size;
}

/** Page-aligned addresses worth aiming near: BARs (resolved later by offset), memory, IOVAs, the MSI window. */
function anchorsOf(s: Surface): number[] {
  const anchors = new Set<number>([MSI_WINDOW.base]);
  for (const m of s.memory) anchors.add(m.base).add(m.base + m.size - PAGE);
  for (const d of s.domains) for (const m of d.mappings) anchors.add(m.iova - (m.iova % PAGE)).add(m.iova + m.size - ((m.iova + m.size) % PAGE || PAGE));
  for (const b of s.barBases) anchors.add(b);
  return [...anchors].filter((a) => a >= 0).sort((a, b) => a - b);
}
