/**
 * Scenario steps as kernel events: device actions put TLPs on the fabric,
 * host actions change the IOMMU, interrupt remapping or config space, and
 * every grant change is written to the ledger at the time it happens.
 */
import type { EventHandler } from '../sim/kernel.ts';
import { Priority } from '../sim/kernel.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { Ending } from '../fabric/ending.ts';
import { HOST_REASONS as R } from '../policy/reasons.ts';
import { requestTranslation } from '../iommu/ats.ts';
import { CapabilityId } from '../pcie/config-space.ts';
import { composeRemappable } from '../interrupts/x86-msi.ts';
import { writeExplicitIrte } from '../interrupts/install.ts';
import type { Machine } from './machine.ts';
import type { HostAction } from './machine-host.ts';
import type { DeviceStep, StepSpec } from './model.ts';
import { deviceRefusal, mappingTarget, performOwnershipStep, unmappedGrant } from './ownership-steps.ts';
import { armWaitingSteps, type WaitingSteps } from './triggers.ts';

export class StepError extends Error {
  readonly userFacing = true;
  readonly code = 'STEP_FAILED';
}

/** What a step did: the TLPs it put on the fabric, or the host's refusal of it. */
export interface StepRecord {
  readonly step: StepSpec;
  readonly tlps: Tlp[];
  /** The host refused a principal's action before anything reached the fabric (its ending record). */
  refused: Ending | null;
  /** Set when the step's event ran (a run checks every step did). */
  performed: boolean;
  /** What the host did for a host step (its sequence, each part with its source). */
  readonly actions: HostAction[];
  /** Simulated time it ran, ns; -1 until then. */
  ranAt: number;
  /** For a step that waited (`after:`): the event that came, once it came. */
  waitedFor: string | null;
}

/** A host-side refusal, before it becomes an ending record. */
interface Refusal {
  readonly reason: string;
  readonly rule: string;
  readonly decidedAt: string;
}

/**
 * Schedules every step at its time, and arms the steps that wait on an
 * event (triggers.ts); returns the records the steps fill as they run.
 */
export function scheduleSteps(machine: Machine): StepRecord[] {
  const records: StepRecord[] = [];
  let waiting: WaitingSteps | null = null;
  const handler: EventHandler<StepRecord> = {
    name: 'scenario step',
    handle(record) {
      machine.fabric.currentStep = record.step.index;
      machine.host.currentStep = record.step.index;
      machine.host.actions = record.actions;
      record.ranAt = machine.kernel.now;
      try {
        perform(machine, record);
      } finally {
        machine.fabric.currentStep = -1;
        machine.host.currentStep = -1;
        machine.host.actions = [];
        record.performed = true;
      }
      waiting?.ran(record);
    },
  };
  // Host actions run before traffic issued at the same nanosecond; otherwise file order.
  const priority = (step: StepSpec) => ('from' in step ? Priority.Normal : Priority.Control);
  for (const step of machine.spec.steps) {
    const record: StepRecord = { step, tlps: [], refused: null, performed: false, actions: [], ranAt: -1, waitedFor: null };
    records.push(record);
    if (!step.after) machine.kernel.scheduleAt(step.at, handler, record, priority(step));
  }
  waiting = armWaitingSteps(machine, records, (record, delay) => machine.kernel.schedule(delay, handler, record, priority(record.step)));
  return records;
}

function perform(machine: Machine, record: StepRecord): void {
  const step = record.step;
  const iommu = machine.iommu;
  switch (step.kind) {
    case 'write':
    case 'read':
    case 'msi':
    case 'ats-translate': {
      if (deviceRefusal(machine, record, step.from)) return;
      const tlp = deviceAction(machine, step);
      if (tlp !== null) record.tlps.push(tlp);
      return;
    }
    case 'map': {
      const target = mappingTarget(machine, record, step, machine.hpa(step.mapping));
      if ('refused' in target) return;
      iommu?.map(step.domain, step.mapping.iova, target.hpa, step.mapping.size, step.mapping.perm);
      const principals = machine.domainPrincipals.get(step.domain) ?? [];
      const iova = step.mapping.iova - (target.hpa - target.grant.hpa);
      machine.grants.map(step.domain, principals, { iova, hpa: target.grant.hpa, size: target.grant.size, perm: step.mapping.perm }, machine.kernel.now);
      return;
    }
    case 'unmap': {
      iommu?.unmap(step.domain, step.iova, step.size);
      const ended = unmappedGrant(machine, step.domain, step.iova, step.size);
      machine.grants.unmap(step.domain, ended.iova, ended.size, machine.kernel.now);
      return;
    }
    case 'invalidate':
      if (step.what === 'iotlb') iommu?.invalidateIotlb();
      else if (step.what === 'ats') iommu?.invalidateDeviceTlbs();
      else machine.x86?.vtd?.invalidateIec();
      return;
    case 'irte-write':
      // In memory only; the IEC keeps any copy it holds (VT-d §6.5.2.7) until `invalidate: iec`.
      if (machine.x86?.vtd) writeExplicitIrte(machine.x86.vtd, machine.x86.vectors, step.irte);
      return;
    case 'config-write': {
      const refusal = notHeldRefusal(machine, step.by, step.device, 'config space') ?? msiConfigRefusal(machine, step);
      if (refusal !== null) return refuse(machine, record, step.by, refusal);
      const fn = machine.fabric.fn(step.device);
      record.tlps.push(machine.fabric.hostIssue({ type: 'CfgWr', targetId: fn.rid, address: step.offset, length: step.size, data: step.value, actingFor: actingFor(step.by) }));
      return;
    }
    case 'mmio-write':
      return mmioWrite(machine, record, step);
    case 'wait':
      return;
    default:
      return performOwnershipStep(machine, record, step);
  }
}

/**
 * A user reaches config space and BARs only of devices it holds through
 * VFIO: the device fd it opened is the only way in (vfio_pci_core_read /
 * vfio_pci_core_write, vfio_pci_core_mmap act on that device's regions).
 */
function notHeldRefusal(machine: Machine, by: string, device: string, what: string): Refusal | null {
  const owner = machine.ownership.ownerOfFunction(device) ?? 'host';
  if (by === 'host' || owner === by) return null;
  return { reason: R['vfio.not-owner'].code, rule: `${device}'s ${what} is reachable only through its VFIO device, held by ${owner}, not by ${by}`, decidedAt: 'host (vfio-pci)' };
}

function refuse(machine: Machine, record: StepRecord, by: string, refusal: Refusal): void {
  record.refused = machine.fabric.refuse({ principal: by, step: record.step.index, ...refusal });
}

/** Host-issued TLPs for a user act for it; the host's own are nobody's but the host's. */
function actingFor(by: string): string | null {
  return by === 'host' ? null : by;
}

/**
 * A CPU store by a principal into a BAR: only BARs of its own devices are
 * mapped to it, minus sub-ranges another principal keeps (BAR regions:),
 * and VFIO keeps the MSI-X table out of reach unless the
 * scenario maps it to the owner (vfio-pci virtualizes the table: writes to
 * it through the BAR region are dropped; the 2016 "msix mmap" discussion).
 */
function mmioWrite(machine: Machine, record: StepRecord, step: Extract<StepSpec, { kind: 'mmio-write' }>): void {
  const device = step.target.bar.device;
  const address = machine.address(step.target);
  const held = notHeldRefusal(machine, step.by, device, 'BARs');
  if (held !== null) return refuse(machine, record, step.by, held);
  // A sub-range of the BAR kept by someone else (regions:) is not mapped to the BAR's owner: the
  // vfio-pci variant driver hides it (hisi_acc_vfio_pci: hisi_acc_pci_rw_access_check() and its mmap override).
  const piece = machine.ownership.at(address);
  if (step.by !== 'host' && piece !== undefined && piece.owner !== step.by) {
    return refuse(machine, record, step.by, {
      reason: R['vfio.region-not-mapped'].code,
      rule: `${piece.name} in ${device}'s BAR belongs to ${piece.owner}: the vfio-pci variant driver maps only the rest of the BAR to ${step.by}`,
      decidedAt: 'host (vfio-pci)',
    });
  }
  const msix = machine.spec.machine.functions.find((f) => f.id === device)?.msix;
  const inTable = msix !== null && msix !== undefined && msix.bar === step.target.bar.index && step.target.offset >= msix.offset && step.target.offset < msix.offset + msix.vectors * 16;
  if (inTable && step.by !== 'host' && msix.programmedBy === 'host') {
    return refuse(machine, record, step.by, {
      reason: R['vfio.msix-table-protected'].code,
      rule: "vfio-pci virtualizes the MSI-X table: a user's writes to it through the BAR region are dropped",
      decidedAt: 'host (vfio-pci)',
    });
  }
  record.tlps.push(machine.fabric.hostIssue({ type: 'MemWr', address, data: step.value, length: step.size, actingFor: actingFor(step.by) }));
}

/** MSI Message Control (PCIe 6.0 §7.7.1.2): the only bit a guest may flip when the host programs the message. */
const MSI_ENABLE = 0x1;

/**
 * A guest's config write into the MSI capability of a device whose message
 * the host programs (`msi.programmed-by: host`): Xen pciback drops writes to
 * Message Address, Data and Mask ("Driver tried to write to a read-only
 * configuration space field", conf_space.c) and, with allow_interrupt_control
 * (Linux 5.6; Qubes' 2017 stub-domain patch), lets Message Control through
 * only when nothing but the Enable bit changes (msi_msix_flags_write).
 * `programmed-by: owner` is pciback's permissive mode: everything passes.
 */
function msiConfigRefusal(machine: Machine, step: Extract<StepSpec, { kind: 'config-write' }>): Refusal | null {
  if (step.by === 'host') return null;
  const spec = machine.spec.machine.functions.find((f) => f.id === step.device)?.msi;
  const cap = machine.fabric.fn(step.device).config.findCapability(CapabilityId.msi);
  if (spec === null || spec === undefined || spec.programmedBy === 'owner' || cap < 0) return null;
  const msi = machine.sources.source(step.device).msi;
  if (msi === null) return null;
  const end = cap + (msi.addr64 ? 0x0e : 0x0a) + (msi.perVectorMasking ? 0x0a : 0);
  const control = machine.fabric.fn(step.device).config.read(cap + 2, 2);
  for (let i = 0; i < step.size; i++) {
    const at = step.offset + i;
    if (at < cap + 2 || at >= end) continue;
    const byte = (step.value >>> (8 * i)) & 0xff;
    const allowed = at === cap + 2 ? MSI_ENABLE : at === cap + 3 ? 0 : -1;
    const changed = byte ^ ((control >>> (8 * (at - cap - 2))) & 0xff);
    if (allowed < 0 || (changed & ~allowed) !== 0) {
      const field = allowed < 0 ? 'Message Address, Data or Mask' : 'Message Control bits other than Enable';
      return {
        reason: R['pciback.msi-read-only'].code,
        rule: `xen-pciback: ${step.by} may not write ${field} of ${step.device}'s MSI capability (offset 0x${at.toString(16)}); the host programs the message (permissive mode off)`,
        decidedAt: 'host (xen-pciback)',
      };
    }
  }
  return null;
}

function deviceAction(machine: Machine, step: DeviceStep): Tlp | null {
  const fabric = machine.fabric;
  const forged = step.as === null ? {} : { requesterId: step.as };
  const at = step.translated ? ('translated' as const) : ('untranslated' as const);
  const pasid = step.pasid === null ? {} : { pasid: step.pasid };
  // A 64-bit address at or above 2^53 travels with its exact text (units.ts readRequestAddress).
  const exact = (step.kind === 'write' || step.kind === 'read') && 'address' in step.target && step.target.exact ? { exactAddress: step.target.exact } : {};
  switch (step.kind) {
    case 'write':
      return fabric.issue(step.from, { type: 'MemWr', address: machine.address(step.target), data: step.data, length: step.size, at, ...forged, ...pasid, ...exact });
    case 'read':
      return fabric.issue(step.from, { type: 'MemRd', address: machine.address(step.target), length: step.size, at, ...forged, ...pasid, ...exact });
    case 'ats-translate':
      if (machine.iommu !== null && step.as === null) return requestTranslation(fabric, step.from, step.address);
      return fabric.issue(step.from, { type: 'MemRd', address: step.address, length: 4, at: 'translation-request', ...forged, ...pasid });
    case 'msi':
      return msi(machine, step);
  }
}

/**
 * An MSI from a device. `vector` alone: the device's own interrupt as the
 * host programmed it (masked → no write). `irte-of: DEV`: the attacker
 * replays DEV's programmed message for that vector — with remapping, a
 * remappable-format write naming DEV's IRTE; without, DEV's compatibility
 * message. `irte: N`: a remappable-format write naming entry N directly
 * (handle N, SHV clear: VT-d §5.1.2.2).
 */
function msi(machine: Machine, step: Extract<DeviceStep, { kind: 'msi' }>): Tlp | null {
  const fabric = machine.fabric;
  const forged = step.as === null ? {} : { requesterId: step.as };
  if (step.irte !== null) {
    // An unsigned address: `0xfee0_0000 | …` alone is a negative int32 and misses the window.
    const { address, data } = composeRemappable(step.irte, 0, false);
    return fabric.issue(step.from, { type: 'MemWr', address, data, length: 4, ...forged });
  }
  const owner = step.irteOf ?? step.from;
  const vector = step.vector ?? 0;
  const source = machine.sources.source(owner);
  if (step.irteOf === null && step.as === null) return source.signal(vector);
  const message = source.message(vector);
  if (message === null) throw new StepError(`step ${step.index}: '${owner}' has no enabled MSI/MSI-X message for vector ${vector}`);
  return fabric.issue(step.from, { type: 'MemWr', address: message.address, data: message.data, length: 4, ...forged });
}
