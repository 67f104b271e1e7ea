/**
 * BAR and bridge-window assignment, the way firmware and Linux's
 * pbus_size_mem/pci_assign_unassigned_resources do it: size bottom-up
 * (each bridge window holds its children, aligned to the largest of them,
 * rounded to the 1 MiB window granule of PCI-to-PCI Bridge Arch. 1.2
 * §3.2.5.8), then place top-down, largest alignment first. Non-prefetchable
 * and 32-bit BARs go in the memory window below 4 GiB; 64-bit prefetchable
 * BARs in the prefetchable window. Pinned BARs and windows stay put and
 * the rest is packed around them.
 */
import { TopologyError, type BarConfig, type FabricConfig } from './topology.ts';
import type { EnumeratedFunction, Enumeration } from './enumerate.ts';
import { formatAddress, formatRange, type AddressRange } from '../pcie/range.ts';

export const WINDOW_GRANULE = 1 << 20;

type Space = 'memory' | 'prefetchable';

interface Item {
  readonly size: number;
  readonly align: number;
  /** Base when pinned; null when it may be placed anywhere. */
  readonly fixed: number | null;
  readonly owner: string;
  /** "BAR 0 of 'nic'" or "the memory window of 'rp0'", for errors. */
  readonly what: string;
  place(base: number): void;
}

export function barSpace(bar: BarConfig): Space {
  const bits = bar.bits ?? (bar.prefetch ? 64 : 32);
  return bar.prefetch === true && bits === 64 ? 'prefetchable' : 'memory';
}

export function assignResources(enumeration: Enumeration, config: FabricConfig): void {
  for (const fn of enumeration.scanOrder) checkBars(fn);
  for (const space of ['memory', 'prefetchable'] as const) {
    const pool = space === 'memory' ? config.mmio32 : config.mmio64;
    const items = itemsOnBus(enumeration.root, space);
    const end = pack(items, pool.base);
    if (items.some((i) => i.fixed === null) && end > pool.base + pool.size) {
      throw new TopologyError(
        'MMIO_EXHAUSTED',
        `the ${space} BARs need up to ${formatAddress(end)}, beyond the ${space === 'memory' ? 'mmio32' : 'mmio64'} pool ${formatRange(pool)}`,
        items[0]!.owner,
        'bars',
      );
    }
  }
}

function checkBars(fn: EnumeratedFunction): void {
  fn.bars = [];
  (fn.config.bars ?? []).forEach((bar, index) => {
    const field = `bars.${index}`;
    if (!Number.isSafeInteger(bar.size) || bar.size < 16 || (bar.size & (bar.size - 1)) !== 0) {
      throw new TopologyError('BAR_SIZE', `BAR ${index} of '${fn.config.id}' has size ${bar.size}; a memory BAR is a power of two of at least 16 bytes`, fn.config.id, field);
    }
    if (bar.at !== undefined && bar.at % bar.size !== 0) {
      throw new TopologyError('BAR_ALIGN', `BAR ${index} of '${fn.config.id}' at ${formatAddress(bar.at)} is not aligned to its size ${formatAddress(bar.size)}`, fn.config.id, `${field}.at`);
    }
    const bits = bar.bits ?? (bar.prefetch ? 64 : 32);
    if (bits === 32 && bar.at !== undefined && bar.at + bar.size > 2 ** 32) {
      throw new TopologyError('BAR_RANGE', `32-bit BAR ${index} of '${fn.config.id}' lies above 4 GiB`, fn.config.id, `${field}.at`);
    }
    fn.bars.push({ index, base: bar.at ?? -1, size: bar.size, prefetch: bar.prefetch ?? false, bits });
  });
}

function itemsOnBus(functions: readonly EnumeratedFunction[], space: Space): Item[] {
  const items: Item[] = [];
  for (const fn of functions) {
    (fn.config.bars ?? []).forEach((bar, index) => {
      if (barSpace(bar) !== space) return;
      items.push({
        size: bar.size,
        align: bar.size,
        fixed: bar.at ?? null,
        owner: fn.config.id,
        what: `BAR ${index} of '${fn.config.id}'`,
        place: (base) => {
          fn.bars[index] = { ...fn.bars[index]!, base };
        },
      });
    });
    if (fn.config.sriov !== undefined) items.push(...vfBarItems(fn, space));
    if (fn.buses !== null) {
      const window = bridgeItem(fn, space);
      if (window) items.push(window);
    }
  }
  return items;
}

/**
 * A PF's VF BAR i reserves NumVFs × its size, aligned to the size (Linux
 * sriov_init: the IOV resource is size × TotalVFs; pci_sriov_resource_alignment
 * is the VF BAR size); VF n's BAR i is the n-th slice (SR-IOV 1.1 §3.3.14).
 */
function vfBarItems(pf: EnumeratedFunction, space: Space): Item[] {
  const sriov = pf.config.sriov!;
  const vfs = pf.virtfns;
  if (vfs.length === 0) return [];
  return sriov.vfBars.flatMap((bar, index): Item[] => {
    if (barSpace(bar) !== space) return [];
    return [
      {
        size: bar.size * vfs.length,
        align: bar.size,
        fixed: null,
        owner: pf.config.id,
        what: `VF BAR ${index} of '${pf.config.id}'`,
        place: (base) => vfs.forEach((vf, n) => void (vf.bars[index] = { ...vf.bars[index]!, base: base + n * bar.size })),
      },
    ];
  });
}

function bridgeItem(bridge: EnumeratedFunction, space: Space): Item | null {
  const kids = itemsOnBus(bridge.children, space);
  const pinned = bridge.config.windows?.[space];
  const id = bridge.config.id;
  if (pinned === null || (pinned === undefined && kids.length === 0)) {
    if (kids.length > 0) {
      throw new TopologyError('WINDOW_CLOSED', `'${id}' has its ${space} window closed, but ${kids[0]!.owner} below it needs ${space} space`, id, 'windows');
    }
    bridge.windows[space] = null;
    return null;
  }
  if (pinned !== undefined) {
    const end = pack(kids, pinned.base);
    if (end > pinned.base + pinned.size || kids.some((k) => k.fixed !== null && k.fixed < pinned.base)) {
      throw new TopologyError('WINDOW_OVERFLOW', `the ${space} resources below '${id}' do not fit its window ${formatRange(pinned)}`, id, 'windows');
    }
    bridge.windows[space] = pinned;
    return fixedItem(id, space, pinned);
  }
  const fixedBases = kids.filter((k) => k.fixed !== null).map((k) => k.fixed!);
  if (fixedBases.length > 0) {
    const base = alignDown(Math.min(...fixedBases), WINDOW_GRANULE);
    const window = { base, size: alignUp(pack(kids, base), WINDOW_GRANULE) - base };
    bridge.windows[space] = window;
    return fixedItem(id, space, window);
  }
  // Movable: lay the children out from offset 0, then shift them when the window is placed.
  const offsets: number[] = [];
  const relative = kids.map((kid, i) => ({ ...kid, place: (offset: number) => void (offsets[i] = offset) }));
  const size = alignUp(pack(relative, 0), WINDOW_GRANULE);
  const align = Math.max(WINDOW_GRANULE, ...kids.map((k) => k.align));
  return {
    size,
    align,
    fixed: null,
    owner: id,
    what: `the ${space} window of '${id}'`,
    place: (base) => {
      bridge.windows[space] = { base, size };
      kids.forEach((kid, i) => kid.place(base + offsets[i]!));
    },
  };
}

function fixedItem(owner: string, space: Space, range: AddressRange): Item {
  return { size: range.size, align: WINDOW_GRANULE, fixed: range.base, owner, what: `the ${space} window of '${owner}'`, place: () => {} };
}

/**
 * Places `items` from `start`: pinned ones where they are (they must not
 * overlap), the others first-fit in order of decreasing alignment, each
 * naturally aligned and clear of everything placed before. Returns the end
 * of the highest item.
 */
function pack(items: readonly Item[], start: number): number {
  const taken: { base: number; end: number; owner: string; what: string }[] = [];
  let end = start;
  for (const item of items) {
    if (item.fixed === null) continue;
    const range = { base: item.fixed, end: item.fixed + item.size, owner: item.owner, what: item.what };
    const clash = taken.find((t) => t.base < range.end && range.base < t.end);
    if (clash) {
      throw new TopologyError(
        'OVERLAPPING_BARS',
        `${item.what} ${formatRange({ base: range.base, size: item.size })} overlaps ${clash.what} ${formatRange({ base: clash.base, size: clash.end - clash.base })}`,
        item.owner,
        'bars',
      );
    }
    taken.push(range);
    end = Math.max(end, range.end);
  }
  const movable = items.filter((i) => i.fixed === null).sort((a, b) => b.align - a.align);
  for (const item of movable) {
    let base = alignUp(start, item.align);
    for (;;) {
      const clash = taken.find((t) => t.base < base + item.size && base < t.end);
      if (!clash) break;
      base = alignUp(clash.end, item.align);
    }
    item.place(base);
    taken.push({ base, end: base + item.size, owner: item.owner, what: item.what });
    end = Math.max(end, base + item.size);
  }
  return end;
}

const alignUp = (value: number, align: number) => Math.ceil(value / align) * align;
const alignDown = (value: number, align: number) => Math.floor(value / align) * align;
