/**
 * Why Linux's classic pci_device_group() (drivers/iommu/iommu.c) put
 * devices together: for every group of more than one device, the chain of
 * facts that merged them, each checked by re-running the grouping —
 * - DMA aliases: devices behind a PCIe-to-PCI or conventional PCI bridge
 *   reach the IOMMU with the bridge's requester ID (pci_for_each_dma_alias);
 * - the climb: from a device (or its alias) upward, every bridge whose path
 *   to the root is not ACS-isolated (pci_acs_path_enabled with REQ_ACS_FLAGS)
 *   takes the devices below it into its group, and the bridge that fails
 *   is named with the reason (no capability, controls off, a quirk's answer);
 *   with the missing controls set on it, the grouping is run again to say
 *   whether the group would split;
 * - multifunction: functions of one device that each lack ACS isolation
 *   share a group (get_pci_function_alias_group);
 * - quirks that applied on the way, named with the releases they exist in.
 */
import { acsPathVerdict, acsVerdict, REQ_ACS_FLAGS, type AcsVerdict } from './acs-check.ts';
import { bitsText, kernelText, missingBits, verdictText, who } from './acs-text.ts';
import type { GroupResult } from './group-result.ts';
import { classicGroups } from './groups-classic.ts';
import type { KernelModel } from './kernel-options.ts';
import { makeTopology, type PciFunction, type PciTopology } from './pci-topology.ts';
import { UnknownFact } from './unknown-fact.ts';

export interface GroupWhy {
  readonly id: number;
  readonly devices: readonly string[];
  readonly why: readonly string[];
}

interface Attach {
  readonly device: PciFunction;
  /** Bridges that took ownership of its requester ID, innermost first. */
  readonly aliasVia: readonly PciFunction[];
  /** Bridges climbed to, with each one's failing verdict. */
  readonly climbed: readonly AcsVerdict[];
  /** The bridge where the climb stopped because its path is isolated, with the verdicts on that path that quirks decided. */
  readonly stoppedAt: PciFunction | null;
  readonly quirks: readonly AcsVerdict[];
  /** The device whose group it takes (pdev at the end of pci_device_group's climb). */
  readonly anchor: PciFunction;
}

const ALIASING = new Set(['pcie-pci-bridge', 'pci-pcie-bridge', 'conventional']);

function parentOf(topology: PciTopology, fn: PciFunction): PciFunction | undefined {
  return fn.parent === null ? undefined : topology.byKey.get(fn.parent);
}

/** pci_device_group()'s walk for one device, as facts. */
function attachOf(topology: PciTopology, fn: PciFunction, kernel: KernelModel): Attach {
  const real = fn.realDmaDev === undefined ? fn : (topology.byKey.get(fn.realDmaDev) ?? fn);
  const aliasVia: PciFunction[] = real === fn ? [] : [real];
  let pdev = real;
  for (let tmp = parentOf(topology, real); tmp; tmp = parentOf(topology, tmp)) {
    if (ALIASING.has(tmp.portType)) {
      aliasVia.push(tmp);
      pdev = tmp;
    }
  }
  const climbed: AcsVerdict[] = [];
  let stoppedAt: PciFunction | null = null;
  let quirks: AcsVerdict[] = [];
  for (let self = parentOf(topology, pdev); self; self = parentOf(topology, self)) {
    const verdict = acsPathVerdict(topology, self, REQ_ACS_FLAGS, kernel);
    if (verdict.enabled) {
      stoppedAt = self;
      quirks = pathVerdicts(topology, self, kernel).filter((v) => v.reason.kind === 'quirk');
      break;
    }
    climbed.push(verdict);
    pdev = self;
  }
  return { device: fn, aliasVia, climbed, stoppedAt, quirks, anchor: pdev };
}

function pathVerdicts(topology: PciTopology, start: PciFunction, kernel: KernelModel): AcsVerdict[] {
  const out: AcsVerdict[] = [];
  for (let dev: PciFunction | undefined = start; dev; dev = parentOf(topology, dev)) out.push(acsVerdict(dev, REQ_ACS_FLAGS, kernel));
  return out;
}

const list = (fns: readonly PciFunction[]) => fns.map((f) => f.key).join(', ');

/** The topology with `fn` given an ACS capability with `bits` enabled (and no quirk: its IDs dropped). */
function withAcs(topology: PciTopology, fn: PciFunction, bits: number): PciTopology {
  const acs = fn.acs.kind === 'present' ? { kind: 'present' as const, cap: fn.acs.cap | bits, ctl: fn.acs.ctl | bits } : { kind: 'present' as const, cap: bits, ctl: bits };
  return makeTopology(topology.functions.map((f) => (f === fn ? { ...f, acs, ids: undefined } : f)));
}

/** Whether the members would be in more than one group with the change; the groups they would be in. */
function wouldSplit(topology: PciTopology, kernel: KernelModel, members: readonly string[]): string[][] | null {
  let result: GroupResult;
  try {
    result = classicGroups(topology, kernel);
  } catch (error) {
    if (error instanceof UnknownFact) return null;
    throw error;
  }
  const parts = result.groups.map((g) => g.devices.filter((d) => members.includes(d))).filter((g) => g.length > 0);
  return parts.length > 1 ? parts : null;
}

function counterfactual(topology: PciTopology, kernel: KernelModel, changed: readonly { fn: PciFunction; bits: number }[], members: readonly string[]): string {
  if (changed.length === 0 || changed.some((c) => c.bits === 0)) return '';
  const where = changed.map((c) => `${bitsText(c.bits)} on ${c.fn.key}`).join(', ');
  let t = topology;
  for (const c of changed) t = withAcs(t, t.byKey.get(c.fn.key)!, c.bits);
  const split = wouldSplit(t, kernel, members);
  return split === null ? `; with ACS ${where} they would still share a group` : `; with ACS ${where} they would split: ${split.map((g) => `{${g.join(' ')}}`).join(' ')}`;
}

/** For each group of more than one device, the facts that merged it. */
export function explainClassicGroups(topology: PciTopology, kernel: KernelModel, result: GroupResult): GroupWhy[] {
  const out: GroupWhy[] = [];
  for (const group of result.groups) {
    if (group.devices.length < 2) continue;
    const members = group.devices.map((k) => topology.byKey.get(k)!);
    const attaches = members.map((fn) => attachOf(topology, fn, kernel));
    const why: string[] = [];
    // DMA aliases.
    const aliased = new Map<string, PciFunction[]>();
    for (const a of attaches) if (a.aliasVia.length > 0) aliased.set(a.aliasVia.at(-1)!.key, [...(aliased.get(a.aliasVia.at(-1)!.key) ?? []), a.device]);
    for (const [bridge, devs] of aliased) {
      const b = topology.byKey.get(bridge)!;
      const how = b.portType === 'pcie-pci-bridge' ? 'its secondary bus with devfn 00.0' : 'its own requester ID';
      why.push(`${list(devs)} reach the IOMMU as ${who(b)}: a bridge to conventional PCI takes ownership of their transactions and tags them with ${how} (pci_for_each_dma_alias) — one requester ID, one group, which no ACS setting can split`);
    }
    // The climb: devices that took a bridge's group because the bridge's path is not isolated.
    const byAnchor = new Map<string, Attach[]>();
    for (const a of attaches) if (a.climbed.length > 0) byAnchor.set(a.anchor.key, [...(byAnchor.get(a.anchor.key) ?? []), a]);
    for (const [, climbers] of byAnchor) {
      const top = climbers[0]!.climbed.at(-1)!;
      const below = climbers.map((c) => c.device);
      const changed = [{ fn: top.fn, bits: missingBits(top, REQ_ACS_FLAGS) }];
      why.push(
        `${list(below)} share ${top.fn.key}'s group because ${who(top.fn)} ${verdictText(top, kernel)}: pci_device_group() climbs from a device to every bridge whose path to the root is not ACS-isolated (pci_acs_path_enabled, REQ_ACS_FLAGS ${bitsText(REQ_ACS_FLAGS)})${counterfactual(topology, kernel, changed, group.devices)}`,
      );
    }
    // Multifunction: anchors in the same slot that lack ACS.
    const anchors = [...new Map(attaches.map((a) => [a.anchor.key, a.anchor])).values()];
    const bySlot = new Map<string, PciFunction[]>();
    for (const fn of anchors) {
      if (!fn.multifunction) continue;
      const slot = `${fn.parent}|${fn.bdf.domain}:${fn.bdf.bus}:${fn.bdf.device}`;
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), fn]);
    }
    for (const fns of bySlot.values()) {
      if (fns.length < 2) continue;
      const verdicts = fns.map((fn) => acsVerdict(fn, REQ_ACS_FLAGS, kernel)).filter((v) => !v.enabled);
      if (verdicts.length < 2) continue;
      const reasons = [...new Set(verdicts.map((v) => verdictText(v, kernel)))];
      const changed = verdicts.map((v) => ({ fn: v.fn, bits: missingBits(v, REQ_ACS_FLAGS) }));
      why.push(
        `${list(verdicts.map((v) => v.fn))} are functions of one multifunction device and none is isolated from the others: ${reasons.length === 1 ? `each ${reasons[0]}` : verdicts.map((v) => `${v.fn.key} ${verdictText(v, kernel)}`).join('; ')} (get_pci_function_alias_group)${counterfactual(topology, kernel, changed, group.devices)}`,
      );
    }
    // Quirks that decided where a member's climb stopped.
    const quirks = new Map<string, AcsVerdict>();
    for (const a of attaches) for (const q of a.quirks) quirks.set(q.fn.key, q);
    for (const q of quirks.values()) why.push(`${who(q.fn)} ${verdictText(q, kernel)}, so the climb stops below it`);
    if (why.length === 0) why.push(`Linux joins them through DMA aliases of the same bus (get_pci_alias_group) on ${kernelText(kernel)}`);
    out.push({ id: group.id, devices: group.devices, why });
  }
  return out;
}

/** Every function whose ACS a quirk decided on this kernel (isolated or not), with the quirk and its releases. */
export function appliedQuirks(topology: PciTopology, kernel: KernelModel): string[] {
  const out: string[] = [];
  for (const fn of topology.functions) {
    try {
      const v = acsVerdict(fn, REQ_ACS_FLAGS, kernel);
      if (v.reason.kind === 'quirk') out.push(`${who(fn)} ${verdictText(v, kernel)}`);
    } catch (error) {
      if (!(error instanceof UnknownFact)) throw error;
    }
  }
  return out;
}
