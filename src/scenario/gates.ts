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
import type { Machine } from './machine.ts';
import type { GateResult } from './results.ts';

export function evaluateGates(machine: Machine): GateResult[] {
  const spec = machine.spec;
  const attackerDevices = spec.machine.functions.filter((f) => f.owner === spec.attacker);
  if (attackerDevices.length === 0) return [];
  const vfio = spec.via === 'vfio';
  return [viabilityGate(machine, attackerDevices.map((f) => f.id), vfio), interruptGate(machine, vfio)];
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
      return { device: id, owner: dmaOwner(functions.get(id), spec.attacker), bridge: fn.buses !== null };
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
