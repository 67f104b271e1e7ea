// Reference copy (test oracle) of the src/policy grouping code as of commit f1f11cc, before the
// bus index: every same-bus lookup scans all functions. groups-index.test.ts checks that the
// indexed code in src/policy gives the same groups on random topologies. Do not optimise this copy.
/**
 * The per-bus isolation algorithm of Jason Gunthorpe's series "Fix
 * incorrect iommu_groups with PCIe ACS" (v3, 2025-09-05, patch 03/11
 * "iommu: Compute iommu_groups properly for PCIe switches"; pci_bus_isolated()
 * from patch 02/11 "PCI: Add pci_bus_isolated()" in drivers/pci/search.c).
 * "Work on busses, not devices. Isolation is a property of the bus, and the
 * first non-isolated bus should form a group containing all devices
 * downstream of that bus."
 *
 * ACS Enhanced as src (shared decisions); not modelled: the MFD rework of patch 06/11 (pci_reachable_set /
 * pci_mfd_isolated): multifunction devices keep the classic
 * get_pci_function_alias_group() rule, as in patch 03/11.
 */
// The per-function decisions (switch member, root port; ACS Enhanced since issue 14) are shared with src.
import { rootPortIsolation, switchMemberIsolation } from '../../../src/policy/groups-per-bus.ts';
import { ClassicContext, onSameBus } from './groups-classic-scan.ts';
import { GroupState, type GroupResult } from '../../../src/policy/group-result.ts';
import type { KernelModel } from '../../../src/policy/kernel-options.ts';
import { devfnOfBdf, type PciFunction, type PciTopology } from '../../../src/policy/pci-topology.ts';
import { usesPcieBridgeAlias } from '../../../src/policy/quirks.ts';
import { requirePortType, UnknownFact } from '../../../src/policy/unknown-fact.ts';

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

class PerBusContext extends ClassicContext {
  /** pcie_switch_isolated(): any DSP without PCI_ACS_ISOLATED spoils the switch's internal bus. */
  switchIsolation(member: PciFunction): BusIsolation {
    for (const dev of this.topology.functions) {
      if (!onSameBus(dev, member)) continue;
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
      // Root ports: isolated unless an ACS capability is present and not isolating ("no ACS cap then no loopback").
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
        for (const peer of this.topology.functions) {
          if (!onSameBus(peer, pdev)) continue;
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
