/**
 * Linux's ACS tests as the grouping code calls them: pci_acs_enabled(),
 * pci_acs_flags_enabled() and pci_acs_path_enabled() (drivers/pci/pci.c),
 * with pci_dev_specific_acs_enabled() quirks (drivers/pci/quirks.c) first.
 * A fact that a non-root dump could not read raises UnknownFact instead of
 * being guessed.
 */
import { ACS_ENHANCED, ACS_ENHANCED_CONTROLS, Acs, AcsCtl, REQUIRED_ACS } from '../pcie/acs.ts';
import { devSpecificAcs, type AcsQuirk, type QuirkUse } from './quirks.ts';
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


/** Why pci_acs_enabled() answered what it did, for explanations (group-why.ts). */
export type AcsReason =
  /** A pci_dev_acs_enabled[] quirk answered (quirk null: the out-of-tree pcie_acs_override). */
  | { readonly kind: 'quirk'; readonly quirk: AcsQuirk | null; readonly uses: readonly QuirkUse[] }
  /** Conventional PCI / PCI-X: "never support ACS, either effectively or actually". */
  | { readonly kind: 'conventional' }
  /** PCIe-to-PCI bridges, PCI-to-PCIe bridges, RC event collectors "must never implement" ACS (PCIe 3.0 §6.12.1). */
  | { readonly kind: 'never' }
  /** A downstream/root port or multifunction function without an ACS capability. */
  | { readonly kind: 'no-capability' }
  /** The ACS capability decides; `missing` = wanted controls it implements but has off. */
  | { readonly kind: 'capability'; readonly missing: number }
  /** Single-function endpoints and upstream ports: not asked (§6.12.1.2). */
  | { readonly kind: 'not-required' };

export interface AcsVerdict {
  readonly fn: PciFunction;
  readonly enabled: boolean;
  readonly reason: AcsReason;
}

/** pci_acs_enabled() (drivers/pci/pci.c): quirks, then the rules by PCIe type of PCIe 3.0 §6.12, with the reason. */
export function acsVerdict(fn: PciFunction, flags: number, kernel: KernelModel): AcsVerdict {
  const quirk = devSpecificAcs(fn, flags, kernel);
  if (quirk.result >= 0) return { fn, enabled: quirk.result > 0, reason: { kind: 'quirk', quirk: quirk.quirk, uses: quirk.uses } };
  requirePortType(fn);
  const capability = (): AcsVerdict => {
    const enabled = acsFlagsEnabled(fn, flags);
    if (fn.acs.kind !== 'present') return { fn, enabled, reason: { kind: 'no-capability' } };
    return { fn, enabled, reason: { kind: 'capability', missing: flags & (fn.acs.cap | Acs.EC) & ~fn.acs.ctl } };
  };
  switch (fn.portType) {
    case 'conventional':
      return { fn, enabled: false, reason: { kind: 'conventional' } };
    case 'pci-pcie-bridge':
    case 'pcie-pci-bridge':
    case 'rc-event-collector':
      return { fn, enabled: false, reason: { kind: 'never' } };
    // §6.12.1.1: downstream and root ports, single- or multi-function.
    case 'downstream':
    case 'root-port':
      return capability();
    // §6.12.1.2: the other types only when part of a multifunction device.
    case 'endpoint':
    case 'upstream':
    case 'legacy-endpoint':
    case 'rciep':
      return fn.multifunction ? capability() : { fn, enabled: true, reason: { kind: 'not-required' } };
    default:
      return { fn, enabled: true, reason: { kind: 'not-required' } };
  }
}

/** pci_acs_enabled() (drivers/pci/pci.c): quirks, then the rules by PCIe type of PCIe 3.0 §6.12. */
export function pciAcsEnabled(fn: PciFunction, flags: number, kernel: KernelModel): boolean {
  return acsVerdict(fn, flags, kernel).enabled;
}

/**
 * pci_acs_path_enabled(start, NULL, flags): every device from `start` up to
 * the root bus must pass pci_acs_enabled().
 */
export function pciAcsPathEnabled(topology: PciTopology, start: PciFunction, flags: number, kernel: KernelModel): boolean {
  return acsPathVerdict(topology, start, flags, kernel).enabled;
}

/** pci_acs_path_enabled() with the verdict of the first device that fails (or of `start` when all pass). */
export function acsPathVerdict(topology: PciTopology, start: PciFunction, flags: number, kernel: KernelModel): AcsVerdict {
  let first: AcsVerdict | undefined;
  for (let dev: PciFunction | undefined = start; dev; dev = dev.parent === null ? undefined : topology.byKey.get(dev.parent)) {
    const verdict = acsVerdict(dev, flags, kernel);
    first ??= verdict;
    if (!verdict.enabled) return verdict;
  }
  return first!;
}
