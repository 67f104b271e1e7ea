/**
 * The systematic probes, built from the attack surface along the threat
 * model (DESIGN.md: a device the attacker controls may emit any memory
 * request, with any requester ID its firmware can forge, any AT value, at
 * any time): every foreign BAR and sub-region; every foreign memory region
 * and every other domain's IOVAs; the bytes beside each grant in its page;
 * every other function's requester ID (and a free one on each bus) into
 * what that ID's domain maps and through its interrupt messages; AT =
 * translated requests; the MSI window in compatibility and remappable
 * format with each IRTE index class (own, foreign, not present, beyond the
 * table, reached through an SHV subhandle); and accesses racing each host
 * unmap — before it, inside the flush window and after it.
 */
import { composeRemappable, MSI_WINDOW } from '../interrupts/x86-msi.ts';
import type { Probe, ProbeStep, StepEntry, Technique } from './model.ts';
import { PAGE, ridOf, type AttackerDevice, type BarTarget, type MessageFact, type Surface } from './surface.ts';
import { formatRid } from '../pcie/bdf.ts';
import { formatAddress } from '../pcie/range.ts';

/** What a write probe writes (any value would do; this one is easy to spot in a trace). */
export const PROBE_DATA = 0x41414141;
/** Vector 0x80 to APIC 0: Linux's system-call gate, never a device's (White Rabbit's choice). */
const COMPAT_VECTOR = 0x80;
/** Mappings per domain and IRTEs per owner probed (the rest add no new path). */
const PER_DOMAIN = 4;
const SUBHANDLES_PER_OWNER = 4;

export const hex = formatAddress;

type Access = { readonly address: number } | { readonly bar: string; readonly offset: number };

function target(t: Access): unknown {
  return 'address' in t ? t.address : { bar: t.bar, offset: t.offset };
}

interface Mods {
  readonly as?: number;
  readonly translated?: boolean;
  readonly size?: number;
}

function mods(m: Mods): StepEntry {
  return {
    ...(m.size !== undefined && m.size !== 4 ? { size: m.size } : {}),
    ...(m.as === undefined ? {} : { as: formatRid(m.as) }),
    ...(m.translated ? { translated: true } : {}),
  };
}

/** A write; its data cut to the access (a value wider than the access is refused: check-steps.ts). */
export function writeEntry(from: string, t: Access, data: number, m: Mods = {}): StepEntry {
  const size = m.size ?? 4;
  return { from, write: target(t), data: size >= 4 ? data : data % 2 ** (8 * size), ...mods(m) };
}

export function readEntry(from: string, t: Access, m: Mods = {}): StepEntry {
  return { from, read: target(t), ...mods(m) };
}

export function systematicProbes(s: Surface): Probe[] {
  const out: Probe[] = [];
  for (const epoch of s.epochs) {
    for (const d of s.devices) {
      const add = (technique: Technique, label: string, entry: StepEntry) => out.push({ technique, from: d.id, label, steps: [{ entry }], at: epoch, alone: false });
      barProbes(s, d, add);
      memoryProbes(s, d, add);
      forgedProbes(s, d, add);
      interruptProbes(s, d, add);
    }
  }
  for (const d of s.devices) out.push(...raceProbes(s, d), ...ownershipRaces(s, d), ...irteRaces(s, d));
  return out;
}

/**
 * Races with each host IRTE rewrite (VT-d 5.10 §6.5.2.7: software must
 * invalidate the interrupt entry cache after changing an IRTE; until then a
 * cached copy keeps translating): the device uses the entry while it is
 * cached, then again 1 ns after the rewrite and 1 ns after each later
 * invalidation of any kind.
 */
function irteRaces(s: Surface, d: AttackerDevice): Probe[] {
  const probes: Probe[] = [];
  for (const t of s.timeline) {
    if (t.spec.kind !== 'irte-write' || t.spec.after || t.spec.at === 0) continue;
    const index = t.spec.irte.index;
    const lead = Math.min(t.spec.at, 1000);
    const use = (): StepEntry => ({ from: d.id, msi: { irte: index } });
    const position = (index: number) => s.timeline.indexOf(s.timeline.find((x) => x.index === index)!);
    const probe = (label: string, ref: number): Probe => ({
      technique: 'race-irte',
      from: d.id,
      label: `IRTE ${index} used while cached, then ${label}`,
      steps: [{ entry: use(), offset: 0 }, { entry: use(), after: { ref: { timeline: position(ref) }, delay: 1 } }],
      at: t.spec.at - lead,
      alone: true,
    });
    probes.push(probe(`1 ns after the host rewrote it at ${t.spec.at} ns`, t.index));
    for (const inv of s.timeline) if (inv.spec.kind === 'invalidate' && !inv.spec.after && inv.spec.at >= t.spec.at) probes.push(probe(`1 ns after the ${inv.spec.what} invalidation at ${inv.spec.at} ns`, inv.index));
  }
  return probes;
}

/** Host steps that change who holds what (issue 17): a TLP is judged by who holds its target when it lands. */
const OWNERSHIP_KINDS = new Set(['assign', 'release', 'reset', 'hot-unplug', 'reassign-memory', 'free']);

/**
 * Accesses racing each change of ownership: issued 1 ns before it (in
 * flight across it) and 1 ns after, to the device's own BARs, its
 * domain's first IOVA and each foreign region — what was the attacker's,
 * or granted to it, may not be by the time the TLP lands.
 */
function ownershipRaces(s: Surface, d: AttackerDevice): Probe[] {
  const probes: Probe[] = [];
  const own = s.ownBars.filter((b) => b.device === d.id);
  const iova = s.domains.find((x) => x.name === d.domain)?.mappings[0]?.iova;
  for (const t of s.timeline) {
    if (!OWNERSHIP_KINDS.has(t.spec.kind) || t.spec.after || t.spec.at === 0) continue;
    for (const at of [t.spec.at - 1, t.spec.at + 1]) {
      const when = at < t.spec.at ? `issued 1 ns before the ${t.spec.kind} at ${t.spec.at} ns` : `1 ns after the ${t.spec.kind}`;
      const add = (label: string, entry: StepEntry) => probes.push({ technique: 'race-ownership', from: d.id, label: `${label}, ${when}`, steps: [{ entry }], at, alone: false });
      for (const b of own) add(`write its own ${b.name}`, writeEntry(d.id, barAccess(b), PROBE_DATA));
      if (iova !== undefined) add(`write IOVA ${hex(iova)} of its domain`, writeEntry(d.id, { address: iova }, PROBE_DATA));
      for (const m of s.memory.slice(0, PER_DOMAIN)) add(`write ${m.name}`, writeEntry(d.id, { address: m.base }, PROBE_DATA));
    }
  }
  return probes;
}

/** A BAR piece by name (DEVICE.N and offset) when a step can name it, else by its bus address. */
function barAccess(b: BarTarget): Access {
  return b.named ? { bar: `${b.device}.${b.index}`, offset: b.offset } : { address: b.address };
}

type Add = (technique: Technique, label: string, entry: StepEntry) => void;

function barProbes(s: Surface, d: AttackerDevice, add: Add): void {
  for (const b of s.bars) {
    const t = barAccess(b);
    const technique = b.subRegion ? 'bar-region' : 'foreign-bar';
    add(technique, `write ${b.name} (${b.owner}'s)`, writeEntry(d.id, t, PROBE_DATA));
    add(technique, `read ${b.name} (${b.owner}'s)`, readEntry(d.id, t));
    add('translated', `AT=translated write to ${b.name}`, writeEntry(d.id, t, PROBE_DATA, { translated: true }));
  }
}

function memoryProbes(s: Surface, d: AttackerDevice, add: Add): void {
  for (const m of s.memory) {
    for (const address of edges(m.base, m.size)) {
      add('foreign-memory', `write ${m.name} (${m.owner}'s) at ${hex(address)}`, writeEntry(d.id, { address }, PROBE_DATA));
      add('foreign-memory', `read ${m.name} (${m.owner}'s) at ${hex(address)}`, readEntry(d.id, { address }));
      add('translated', `AT=translated write to ${m.name} at ${hex(address)}`, writeEntry(d.id, { address }, PROBE_DATA, { translated: true }));
      add('translated', `AT=translated read of ${m.name} at ${hex(address)}`, readEntry(d.id, { address }, { translated: true }));
    }
  }
  for (const dom of s.domains) {
    const own = dom.devices.includes(d.id);
    for (const m of dom.mappings.slice(0, PER_DOMAIN)) {
      if (own) {
        pageEdges(m.iova, m.size, (address, size) => add('page-edge', `write beside ${dom.name}'s grant at IOVA ${hex(address)}`, writeEntry(d.id, { address }, PROBE_DATA, { size })));
        if (m.perm === 'r') add('page-edge', `write to read-only IOVA ${hex(m.iova)}`, writeEntry(d.id, { address: m.iova }, PROBE_DATA));
        if (m.perm === 'w') add('page-edge', `read of write-only IOVA ${hex(m.iova)}`, readEntry(d.id, { address: m.iova }));
      } else {
        add('domain-iova', `write IOVA ${hex(m.iova)} of domain ${dom.name}`, writeEntry(d.id, { address: m.iova }, PROBE_DATA));
        add('domain-iova', `read IOVA ${hex(m.iova)} of domain ${dom.name}`, readEntry(d.id, { address: m.iova }));
      }
    }
  }
}

/** First and last DWORD of a region. */
function edges(base: number, size: number): number[] {
  return size <= 4 ? [base] : [base, base + size - 4];
}

/** The bytes of a grant's first and last page that the grant does not cover (sub-page exposure). */
function pageEdges(iova: number, size: number, out: (address: number, size: number) => void): void {
  const end = iova + size;
  if (end % PAGE !== 0) out(end, Math.min(4, PAGE - (end % PAGE)));
  if (iova % PAGE !== 0) {
    const before = Math.max(iova - 4, iova - (iova % PAGE));
    out(before, iova - before);
  }
}

/**
 * Another function's requester ID: into what its domain maps (or, for an
 * identity domain, memory itself), and through its interrupt messages; one
 * representative per (domain, bus) — the ID matters to the IOMMU only by
 * the context it selects, and to ACS SV only by its bus.
 */
function forgedProbes(s: Surface, d: AttackerDevice, add: Add): void {
  const seen = new Set<string>();
  const bars = new Set<string>();
  for (const f of s.functions) {
    if (f.owner === s.attacker || f.domain === null) continue;
    const key = `${f.domain}/${f.bus}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const dom = s.domains.find((x) => x.name === f.domain)!;
    const as = f.rid;
    if (dom.mode === 'identity' || !s.iommu) {
      for (const m of s.memory.slice(0, PER_DOMAIN)) add('forged-rid', `write ${m.name} as ${f.id} (${formatRid(as)})`, writeEntry(d.id, { address: m.base }, PROBE_DATA, { as }));
      // Through an identity domain the root complex decodes a BAR's address too: peer-to-peer by way of the IOMMU.
      if (!bars.has(dom.name)) {
        bars.add(dom.name);
        for (const b of s.bars) add('forged-rid', `write ${b.name} as ${f.id} (${formatRid(as)}), through the root complex`, writeEntry(d.id, barAccess(b), PROBE_DATA, { as }));
      }
    }
    for (const m of dom.mappings.slice(0, PER_DOMAIN)) {
      add('forged-rid', `write IOVA ${hex(m.iova)} of domain ${dom.name} as ${f.id} (${formatRid(as)})`, writeEntry(d.id, { address: m.iova }, PROBE_DATA, { as }));
      add('forged-rid', `read IOVA ${hex(m.iova)} of domain ${dom.name} as ${f.id} (${formatRid(as)})`, readEntry(d.id, { address: m.iova }, { as }));
    }
  }
  const rid = new Map(s.functions.map((f) => [f.id, f]));
  for (const msg of s.messages) {
    const owner = rid.get(msg.device)!;
    const replay = (technique: Technique, label: string, as: number) => add(technique, label, replayEntry(d.id, msg, as));
    replay('forged-rid', `${msg.device}'s MSI as ${msg.device} (${formatRid(owner.rid)})`, owner.rid);
    // A requester ID on the victim's bus that names no function: passes bus-range checks (SVT=10), fails exact ones.
    replay('forged-bus', `${msg.device}'s MSI as ${formatRid(ridOf(owner.bus, 31, 7))} on its bus`, ridOf(owner.bus, 31, 7));
  }
}

/**
 * Another device's programmed message written as a plain DWORD (White
 * Rabbit: a DMA write to the MSI window is an interrupt), as read when the
 * machine was set up — a later release or reset may tear the device's own down.
 */
function replayEntry(from: string, msg: MessageFact, as?: number): StepEntry {
  return { ...writeEntry(from, { address: msg.address }, msg.data, as === undefined ? {} : { as }), note: `${msg.device}'s MSI message (vector ${msg.vector})` };
}

function interruptProbes(s: Surface, d: AttackerDevice, add: Add): void {
  for (const msg of s.messages) add('msi-replay', `replay ${msg.device}'s MSI (vector ${msg.vector})`, replayEntry(d.id, msg));
  if (!s.x86) return;
  add('msi-compat', `compatibility-format MSI, vector ${hex(COMPAT_VECTOR)} to APIC 0`, writeEntry(d.id, { address: MSI_WINDOW.base }, COMPAT_VECTOR));
  // AMD-Vi: the data names an entry of the table the device's DTE points at (AMD IOMMU 48882 §2.2.5).
  if (s.amd !== null) {
    for (const index of s.amd.used) add('irte-foreign', `MSI data naming entry ${index} of its interrupt table`, writeEntry(d.id, { address: MSI_WINDOW.base }, index));
    add('irte-not-present', `MSI data naming entry ${s.amd.free}, past the entries in use`, writeEntry(d.id, { address: MSI_WINDOW.base }, s.amd.free));
    add('irte-beyond', `MSI data naming entry ${s.amd.size}, beyond a ${s.amd.size}-entry table`, writeEntry(d.id, { address: MSI_WINDOW.base }, s.amd.size));
  }
  const irtes = s.irtes;
  if (irtes === null) return;
  for (const index of irtes.own.slice(0, 1)) add('irte-own', `remappable MSI naming its own IRTE ${index}`, { from: d.id, msi: { irte: index } });
  for (const { index, owner } of irtes.foreign) add('irte-foreign', `remappable MSI naming IRTE ${index} (${owner}'s)`, { from: d.id, msi: { irte: index } });
  if (irtes.notPresent !== null) add('irte-not-present', `remappable MSI naming IRTE ${irtes.notPresent} (not present)`, { from: d.id, msi: { irte: irtes.notPresent } });
  if (irtes.size <= 0xffff) add('irte-beyond', `remappable MSI naming IRTE ${irtes.size}, beyond the ${irtes.size}-entry table`, { from: d.id, msi: { irte: irtes.size } });
  else subhandle(d, 0xffff, 1, `IRTE 0x10000 through handle 0xffff + subhandle 1, beyond the table`, 'irte-beyond', add);
  const base = irtes.own[0] ?? 0;
  const perOwner = new Map<string, number>();
  for (const { index, owner } of irtes.foreign) {
    if (index <= base || index - base > 0xffff) continue;
    const n = perOwner.get(owner) ?? 0;
    if (n >= SUBHANDLES_PER_OWNER) continue;
    perOwner.set(owner, n + 1);
    subhandle(d, base, index - base, `IRTE ${index} (${owner}'s) through handle ${base} + SHV subhandle ${index - base}`, 'irte-subhandle', add);
  }
}

/** A remappable write with SHV set: index = handle + subhandle (VT-d 5.10 §5.1.2.2). */
function subhandle(d: AttackerDevice, handle: number, sub: number, label: string, technique: Technique, add: Add): void {
  const { address, data } = composeRemappable(handle, sub, true);
  add(technique, label, writeEntry(d.id, { address }, data));
}

/**
 * Accesses racing each host unmap (Linux dma-iommu.c: the flush queue
 * invalidates fq_timeout after the first queued unmap): the device first
 * touches the buffer while it is mapped (its translation is cached), then
 * writes it — issued just before the unmap (in flight across it), 1 ns
 * after it, just before the flush would land and just after it — and
 * after every later explicit invalidation.
 */
function raceProbes(s: Surface, d: AttackerDevice): Probe[] {
  const probes: Probe[] = [];
  for (const t of s.timeline) {
    if (t.spec.kind !== 'unmap' || t.spec.after) continue;
    const unmap = t.spec;
    const dom = s.domains.find((x) => x.name === unmap.domain);
    if (dom === undefined) continue;
    // Its own ID when the device is in the domain; else the ID of a device that is.
    const member = dom.devices.includes(d.id) ? null : s.functions.find((f) => dom.devices.includes(f.id) && f.owner !== s.attacker);
    if (member === undefined) continue;
    const as = member === null ? {} : { as: member.rid };
    const lead = Math.min(unmap.at, 1000);
    const warm: ProbeStep = { entry: writeEntry(d.id, { address: unmap.iova }, 1, as), offset: 0 };
    const start = unmap.at - lead;
    const probe = (label: string, second: ProbeStep, op: 'write' | 'read' = 'write'): Probe => ({
      technique: 'race-unmap',
      from: d.id,
      label: `${op} IOVA ${hex(unmap.iova)} ${label} (domain ${unmap.domain})`,
      steps: [warm, second],
      at: start,
      alone: true,
    });
    const access = (op: 'write' | 'read') => (op === 'write' ? writeEntry(d.id, { address: unmap.iova }, PROBE_DATA, as) : readEntry(d.id, { address: unmap.iova }, as));
    const after = (delay: number, op: 'write' | 'read' = 'write', ref: number = t.index): ProbeStep => ({ entry: access(op), after: { ref: { timeline: s.timeline.indexOf(s.timeline.find((x) => x.index === ref)!) }, delay } });
    if (lead > 1) probes.push(probe('issued 1 ns before the unmap', { entry: access('write'), offset: lead - 1 }));
    for (const op of ['write', 'read'] as const) probes.push(probe('1 ns after the unmap', after(1, op), op));
    const late = s.flushTimeoutNs - d.travel - 1;
    if (late > 1) probes.push(probe('just before the flush queue drains', after(late)));
    probes.push(probe('just after the flush queue drained', after(s.flushTimeoutNs + 1)));
    for (const inv of s.timeline) {
      if (inv.spec.kind === 'invalidate' && !inv.spec.after && inv.spec.at >= unmap.at) probes.push(probe(`1 ns after the invalidation at ${inv.spec.at} ns`, after(1, 'write', inv.index)));
    }
  }
  return probes;
}
