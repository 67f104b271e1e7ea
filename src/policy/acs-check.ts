/**
 * Linux's ACS tests as the grouping code calls them: pci_acs_enabled(),
 * pci_acs_flags_enabled() and pci_acs_path_enabled() (drivers/pci/pci.c),
 * with pci_dev_specific_acs_enabled() quirks (drivers/pci/quirks.c) first.
 * A fact that a non-root dump could not read raises UnknownFact instead of
 * being guessed.
 */
import { ACS_ENHANCED, ACS_ENHANCED_CONTROLS, Acs, AcsCtl, REQUIRED_ACS } from '../pcie/acs.ts';
import { devSpecificAcsEnabled } from './quirks.ts';
import type { KernelModel } from './kernel-options.ts';
import { requirePortType, UnknownFact } from './unknown-fact.ts';
import type { PciFunction, PciTopology } from './pci-topology.ts';

/** REQ_ACS_FLAGS (drivers/iommu/iommu.c), PCI_ACS_ISOLATED in the 2025 series. */
export const REQ_ACS_FLAGS = REQUIRED_ACS;

/** The memory-target redirects the 2025 series asks of root ports and switch downstream ports (patch 10/11). */
export const DSP_MT_RR = AcsCtl.DSP_MT_RR;
export const USP_MT_RR = AcsCtl.USP_MT_RR;

/**
 * pci_acs_flags_enabled() through pci_acs_ctrl_mask() (2025 series patch
 * 10/11, which extends mainline's acs_flags &= cap | PCI_ACS_EC): "Except for
 * egress control, capabilities are either required or only required if
 * controllable. Features missing from the capability field can therefore
 * be assumed as hard-wired enabled", and "if the device does not support
 * [ACS Enhanced] then we assume the ACS P2P RR has all the enhanced
 * behaviors too": the Enhanced controls are tested only when the Enhanced
 * capability bit is set. (The patch as posted assigns the mask instead of
 * OR-ing, dropping EC; nothing asks for EC when forming groups.) No
 * capability: false.
 */
export function acsFlagsEnabled(fn: PciFunction, flags: number): boolean {
  if (fn.acs.kind === 'unknown') throw new UnknownFact(fn.key, 'the ACS capability');
  if (fn.acs.kind === 'none') return false;
  const cap = fn.acs.cap;
  const mask = Acs.EC | (cap & (Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.DT)) | ((cap & ACS_ENHANCED) !== 0 ? ACS_ENHANCED_CONTROLS : 0);
  const wanted = flags & mask;
  return (fn.acs.ctl & wanted) === wanted;
}


/** pci_acs_enabled() (drivers/pci/pci.c): quirks, then the rules by PCIe type of PCIe 3.0 §6.12. */
export function pciAcsEnabled(fn: PciFunction, flags: number, kernel: KernelModel): boolean {
  const quirk = devSpecificAcsEnabled(fn, flags, kernel);
  if (quirk >= 0) return quirk > 0;
  requirePortType(fn);
  switch (fn.portType) {
    // "Conventional PCI and PCI-X devices never support ACS, either effectively or actually."
    case 'conventional':
      return false;
    // PCI/X-to-PCIe bridges are handled as non-PCIe; PCIe-to-PCI bridges and RC event collectors
    // "must never implement an ACS Extended Capability" (PCIe 3.0 §6.12.1).
    case 'pci-pcie-bridge':
    case 'pcie-pci-bridge':
    case 'rc-event-collector':
      return false;
    // §6.12.1.1: downstream and root ports, single- or multi-function.
    case 'downstream':
    case 'root-port':
      return acsFlagsEnabled(fn, flags);
    // §6.12.1.2: the other types only when part of a multifunction device.
    case 'endpoint':
    case 'upstream':
    case 'legacy-endpoint':
    case 'rciep':
      return fn.multifunction ? acsFlagsEnabled(fn, flags) : true;
    default:
      return true;
  }
}

/**
 * pci_acs_path_enabled(start, NULL, flags): every device from `start` up to
 * the root bus must pass pci_acs_enabled().
 */
export function pciAcsPathEnabled(topology: PciTopology, start: PciFunction, flags: number, kernel: KernelModel): boolean {
  for (let dev: PciFunction | undefined = start; dev; dev = dev.parent === null ? undefined : topology.byKey.get(dev.parent)) {
    if (!pciAcsEnabled(dev, flags, kernel)) return false;
  }
  return true;
}
