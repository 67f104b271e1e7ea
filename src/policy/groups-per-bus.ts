/**
 * The per-bus isolation algorithm of Jason Gunthorpe's series "Fix
 * incorrect iommu_groups with PCIe ACS" (v3, 2025-09-05, patch 03/11
 * "iommu: Compute iommu_groups properly for PCIe switches"; pci_bus_isolated()
 * from patch 02/11 "PCI: Add pci_bus_isolated()" in drivers/pci/search.c).
 * "Work on busses, not devices. Isolation is a property of the bus, and the
 * first non-isolated bus should form a group containing all devices
 * downstream of that bus."
 *
 * ACS Enhanced (patches 08-11): root ports must also redirect requests to
 * their own MMIO (DSP_MT_RR); switch downstream ports to every DSP's and the
 * upstream port's MMIO (DSP_MT_RR | USP_MT_RR), and a DSP that lets
 * requests reach the upstream port's BARs puts the upstream port in the
 * group too. Without the Enhanced capability those bits are masked as if
 * enabled (acsFlagsEnabled). Quirks answer for the Enhanced bits as for any
 * other (a quirk providing SV|RR|CR|UF does not provide DSP_MT_RR), as the
 * series' code does. Not modelled: the MFD rework of patch 06/11
 * (pci_reachable_set / pci_mfd_isolated): multifunction devices keep the
 * classic get_pci_function_alias_group() rule, as in patch 03/11.
 */
import { DSP_MT_RR, pciAcsEnabled, REQ_ACS_FLAGS, USP_MT_RR } from './acs-check.ts';
import { ClassicContext } from './groups-classic.ts';
import { GroupState, type GroupResult } from './group-result.ts';
import type { KernelModel } from './kernel-options.ts';
import { busMembers, devfnOfBdf, type PciFunction, type PciTopology } from './pci-topology.ts';
import { usesPcieBridgeAlias } from './quirks.ts';
import { requirePortType, UnknownFact } from './unknown-fact.ts';

/** enum pci_bus_isolation */
export type BusIsolation =
  /** Downstream traffic can only reach the IOMMU. */
  | 'PCIE_ISOLATED'
  /** The bus is not isolated and the bridge above is part of it (its MMIO or its RID). */
  | 'PCIE_NON_ISOLATED'
  | 'PCI_BRIDGE_NON_ISOLATED'
  /** The devices on the bus reach each other but not the bridge above. */
  | 'PCI_BUS_NON_ISOLATED'
  | 'PCIE_SWITCH_DSP_NON_ISOLATED';

export function perBusGroups(topology: PciTopology, kernel: KernelModel = {}): GroupResult {
  const state = new GroupState();
  const ctx = new PerBusContext(topology, kernel, state);
  state.run(topology.functions, (fn) => ctx.deviceGroup(fn));
  return state.result('per-bus');
}

/** One function on a switch's internal bus, as pcie_switch_isolated() judges it. */
export function switchMemberIsolation(dev: PciFunction, kernel: KernelModel): BusIsolation {
  requirePortType(dev);
  // "Don't understand what this is, be conservative"
  if (dev.portType !== 'downstream' || dev.dmaAliasDevfns.length > 0) return 'PCIE_NON_ISOLATED';
  if (pciAcsEnabled(dev, REQ_ACS_FLAGS | DSP_MT_RR | USP_MT_RR, kernel)) return 'PCIE_ISOLATED';
  return pciAcsEnabled(dev, USP_MT_RR, kernel) ? 'PCIE_SWITCH_DSP_NON_ISOLATED' : 'PCIE_NON_ISOLATED';
}

/**
 * A root port's secondary bus (pci_bus_isolated): isolated unless an ACS
 * capability is present and not isolating ("no ACS cap then no loopback");
 * "The root port uses DSP_MT_RR for its own MMIO".
 */
export function rootPortIsolation(bridge: PciFunction, kernel: KernelModel): BusIsolation {
  if (bridge.acs.kind === 'unknown') throw new UnknownFact(bridge.key, 'the ACS capability');
  if (bridge.acs.kind === 'present' && !pciAcsEnabled(bridge, REQ_ACS_FLAGS | DSP_MT_RR, kernel)) return 'PCIE_NON_ISOLATED';
  return 'PCIE_ISOLATED';
}

class PerBusContext extends ClassicContext {
  /**
   * pcie_switch_isolated(): any DSP without PCI_ACS_ISOLATED | DSP_MT_RR |
   * USP_MT_RR spoils the switch's internal bus; if it also lets requests
   * reach the upstream port's MMIO, the upstream port joins ("The USP is
   * isolated from the DSP" otherwise).
   */
  switchIsolation(member: PciFunction): BusIsolation {
    for (const dev of busMembers(this.topology, member)) {
      const isolation = switchMemberIsolation(dev, this.kernel);
      if (isolation !== 'PCIE_ISOLATED') return isolation;
    }
    return 'PCIE_ISOLATED';
  }

  /** pci_bus_isolated() for the bus `member` sits on. */
  busIsolation(member: PciFunction): BusIsolation {
    const bridge = this.parentOf(member);
    // Root bus: "Linux has historically been optimistic about this bus and treated it as isolating."
    if (!bridge) return 'PCIE_ISOLATED';
    requirePortType(bridge);
    let type = bridge.portType;
    if (type === 'conventional') {
      // PCI/PCI-X below a non-PCIe bridge: no isolation possible.
      if (!usesPcieBridgeAlias(bridge, this.parentOf(bridge))) return 'PCI_BRIDGE_NON_ISOLATED';
      type = 'pcie-pci-bridge';
    }
    switch (type) {
      case 'root-port':
        return rootPortIsolation(bridge, this.kernel);
      // PCIe links are point to point: a DSP's secondary bus is isolated.
      case 'downstream':
        return 'PCIE_ISOLATED';
      // The interior bus of a switch, where the DSPs' ACS applies.
      case 'upstream':
        return this.switchIsolation(member);
      // PCIe-to-PCI: everything below aliases to (subordinate, 00.0); the bridge joins only if it has MMIO.
      case 'pcie-pci-bridge':
        if (bridge.hasMmio === undefined) throw new UnknownFact(bridge.key, 'whether the bridge has MMIO BARs');
        return bridge.hasMmio ? 'PCI_BRIDGE_NON_ISOLATED' : 'PCI_BUS_NON_ISOLATED';
      default:
        return 'PCI_BRIDGE_NON_ISOLATED';
    }
  }

  /** pci_hierarchy_group(): join the upstream bridge's group if it is marked non-isolated. */
  hierarchyGroup(pdev: PciFunction): number | undefined {
    const self = this.parentOf(pdev);
    if (!self) return undefined;
    const group = this.state.get(self);
    if (group === undefined) throw new UnknownFact(pdev.key, `the group of its upstream bridge ${self.key} (probed out of order)`);
    return this.state.nonIsolated.has(group) ? group : undefined;
  }

  /** pci_get_function_group(): aliases and MFD siblings; propagate non-isolation if any were involved. */
  functionGroup(pdev: PciFunction): number | undefined {
    const devfns = new Set<number>();
    const group = this.aliasGroup(pdev, devfns) ?? this.functionAliasGroup(pdev, devfns);
    if (group !== undefined) return group;
    devfns.delete(devfnOfBdf(pdev.bdf));
    return devfns.size > 0 ? this.allocNonIsolated() : undefined;
  }

  allocNonIsolated(): number {
    const id = this.state.alloc();
    this.state.nonIsolated.add(id);
    return id;
  }

  override deviceGroup(pdev: PciFunction): number {
    const real = this.realDmaDev(pdev);
    if (real !== pdev) {
      const group = this.state.get(real);
      if (group === undefined) throw new UnknownFact(pdev.key, `the group of its real DMA device ${real.key} (probed out of order)`);
      return group;
    }
    const inherited = this.hierarchyGroup(pdev);
    if (inherited !== undefined) return inherited;
    switch (this.busIsolation(pdev)) {
      case 'PCIE_ISOLATED':
        return this.functionGroup(pdev) ?? this.state.alloc();
      case 'PCI_BRIDGE_NON_ISOLATED':
      case 'PCIE_NON_ISOLATED': {
        const group = this.state.get(this.parentOf(pdev)!)!;
        this.state.nonIsolated.add(group);
        return group;
      }
      case 'PCI_BUS_NON_ISOLATED':
      case 'PCIE_SWITCH_DSP_NON_ISOLATED':
        for (const peer of busMembers(this.topology, pdev)) {
          const group = this.state.get(peer);
          if (group !== undefined) {
            this.state.nonIsolated.add(group);
            return group;
          }
        }
        return this.allocNonIsolated();
    }
  }
}
