/**
 * Checks over the whole attack, after each step is read: the mistakes a
 * scenario author makes that would otherwise run and quietly mean something
 * else (or crash mid-run). Each is a positioned error, never a silent fix.
 */
import { pageSpan } from '../iommu/index.ts';
import { formatDuration } from '../sim/time.ts';
import type { Checker } from './checker.ts';
import type { DomainSpec, MachineSpec, StepSpec } from './model.ts';
import type { Path } from './source.ts';
import { hexGrouped } from './units.ts';
import { formatAddress } from '../pcie/range.ts';

const hex = formatAddress;
const stepPath = (step: StepSpec, ...rest: (string | number)[]): Path => ['attack', 'steps', step.index, ...rest];

export function checkSteps(steps: readonly StepSpec[], domains: readonly DomainSpec[], machine: MachineSpec, attacker: string, check: Checker): void {
  if (steps.length === 0) {
    check.error(['attack', 'steps'], 'the attack has no steps: nothing would happen and every run would be isolated; add what the attacker does, e.g. { at: 0ns, from: DEVICE, write: 0x1000, data: 0x1 }', 'no-steps', true);
    return;
  }
  timeOrder(steps, check);
  attackerActs(steps, machine, attacker, check);
  for (const step of steps) {
    accessWidth(step, check);
    barBounds(step, machine, check);
  }
  mappings(steps, domains, check);
}

/**
 * Steps are listed in time order. tlplab runs them by time either way, but a
 * list that goes back in time is almost always a unit slip (10ms for 10us),
 * and explain tells the story in list order: refused, not re-sorted.
 */
function timeOrder(steps: readonly StepSpec[], check: Checker): void {
  // A step that waits on an event (after:) has no time of its own: it neither breaks the order nor sets it.
  const timed = steps.filter((s) => !s.after);
  for (let i = 1; i < timed.length; i++) {
    const [before, step] = [timed[i - 1]!, timed[i]!];
    if (step.at < before.at) {
      check.error(
        stepPath(step, 'at'),
        `step ${step.index} at ${formatDuration(step.at)} comes before step ${before.index} at ${formatDuration(before.at)}: list steps in time order (or check the unit: ns, us, ms)`,
        'steps-out-of-order',
      );
    }
  }
}

/** Something must be the attacker's: a device it owns acts, or a host action is done by it. */
function attackerActs(steps: readonly StepSpec[], machine: MachineSpec, attacker: string, check: Checker): void {
  const owner = new Map(machine.functions.map((f) => [f.id, f.owner]));
  // A device handed to the attacker by an assign step is the attacker's to drive.
  for (const s of steps) if (s.kind === 'assign' && s.to === attacker) owner.set(s.device, attacker);
  const acts = steps.some((s) => ('from' in s ? owner.get(s.from) === attacker : 'by' in s && s.by === attacker));
  if (!acts) {
    const devices = machine.functions.filter((f) => f.owner === attacker).map((f) => f.id);
    check.error(
      ['attack', 'attacker'],
      `no step is done by '${attacker}': none comes from a device it owns${devices.length > 0 ? ` (${devices.join(', ')})` : ''} and no host action is by: ${attacker}, so every run would be isolated without testing anything`,
      'no-attack-steps',
    );
  }
}

/** A value must fit its access: data wider than the access is refused, never truncated. */
function accessWidth(step: StepSpec, check: Checker): void {
  const [value, size, path] =
    step.kind === 'write'
      ? [step.data, step.size, stepPath(step, 'data')]
      : step.kind === 'config-write' || step.kind === 'mmio-write'
        ? [step.value, step.size, stepPath(step, step.kind, 'value')]
        : [0, 8, []];
  if (size >= 7) return; // Every value below the 2^53 limit of units.ts fits in 7 or more bytes.
  const max = 2 ** (8 * size) - 1;
  if (value > max) {
    const what = step.kind === 'write' ? 'data' : 'value';
    check.error(path, `${what} ${hex(value)} does not fit in a ${size}-byte access (at most ${hexGrouped(BigInt(max))}); raise size: or fix the value`, 'data-too-wide');
  }
}

/**
 * A BAR-relative access starts inside the BAR (offsets count from its
 * start, PCIe 6.0 §7.5.1.2.1). One that starts inside and runs past the end
 * is a real attack shape (the model routes it by its start address); one
 * that starts past the end names no byte of the BAR at all.
 */
function barBounds(step: StepSpec, machine: MachineSpec, check: Checker): void {
  const target = step.kind === 'write' || step.kind === 'read' || step.kind === 'mmio-write' ? step.target : null;
  if (target === null || !('bar' in target)) return;
  const bar = machine.fabric.functions.find((f) => f.id === target.bar.device)?.bars?.[target.bar.index];
  if (bar === undefined) return; // reported as a bad BAR reference
  if (target.offset >= bar.size) {
    const key = step.kind === 'mmio-write' ? ['mmio-write', 'offset'] : [step.kind, 'offset'];
    check.error(
      stepPath(step, ...key),
      `offset ${hex(target.offset)} is past the end of BAR ${target.bar.index} of '${target.bar.device}' (${bar.size} bytes: offsets 0x0 to ${hex(bar.size - 1)}); to reach another BAR name it (DEVICE.N), or write an address`,
      'offset-past-bar',
    );
  }
}

interface Live {
  readonly first: number;
  readonly end: number;
  /** Where it was mapped, for the message. */
  readonly what: string;
}

/**
 * The IOVA pages each domain maps, replayed in step order: a map over pages
 * already mapped fails in Linux (iommu_map returns -EEXIST,
 * drivers/iommu/iommu.c), and an unmap of pages that are not mapped unmaps
 * nothing (iommu_unmap WARNs on it) — both are errors here.
 */
function mappings(steps: readonly StepSpec[], domains: readonly DomainSpec[], check: Checker): void {
  const live = new Map<string, Live[]>();
  const byName = new Map(domains.map((d) => [d.name, d]));
  for (const domain of domains) {
    const list: Live[] = [];
    domain.map.forEach((m, i) => {
      if (m.size <= 0) return;
      const { first, count } = pageSpan(m.iova, m.size);
      const clash = list.find((l) => l.first < first + count && first < l.end);
      if (clash) check.error(['domains', domain.name, 'map', i, 'iova'], `IOVA ${hex(m.iova)}+${hex(m.size)} overlaps ${clash.what} in domain '${domain.name}' (pages ${hex(first * 4096)}–${hex((first + count) * 4096 - 1)}): the IOMMU maps a page once (Linux iommu_map: -EEXIST)`, 'overlapping-mappings');
      list.push({ first, end: first + count, what: `map entry ${i} (${hex(m.iova)}+${hex(m.size)})` });
    });
    live.set(domain.name, list);
  }
  for (const step of steps) {
    if (step.kind !== 'map' && step.kind !== 'unmap') continue;
    const domain = byName.get(step.domain);
    if (domain === undefined) continue; // reported as an unknown domain
    if (domain.mode !== 'paging') {
      check.error(stepPath(step, step.kind, 'domain'), `domain '${domain.name}' is ${domain.mode}: it has no page tables to ${step.kind}; use mode: paging`, 'map-without-paging');
      continue;
    }
    const list = live.get(domain.name)!;
    const [iova, size] = step.kind === 'map' ? [step.mapping.iova, step.mapping.size] : [step.iova, step.size];
    if (size <= 0) continue;
    const { first, count } = pageSpan(iova, size);
    const end = first + count;
    if (step.kind === 'map') {
      const clash = list.find((l) => l.first < end && first < l.end);
      if (clash) check.error(stepPath(step, 'map', 'iova'), `IOVA ${hex(iova)}+${hex(size)} overlaps ${clash.what}, still mapped in domain '${domain.name}': unmap it first (Linux iommu_map: -EEXIST)`, 'overlapping-mappings');
      else list.push({ first, end, what: `the mapping of step ${step.index} (${hex(iova)}+${hex(size)})` });
      continue;
    }
    // Unmap: every page of the range must be mapped now.
    let covered = first;
    for (const l of [...list].sort((a, b) => a.first - b.first)) if (l.first <= covered && l.end > covered) covered = l.end;
    if (covered < end) {
      check.error(stepPath(step, 'unmap', 'iova'), `nothing is mapped at IOVA ${hex(covered * 4096)} in domain '${domain.name}' when step ${step.index} unmaps ${hex(iova)}+${hex(size)}: unmap only what a map: entry or an earlier map step mapped`, 'unmap-not-mapped');
      continue;
    }
    // Linux unmaps whole pages: cut the range out of what is live.
    const rest = list.flatMap((l) => (l.end <= first || l.first >= end ? [l] : [...(l.first < first ? [{ ...l, end: first }] : []), ...(l.end > end ? [{ ...l, first: end }] : [])]));
    live.set(domain.name, rest);
  }
}
