/**
 * Linux's checks on giving the attacker its devices (DESIGN.md §2 "Groups
 * and policy"): the IOMMU group must be viable for it, and its interrupts
 * isolated (or the unsafe opt-in given). They are reported for every run;
 * they stop the attack only when it comes through VFIO (`attack.via: vfio`)
 * — a malicious device or firmware is not asked.
 */
import { topologyFromEnumeration } from '../policy/pci-topology.ts';
import { classicGroups } from '../policy/groups-classic.ts';
import { perBusGroups } from '../policy/groups-per-bus.ts';
import { kernelModelOf } from './silicon-wiring.ts';
import { groupViableFor, msiGate, type DmaOwner, type GroupMember } from '../policy/vfio.ts';
import { directMappings, requiresDirect } from '../policy/reserved-regions.ts';
import type { Machine } from './machine.ts';
import type { GateResult } from './results.ts';

export function evaluateGates(machine: Machine): GateResult[] {
  const spec = machine.spec;
  const attackerDevices = spec.machine.functions.filter((f) => f.owner === spec.attacker);
  if (attackerDevices.length === 0) return [];
  return gatesFor(machine, attackerDevices.map((f) => f.id));
}

/**
 * The gates for giving `devices` to the attacker now (at the start, or
 * when an assign step hands one over): they stop the attack only on a
 * Linux host when it comes through VFIO. The RMRR gate is listed only for
 * devices with firmware ranges.
 */
export function gatesFor(machine: Machine, devices: readonly string[]): GateResult[] {
  const spec = machine.spec;
  const vfio = spec.via === 'vfio' && spec.machine.host === 'linux';
  const rmrr = rmrrGate(machine, devices, vfio);
  const gates = [viabilityGate(machine, devices, vfio), interruptGate(machine, vfio), ...(rmrr === null ? [] : [rmrr])];
  if (spec.machine.host === 'linux') return gates;
  return gates.map((g) => ({ ...g, detail: `${g.detail} ${XEN_NOT_ENFORCED}` }));
}

/** Marks a gate's detail on a Xen host, where Linux's VFIO checks do not decide the assignment. */
export const XEN_NOT_ENFORCED = '(a Linux VFIO check: a Xen host assigns through xen-pciback and does not apply it)';

/**
 * A device whose firmware ranges must stay mapped 1:1 (a non-relaxable
 * RMRR, an IVMD) cannot be given to a user: the blocking domain VFIO
 * claims it with would drop them (__iommu_device_set_domain refuses
 * require_direct devices; intel_iommu_attach_device refused unmanaged
 * domains before 6.x). A relaxable RMRR (USB, display) passes, unmapped.
 */
function rmrrGate(machine: Machine, devices: readonly string[], vfio: boolean): GateResult | null {
  const withRanges = devices.map((d) => ({ device: d, regions: directMappings(machine.host.resvRegions(d)) })).filter((d) => d.regions.length > 0);
  if (withRanges.length === 0) return null;
  const blocking = withRanges.map((d) => ({ device: d.device, region: requiresDirect(d.regions) })).find((d) => d.region !== null);
  const rule = 'Linux drivers/iommu/iommu.c __iommu_device_set_domain (require_direct), drivers/iommu/intel/iommu.c device_rmrr_is_relaxable';
  if (blocking !== undefined) {
    return { gate: 'rmrr', passed: false, enforced: vfio, detail: `${blocking.device} has ${blocking.region!.source} [0x${blocking.region!.base.toString(16)}+0x${blocking.region!.size.toString(16)}]: "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping" — ${rule}` };
  }
  const names = withRanges.flatMap((d) => d.regions.map((r) => `${d.device}: ${r.source}`)).join(', ');
  return { gate: 'rmrr', passed: true, enforced: vfio, detail: `relaxable firmware ranges only (${names}): VFIO takes the device and leaves them out of the user's domain — ${rule}` };
}

function viabilityGate(machine: Machine, devices: readonly string[], vfio: boolean): GateResult {
  const spec = machine.spec;
  const kernel = kernelModelOf(spec.machine.kernel);
  const topology = topologyFromEnumeration(machine.fabric.enumeration);
  const result = spec.machine.kernel.groups === 'per-bus' ? perBusGroups(topology, kernel) : classicGroups(topology, kernel);
  const idOf = new Map(topology.functions.map((f) => [f.key, f.label]));
  const functions = new Map(spec.machine.functions.map((f) => [f.id, f]));
  const enforced = vfio && spec.machine.kernel.vfioViability === 'enforced';
  for (const group of result.groups) {
    const ids = group.devices.map((key) => idOf.get(key) ?? key);
    if (!ids.some((id) => devices.includes(id))) continue;
    const members: GroupMember[] = ids.map((id) => {
      const fn = machine.fabric.fn(id);
      // Who holds each function now (devices change hands); the ones being given to the attacker are its.
      const held = functions.get(id);
      const now = devices.includes(id) ? spec.attacker : (machine.ownership.ownerOfFunction(id) ?? held?.owner ?? 'host');
      return { device: id, owner: dmaOwner(held === undefined ? undefined : { owner: now, driver: held.driver }, spec.attacker), bridge: fn.buses !== null };
    });
    const decision = groupViableFor(spec.attacker, members);
    if (!decision.allowed) {
      const how = spec.machine.kernel.vfioViability === 'bypassed' ? ' (check bypassed)' : '';
      return { gate: 'vfio-viability', passed: false, enforced, detail: `${spec.machine.kernel.groups} IOMMU group {${ids.join(', ')}}: ${decision.reason}${how} — ${decision.rule}` };
    }
  }
  return { gate: 'vfio-viability', passed: true, enforced, detail: `every IOMMU group holding ${devices.join(', ')} is viable for ${spec.attacker} (${spec.machine.kernel.groups} groups)` };
}

/**
 * DMA ownership as Linux sees it: the attacker's and other users' devices
 * are held by VFIO (user); host devices are bound to their kernel driver
 * unless the scenario says `driver: none`.
 */
function dmaOwner(fn: { owner: string; driver: string | null } | undefined, attacker: string): DmaOwner {
  if (fn === undefined) return { kind: 'none' };
  if (fn.driver === 'none') return { kind: 'none' };
  if (fn.owner !== 'host') return { kind: 'user', principal: fn.owner === attacker ? attacker : fn.owner };
  return { kind: 'kernel', driver: fn.driver ?? 'its host driver' };
}

function interruptGate(machine: Machine, vfio: boolean): GateResult {
  const m = machine.spec.machine;
  const decision = msiGate({
    remapping: m.iommu.interruptRemapping,
    sourceIdValidation: m.iommu.sourceIdValidation,
    msiController: m.msiController,
    allowUnsafeInterrupts: m.kernel.unsafeInterrupts,
  });
  return { gate: 'isolated-msi', passed: decision.allowed, enforced: vfio, detail: `${decision.reason} — ${decision.rule}` };
}
