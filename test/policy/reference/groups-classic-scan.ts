// Reference copy (test oracle) of the src/policy grouping code as of commit f1f11cc, before the
// bus index: every same-bus lookup scans all functions. groups-index.test.ts checks that the
// indexed code in src/policy gives the same groups on random topologies. Do not optimise this copy.
/**
 * The classic Linux grouping: pci_device_group() in drivers/iommu/iommu.c
 * (unchanged in substance from v3.6 to v6.17), run over the functions in
 * probe order so that "if we find an existing group, use it" sees the same
 * groups the kernel saw.
 */
import { pciAcsEnabled, pciAcsPathEnabled, REQ_ACS_FLAGS } from '../../../src/policy/acs-check.ts';
import { GroupState, type GroupResult } from '../../../src/policy/group-result.ts';
import type { KernelModel } from '../../../src/policy/kernel-options.ts';
import { devfnOfBdf, type PciFunction, type PciTopology } from '../../../src/policy/pci-topology.ts';
import { requirePortType, UnknownFact } from '../../../src/policy/unknown-fact.ts';

export function classicGroups(topology: PciTopology, kernel: KernelModel = {}): GroupResult {
  const state = new GroupState();
  const ctx = new ClassicContext(topology, kernel, state);
  state.run(topology.functions, (fn) => ctx.deviceGroup(fn));
  return state.result('classic');
}

/** Same struct pci_bus: same domain, bus number and upstream bridge. */
export function onSameBus(a: PciFunction, b: PciFunction): boolean {
  return a.parent === b.parent && a.bdf.domain === b.bdf.domain && a.bdf.bus === b.bdf.bus;
}

/** pci_devs_are_dma_aliases(): either lists the other's devfn as a DMA alias. */
export function areDmaAliases(a: PciFunction, b: PciFunction): boolean {
  return onSameBus(a, b) && (a.dmaAliasDevfns.includes(devfnOfBdf(b.bdf)) || b.dmaAliasDevfns.includes(devfnOfBdf(a.bdf)));
}

export class ClassicContext {
  constructor(
    readonly topology: PciTopology,
    readonly kernel: KernelModel,
    readonly state: GroupState,
  ) {}

  parentOf(fn: PciFunction): PciFunction | undefined {
    return fn.parent === null ? undefined : this.topology.byKey.get(fn.parent);
  }

  realDmaDev(fn: PciFunction): PciFunction {
    if (fn.realDmaDev === undefined) return fn;
    const real = this.topology.byKey.get(fn.realDmaDev);
    if (!real) throw new UnknownFact(fn.key, `its real DMA device ${fn.realDmaDev} (not in the input)`);
    return real;
  }

  /**
   * pci_for_each_dma_alias() (drivers/pci/search.c) with
   * get_pci_alias_or_group(): walk from the device (its pci_real_dma_dev())
   * up to the root bus, visiting the devices whose requester ID the IOMMU
   * may see; stop at the first that already has a group. Returns that group
   * or the last device visited.
   */
  dmaAliasWalk(start: PciFunction): { group: number } | { last: PciFunction } {
    const pdev = this.realDmaDev(start);
    let last = pdev;
    const visit = (dev: PciFunction): number | undefined => {
      last = dev;
      return this.state.get(dev);
    };
    let group = visit(pdev);
    if (group !== undefined) return { group };
    for (let tmp = this.parentOf(pdev); tmp; tmp = this.parentOf(tmp)) {
      requirePortType(tmp);
      switch (tmp.portType) {
        // PCIe ports forward the requester ID unchanged.
        case 'root-port':
        case 'upstream':
        case 'downstream':
          continue;
        // PCIe-to-PCI bridges alias with (subordinate bus, devfn 0); PCI-X-to-PCIe bridges with their own RID.
        case 'pcie-pci-bridge':
        case 'pci-pcie-bridge':
          group = visit(tmp);
          if (group !== undefined) return { group };
          continue;
        // Conventional PCI bridges (with or without PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS) take ownership.
        case 'conventional':
          group = visit(tmp);
          if (group !== undefined) return { group };
          continue;
        default:
          continue;
      }
    }
    return { last };
  }

  /** pci_device_group() */
  deviceGroup(fn: PciFunction): number {
    const walk = this.dmaAliasWalk(fn);
    if ('group' in walk) return walk.group;
    let pdev = walk.last;
    // Continue upstream to the point where devices are protected from P2P by ACS.
    for (let self = this.parentOf(pdev); self; self = this.parentOf(self)) {
      if (pciAcsPathEnabled(this.topology, self, REQ_ACS_FLAGS, this.kernel)) break;
      pdev = self;
      const group = this.state.get(pdev);
      if (group !== undefined) return group;
    }
    const devfns = new Set<number>();
    return this.aliasGroup(pdev, devfns) ?? this.functionAliasGroup(pdev, devfns) ?? this.state.alloc();
  }

  /** get_pci_alias_group(): existing groups of DMA aliases on the same bus (bitmap guards loops). */
  aliasGroup(pdev: PciFunction, devfns: Set<number>): number | undefined {
    const devfn = devfnOfBdf(pdev.bdf);
    if (devfns.has(devfn)) return undefined;
    devfns.add(devfn);
    const own = this.state.get(pdev);
    if (own !== undefined) return own;
    for (const tmp of this.topology.functions) {
      if (tmp === pdev || !onSameBus(tmp, pdev) || !areDmaAliases(pdev, tmp)) continue;
      const group = this.aliasGroup(tmp, devfns) ?? this.functionAliasGroup(tmp, devfns);
      if (group !== undefined) return group;
    }
    return undefined;
  }

  /**
   * get_pci_function_alias_group(): a multifunction device lacking ACS
   * joins the group of a sibling function (same slot) that also lacks it.
   */
  functionAliasGroup(pdev: PciFunction, devfns: Set<number>): number | undefined {
    if (!pdev.multifunction || pciAcsEnabled(pdev, REQ_ACS_FLAGS, this.kernel)) return undefined;
    for (const tmp of this.topology.functions) {
      if (tmp === pdev || !onSameBus(tmp, pdev) || tmp.bdf.device !== pdev.bdf.device) continue;
      if (pciAcsEnabled(tmp, REQ_ACS_FLAGS, this.kernel)) continue;
      const group = this.aliasGroup(tmp, devfns);
      if (group !== undefined) return group;
    }
    return undefined;
  }
}
