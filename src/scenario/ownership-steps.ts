/**
 * Host steps that change who holds what, as Linux and Xen carry them out
 * (each part is a host action in the trace, with the function it follows):
 *  - assign — Linux: vfio-pci takes the device (vfio_pci_core_enable:
 *    pci_clear_master, pci_try_reset_function), VFIO's checks, the group's
 *    blocking domain (iommu_group_claim_dma_owner), then the user's domain;
 *    Xen: assign_device (RMRR identity maps, context to the guest);
 *  - release — Linux: vfio_pci_core_disable (pci_clear_master, interrupts
 *    torn down, __pci_reset_function_locked, pci_restore_state) and only
 *    then iommu_group_release_dma_owner → the default domain; Xen:
 *    deassign_device → dom_io (iommu=quarantine) or the hardware domain,
 *    the device left running until xen-pciback resets it later
 *    (pcistub_put_pci_dev): XSA-302's window;
 *  - reset (pci_reset_function), memory changing owner, hot-plug and
 *    removal (pciehp), and the boot phases of DMA protection.
 * Every change lands at the step's instant; host steps run before the
 * traffic of that nanosecond.
 */
import { formatDuration } from '../sim/time.ts';
import { HOST_REASONS as R } from '../policy/reasons.ts';
import { reservedForUser } from '../policy/reserved-regions.ts';
import { needsBounce } from '../policy/untrusted.ts';
import type { Domain } from '../iommu/domain.ts';
import { gatesFor } from './gates.ts';
import type { Machine } from './machine.ts';
import { HOST } from './model.ts';
import type { OwnershipStep, ResetKind } from './model-ownership.ts';
import type { StepRecord } from './steps.ts';

const GATE_REASON = { 'vfio-viability': R['gate.vfio-viability'].code, 'isolated-msi': R['gate.isolated-msi'].code, rmrr: R['gate.rmrr'].code } as const;

export function performOwnershipStep(machine: Machine, record: StepRecord, step: OwnershipStep): void {
  switch (step.kind) {
    case 'assign':
      return assign(machine, record, step);
    case 'release':
      return release(machine, step);
    case 'reset':
      return reset(machine, step.device, step.reset);
    case 'reassign-memory':
      machine.ownership.reassignMemory(step.region, step.to, machine.kernel.now);
      return machine.host.act(null, `memory ${step.region} now belongs to ${step.to}`, 'DESIGN.md §3: ownership at the instant an effect lands');
    case 'free':
      machine.ownership.reassignMemory(step.region, HOST, machine.kernel.now);
      return machine.host.act(null, `memory ${step.region} freed to the host's allocator (its pages may hold anything now)`, 'DESIGN.md §3: ownership at the instant an effect lands');
    case 'hot-unplug':
      return unplug(machine, step.device, step.functions);
    case 'hot-plug':
      return plug(machine, step.device, step.functions);
    case 'boot':
      return step.phase === 'exit-boot-services' ? exitBootServices(machine) : iommuInit(machine);
  }
}

function assign(machine: Machine, record: StepRecord, step: Extract<OwnershipStep, { kind: 'assign' }>): void {
  const { host, kernel } = machine;
  const fn = step.device;
  const to = step.to;
  let domain: Domain | null;
  if (host.linux) {
    if (to !== HOST) {
      host.act(fn, 'vfio-pci binds; vfio_pci_core_enable: pci_clear_master, then pci_try_reset_function', 'Linux drivers/vfio/pci/vfio_pci_core.c vfio_pci_core_enable');
      resetFunctions(machine, [fn], machine.spec.machine.functions.find((f) => f.id === fn)!.resetMethod);
      const refused = to === machine.spec.attacker ? gatesFor(machine, [fn]).find((g) => g.enforced && !g.passed) : undefined;
      if (refused !== undefined) {
        record.refused = machine.fabric.refuse({ principal: to, reason: GATE_REASON[refused.gate], rule: refused.detail, decidedAt: 'host (vfio)', step: step.index });
        return;
      }
      host.act(fn, 'iommu_group_claim_dma_owner: the group is parked in its blocking domain', 'Linux drivers/iommu/iommu.c __iommu_take_dma_ownership');
    }
    domain = step.domain !== null ? machine.iommu?.domain(step.domain) ?? null : to === HOST ? host.defaultDomainIf(fn) : host.userDomain(fn, to);
  } else {
    domain = step.domain !== null ? machine.iommu?.domain(step.domain) ?? null : host.userDomain(fn, to);
    host.act(fn, `assign_device: ${fn} → ${to}'s domain${host.resvRegions(fn).some((r) => r.region !== null) ? ', its RMRRs identity-mapped there' : ''}`, 'Xen xen/drivers/passthrough/pci.c assign_device; vtd/iommu.c intel_iommu_assign_device');
  }
  if (domain !== null) {
    host.attach(fn, domain);
    host.joinDomain(domain.name, to, kernel.now);
    host.act(fn, `context → domain ${domain.name} (${domain.mode})`, host.linux ? 'Linux vfio_iommu_type1_attach_group / iommu_attach_group' : 'Xen reassign_device_ownership');
  }
  machine.ownership.assignFunction(fn, to, kernel.now);
  machine.control.assign(fn, to);
  interrupts(machine, fn, 'release', true);
  interrupts(machine, fn, 'program', true, to);
}

function release(machine: Machine, step: Extract<OwnershipStep, { kind: 'release' }>): void {
  const { host, kernel } = machine;
  const fn = step.device;
  let domain: Domain | null;
  if (host.linux) {
    machine.control.busMasterOff(fn, kernel.now, 'Linux vfio_pci_core_disable: pci_clear_master ("Stop the device from further DMA"); PCIe 6.0 §7.5.1.1.3');
    host.act(fn, 'vfio_pci_core_disable: pci_clear_master — the device may issue no more memory requests', 'Linux drivers/vfio/pci/vfio_pci_core.c vfio_pci_core_disable');
    interrupts(machine, fn, 'release', true);
    resetFunctions(machine, [fn], machine.spec.machine.functions.find((f) => f.id === fn)!.resetMethod);
    host.act(fn, 'pci_restore_state: the state saved at open, bus mastering off', 'Linux vfio_pci_core_disable (pci_load_and_free_saved_state, pci_restore_state)');
    domain = step.domain !== null ? machine.iommu?.domain(step.domain) ?? null : host.defaultDomainIf(fn);
    if (domain !== null) host.act(fn, `iommu_group_release_dma_owner: back to the default domain ${domain.name} (${domain.mode})`, 'Linux drivers/iommu/iommu.c __iommu_release_dma_ownership');
  } else {
    const q = machine.spec.machine.xen.quarantine;
    domain = step.domain !== null ? machine.iommu?.domain(step.domain) ?? null : q === 'off' ? host.hardwareDomain() : host.quarantineDomain(fn, q === 'scratch-page');
    const where = q === 'off' ? 'the hardware domain (dom0: all its RAM mapped 1:1)' : `dom_io, quarantined (${q})`;
    host.act(fn, `deassign_device: ${fn} → ${where}; the device is not stopped or reset here`, 'Xen xen/drivers/passthrough/pci.c deassign_device, pci_release_devices (XSA-302)');
    const amdKept = machine.spec.machine.iommu.model === 'amd-vi' && machine.spec.machine.xen.staleIrtes === 'kept';
    interrupts(machine, fn, 'release', !amdKept);
  }
  if (domain !== null) {
    host.attach(fn, domain);
    host.joinDomain(domain.name, HOST, kernel.now);
  }
  machine.ownership.assignFunction(fn, HOST, kernel.now);
}

/** pci_reset_function (save and disable, reset, restore) on one function, or a secondary bus reset below its parent bridge. */
function reset(machine: Machine, fn: string, kind: ResetKind): void {
  if (kind === 'none') machine.host.act(fn, 'pci_reset_function: no reset method (-ENOTTY), nothing is reset', 'Linux drivers/pci/pci.c pci_reset_function (pci_reset_supported)');
  resetFunctions(machine, [fn], kind);
}

/**
 * What a reset clears (PCIe 6.0 §6.6.2 FLR, §6.6.1 hot reset): the
 * function's DMA programming (it runs nobody's intent any more), its ATC,
 * and its outstanding requests (their completions are Unexpected
 * Completions). Posted writes already sent still land. A bus reset resets
 * every function on the bus below the parent bridge.
 */
function resetFunctions(machine: Machine, fns: readonly string[], kind: ResetKind): void {
  if (kind === 'none') return;
  const targets = kind === 'bus' ? belowParent(machine, fns[0]!) : fns;
  const rule = kind === 'flr' ? 'PCIe 6.0 §6.6.2 (FLR); Linux pcie_flr via pci_reset_function' : 'PCIe 6.0 §6.6.1 (hot reset); Linux pci_parent_bus_reset via pci_reset_function';
  const when = formatDuration(machine.kernel.now);
  for (const fn of targets) {
    const programmer = machine.control.lastProgrammer(fn);
    const what = kind === 'flr' ? 'a function level reset' : 'a secondary bus reset';
    machine.control.reset(fn, machine.kernel.now, `${fn} went through ${what} at ${when}: nothing ${programmer ?? 'anyone'} programmed into it survives (${rule})`);
    machine.fabric.resetFunction(fn);
    machine.iommu?.atc.reset(fn);
  }
  machine.host.act(fns[0]!, `${targets.join(', ')} reset (${kind}): DMA programming, ATC and outstanding requests cleared; config state saved before and restored after`, rule);
}

function belowParent(machine: Machine, fn: string): string[] {
  const parent = machine.spec.machine.fabric.functions.find((f) => f.id === fn)?.parent;
  return machine.spec.machine.fabric.functions.filter((f) => f.parent === parent).map((f) => f.id);
}

function unplug(machine: Machine, device: string, fns: readonly string[]): void {
  machine.fabric.setLink(fns[0]!, false);
  machine.host.act(device, `link down: ${device} removed; pciehp stops and removes it`, 'PCIe 6.0 §6.7; Linux drivers/pci/hotplug/pciehp_pci.c pciehp_unconfigure_device (pci_stop_and_remove_bus_device)');
  for (const fn of fns) {
    machine.host.detach(fn);
    interrupts(machine, fn, 'release', true);
  }
  machine.host.act(device, 'iommu_release_device: the contexts of its requester IDs are cleared', 'Linux drivers/iommu/iommu.c iommu_deinit_device (release_domain)');
}

function plug(machine: Machine, device: string, fns: readonly string[]): void {
  machine.fabric.setLink(fns[0]!, true);
  machine.host.act(device, `link up: ${device} plugged in; pciehp scans the slot`, 'PCIe 6.0 §6.7; Linux pciehp_configure_device (pci_scan_slot, pci_bus_add_devices)');
  const iommu = machine.iommu;
  for (const fn of fns) {
    if (iommu !== null && iommu.translation === 'os') {
      const domain = machine.host.probeDomain(fn);
      machine.host.attach(fn, domain);
      machine.host.act(fn, `iommu_probe_device: ${machine.host.untrusted.has(fn) ? 'untrusted, ' : ''}domain ${domain.name} (${domain.mode}${domain.mode === 'paging' ? `, ${domain.invalidation}` : ''})`, 'Linux drivers/iommu/iommu.c iommu_probe_device, iommu_get_default_domain_type');
    } else {
      machine.host.act(fn, `no IOMMU driver yet: ${iommu === null || iommu.translation === 'off' ? 'nothing translates its DMA' : "the firmware's tables hold it"}`, 'boot order: the OS attaches domains at intel_iommu_init');
    }
    interrupts(machine, fn, 'program', false, machine.ownership.ownerOfFunction(fn) ?? HOST);
  }
}

/** ExitBootServices: the firmware's DMA protection ends here unless it is handed over (EDK2 IntelVTdDxe). */
function exitBootServices(machine: Machine): void {
  const protection = machine.spec.machine.firmware.dmaProtection;
  const iommu = machine.iommu;
  if (protection === 'boot-services' && iommu !== null) iommu.translation = 'off';
  const what = protection === 'off' ? 'no pre-boot DMA protection was on' : protection === 'boot-services' ? 'the firmware disables DMA remapping (DisableDmar)' : 'the firmware leaves its DMA protection on for the OS';
  machine.host.act(null, `ExitBootServices: ${what}`, 'EDK2 IntelSiliconPkg/Feature/VTd/IntelVTdDxe OnExitBootServices (PcdVTdPolicyPropertyMask BIT1 keeps VT-d enabled)');
}

/** intel_iommu_init: the OS's tables take over (or, with intel_iommu=off and no opt-in, nothing changes). */
function iommuInit(machine: Machine): void {
  const { host, iommu } = machine;
  if (iommu === null) return;
  if (!host.osTranslation) {
    host.act(null, 'intel_iommu=off: the OS does not enable DMA remapping; the IOMMU stays as the firmware left it', 'Linux drivers/iommu/intel/iommu.c intel_iommu_init (dmar_disabled)');
    host.thunderboltFact();
    return;
  }
  iommu.translation = 'os';
  host.act(null, `intel_iommu_init: DMA remapping on with the OS's tables${host.forced ? ' (forced on: DMAR platform opt-in and an external-facing port)' : ''}`, 'Linux drivers/iommu/intel/iommu.c intel_iommu_init, platform_optin_force_iommu');
  for (const f of machine.spec.machine.functions) {
    if (!['endpoint', 'rciep', 'pci-device'].includes(machine.fabric.fn(f.id).kind) || !host.present(f.id) || iommu.context(machine.fabric.fn(f.id).rid) !== undefined) continue;
    const domain = host.probeDomain(f.id);
    host.attach(f.id, domain);
    host.act(f.id, `iommu_probe_device: ${host.untrusted.has(f.id) ? 'untrusted, ' : ''}domain ${domain.name} (${domain.mode})`, 'Linux drivers/iommu/iommu.c bus_iommu_probe, iommu_get_default_domain_type');
  }
  host.thunderboltFact();
}

/**
 * The device's interrupts torn down (its owner's driver lets go) or set up
 * for a new owner. ARM MSI controllers are not reprogrammed (not modelled).
 */
function interrupts(machine: Machine, fn: string, what: 'release' | 'program', clear: boolean, owner?: string): void {
  const setup = machine.x86?.setup;
  if (setup === undefined) return;
  if (what === 'release') {
    const gone = setup.release(fn, clear);
    if (gone.length > 0) {
      const how = machine.host.linux ? 'Linux pci_free_irq_vectors (intel free_irte: clear_entries; amd free_irte)' : 'Xen pci_release_devices → arch_pci_clean_pirqs (the guest\'s pirqs unmapped, their remapping entries cleared)';
      machine.host.act(fn, clear ? `MSI disabled; ${gone.length} vector(s) and remapping entries freed` : `MSI disabled; ${gone.length} remapping entr(ies) left in the table, still the old owner's (XSA-36)`, clear ? how : 'Xen before XSA-36: "old entries are not always cleared"');
    }
    return;
  }
  const set = setup.reprogram(fn, owner!);
  if (set.length > 0) machine.host.act(fn, `${set.length} vector(s) set up for ${owner}${set[0]!.irte === null ? '' : `: remapping entr${set.length > 1 ? 'ies' : 'y'} ${set.map((p) => p.irte).join(', ')}`}`, 'Linux msi_domain_alloc_irqs (intel/amd irq_remapping alloc_irte); VFIO_DEVICE_SET_IRQS for a user');
}

/**
 * A device step the device cannot carry out: its link is down (unplugged
 * or not yet plugged in), or it was quieted (bus mastering cleared, or
 * reset after the principal programmed it). The attempt becomes a refusal
 * record at the device, attributed to whoever would have driven it.
 */
export function deviceRefusal(machine: Machine, record: StepRecord, fn: string): boolean {
  const step = record.step;
  if (machine.fabric.linkDown(fn)) {
    record.refused = machine.fabric.refuse({ principal: machine.ownership.actorOf(fn), reason: 'link.down', rule: `${fn} is not on the fabric: the link above it is down (PCIe 6.0 §2.9.1, §6.7)`, decidedAt: fn, step: step.index, origin: fn });
    return true;
  }
  const quiet = machine.control.refusal(fn);
  if (quiet === null) return false;
  record.refused = machine.fabric.refuse({ principal: quiet.principal, reason: quiet.reason, rule: quiet.rule, decidedAt: fn, step: step.index, origin: fn });
  return true;
}

export type MappingTarget = { readonly hpa: number; readonly grant: { readonly hpa: number; readonly size: number } } | { readonly refused: true };

/**
 * Where a map step's buffer really goes: VFIO refuses a user's mapping over
 * a reserved IOVA range (vfio_iommu_iova_dma_valid); the DMA API bounces an
 * untrusted device's unaligned buffer through swiotlb, granting it the
 * slot's whole pages (their padding is zeroed, nothing else lives there).
 */
export function mappingTarget(machine: Machine, record: StepRecord, step: Extract<StepRecord['step'], { kind: 'map' }>, hpa: number): MappingTarget {
  const { host } = machine;
  const domain = machine.spec.domains.find((d) => d.name === step.domain);
  const devices = domain?.devices ?? [];
  const { iova, size } = step.mapping;
  if (host.linux && !host.hostDomain(step.domain)) {
    for (const d of devices) {
      const region = reservedForUser(host.resvRegions(d), iova, size);
      if (region === null) continue;
      const principal = machine.domainPrincipals.get(step.domain)?.find((p) => p !== HOST) ?? HOST;
      record.refused = machine.fabric.refuse({
        principal,
        reason: R['vfio.iova-reserved'].code,
        rule: `IOVA 0x${iova.toString(16)}+0x${size.toString(16)} overlaps ${region.source} of ${d} [0x${region.base.toString(16)}+0x${region.size.toString(16)}]: VFIO_IOMMU_MAP_DMA fails with -EINVAL`,
        decidedAt: 'host (vfio)',
        step: step.index,
      });
      return { refused: true };
    }
    return { hpa, grant: { hpa, size } };
  }
  if (host.linux && devices.some((d) => needsBounce(host.untrusted.has(d), hpa, size))) {
    const slot = host.bounceSlot(hpa, size);
    host.bounced.set(`${step.domain}@${iova}`, { iova: iova - (slot.hpa - slot.base), size: slot.size });
    host.act(devices.find((d) => host.untrusted.has(d)) ?? null, `swiotlb bounce: buffer 0x${hpa.toString(16)}+0x${size.toString(16)} is mapped as slot 0x${slot.hpa.toString(16)} (pages 0x${slot.base.toString(16)}+0x${slot.size.toString(16)}, padding zeroed)`, 'Linux drivers/iommu/dma-iommu.c iommu_dma_map_phys → iommu_dma_map_swiotlb (dev_use_swiotlb: untrusted device)');
    return { hpa: slot.hpa, grant: { hpa: slot.base, size: slot.size } };
  }
  return { hpa, grant: { hpa, size } };
}

/** The grant range an unmap ends: a bounce slot's whole pages (swiotlb_tbl_unmap_single frees the slot), else the range asked for. */
export function unmappedGrant(machine: Machine, domain: string, iova: number, size: number): { readonly iova: number; readonly size: number } {
  const slot = machine.host.bounced.get(`${domain}@${iova}`);
  if (slot === undefined) return { iova, size };
  machine.host.bounced.delete(`${domain}@${iova}`);
  return slot;
}
