/**
 * Device-specific ACS: pci_dev_acs_enabled[] and pci_dev_specific_acs_enabled()
 * in drivers/pci/quirks.c (table as in linux-next of 2025). Entries are tried
 * in table order; the first that does not answer -ENOTTY wins. A quirk can
 * only match when the vendor:device IDs are known.
 *
 * Each quirk is what Linux believes because a vendor said so; the hardware
 * fact it relies on lives below, in src/fabric/silicon.ts, and every quirk
 * function names its fact (`check.silicon`), so the scenario layer derives
 * both the groups and the routing from one identity (quirkFor).
 */
import { Acs } from '../pcie/acs.ts';
import { SILICON, type SiliconFact } from '../fabric/silicon.ts';
import { requirePortType, UnknownFact } from './unknown-fact.ts';
import type { KernelModel } from './kernel-options.ts';
import type { PciFunction } from './pci-topology.ts';

const ENOTTY = -1;
const ANY = -1;
const SV_RR_CR_UF = Acs.SV | Acs.RR | Acs.CR | Acs.UF;

type QuirkCheck = (fn: PciFunction, flags: number, kernel: KernelModel) => number;

/** A quirk function and the silicon fact it relies on (null: a kernel option, not a vendor statement). */
type QuirkFn = QuirkCheck & { readonly silicon: SiliconFact | null };

export interface AcsQuirk {
  readonly vendor: number;
  readonly device: number;
  readonly check: QuirkFn;
}

/** Names the silicon fact a quirk function relies on. */
function relying(silicon: SiliconFact | null, check: QuirkCheck): QuirkFn {
  return Object.assign(check, { silicon });
}

/** pci_acs_ctrl_enabled(): 1 when every requested control is among those provided. */
function ctrlEnabled(requested: number, provided: number): number {
  return (requested & provided) === requested ? 1 : 0;
}

/** pci_quirk_amd_sb_acs(): AMD/ATI southbridge MFDs on the root bus, when IVRS describes an AMD IOMMU. */
const amdSouthbridge = relying(SILICON.amdSouthbridge, (fn, flags, kernel) => {
  if (!fn.multifunction || fn.parent !== null) return ENOTTY;
  if (kernel.amdIvrsPresent === false) return ENOTTY;
  return ctrlEnabled(flags & (Acs.RR | Acs.CR | Acs.EC | Acs.DT), Acs.RR | Acs.CR);
});

/** pci_quirk_mf_endpoint_acs(): vendor-verified MFDs without P2P between functions. */
const mfEndpoint = relying(SILICON.mfEndpoint, (_fn, flags) => ctrlEnabled(flags, Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.DT));

/** pci_quirk_rciep_acs(): Intel RCiEPs allow P2P only on translated addresses (VT-d r3.1 §3.16). */
const intelRciep = relying(SILICON.intelRciep, (fn, flags) => {
  requirePortType(fn);
  return fn.portType === 'rciep' ? ctrlEnabled(flags, SV_RR_CR_UF) : ENOTTY;
});

/**
 * Root ports that isolate like SV|RR|CR|UF without an ACS capability: pci_quirk_qcom_rp_acs (also HXT),
 * pci_quirk_nxp_rp_acs, pci_quirk_xgene_acs (X-Gene, Ampere), pci_quirk_brcm_acs, pci_quirk_loongson_acs —
 * one body, each its own vendor statement.
 */
const rootPortLikeAcs = (silicon: SiliconFact): QuirkFn => relying(silicon, (_fn, flags) => ctrlEnabled(flags, SV_RR_CR_UF));
const qcomRp = rootPortLikeAcs(SILICON.qcomRootPort);
const nxpRp = rootPortLikeAcs(SILICON.nxpRootPort);
const xgeneRp = rootPortLikeAcs(SILICON.xgene);
const brcmRp = rootPortLikeAcs(SILICON.brcm);
const loongsonRp = rootPortLikeAcs(SILICON.loongson);

/** pci_quirk_intel_pch_acs_ids[] (Red Hat bugzilla 1037684). */
const INTEL_PCH_ACS_IDS = new Set<number>([
  ...range(0x3b42, 0x3b51), // Ibexpeak
  ...range(0x1c10, 0x1c1f), // Cougarpoint
  ...range(0x1e10, 0x1e1f), // Pantherpoint
  ...range(0x8c10, 0x8c1f), // Lynxpoint-H
  ...range(0x9c10, 0x9c1b), // Lynxpoint-LP
  ...range(0x9c90, 0x9c9b), // Wildcat
  0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e, // Patsburg (X79)
  ...range(0x8d10, 0x8d1e), // Wellsburg (X99)
  0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e, // Lynx Point (9 series)
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function isRootPort(fn: PciFunction): boolean {
  requirePortType(fn);
  return fn.portType === 'root-port';
}

/**
 * pci_quirk_intel_pch_acs(): PCH root ports with ACS-like controls but no
 * capability. Full ACS only when pci_quirk_enable_intel_pch_acs() ran.
 */
const intelPch = relying(SILICON.intelPch, (fn, flags, kernel) => {
  if (!isRootPort(fn) || !INTEL_PCH_ACS_IDS.has((fn.ids!.device ?? -1))) return ENOTTY;
  return ctrlEnabled(flags, kernel.intelPchAcsQuirkEnabled === false ? 0 : SV_RR_CR_UF);
});

/** pci_quirk_intel_spt_pch_acs_match(): Sunrise Point, Union Point, 7th/8th gen mobile root ports. */
function isIntelSptPort(device: number): boolean {
  return (
    (device >= 0xa110 && device <= 0xa11f) ||
    (device >= 0xa167 && device <= 0xa16a) ||
    (device >= 0xa290 && device <= 0xa29f) ||
    (device >= 0xa2e7 && device <= 0xa2ee) ||
    (device >= 0x9d10 && device <= 0x9d1b)
  );
}

/**
 * pci_quirk_intel_spt_pch_acs(): these ports keep ACS control in a dword at
 * cap+8, not the word at cap+6 that lspci prints, and
 * pci_quirk_enable_intel_spt_pch_acs() sets SV|RR|CR|UF there (as far as
 * implemented). So the control lspci shows is not the one in force; the
 * enabled set is the implemented subset of SV|RR|CR|UF.
 */
const intelSpt = relying(SILICON.intelSpt, (fn, flags) => {
  if (!isRootPort(fn) || !isIntelSptPort((fn.ids!.device ?? -1))) return ENOTTY;
  if (fn.acs.kind === 'unknown') throw new UnknownFact(fn.key, 'the ACS capability');
  if (fn.acs.kind === 'none') return ENOTTY;
  const wanted = flags & (fn.acs.cap | Acs.EC);
  return ctrlEnabled(wanted, fn.acs.cap & SV_RR_CR_UF);
});

/** pci_quirk_cavium_acs(): ThunderX root ports. */
const cavium = relying(SILICON.cavium, (fn, flags) => {
  const d = fn.ids!.device ?? -1;
  if (!isRootPort(fn) || !((d >= 0xa000 && d <= 0xa7ff) || d === 0xaf84 || d === 0xb884)) return ENOTTY;
  return ctrlEnabled(flags, SV_RR_CR_UF);
});

/** pci_quirk_al_acs(): Amazon Annapurna Labs root ports. */
const annapurna = relying(SILICON.annapurna, (fn, flags) => (isRootPort(fn) ? ((flags & ~SV_RR_CR_UF) === 0 ? 1 : 0) : ENOTTY));

/** pci_quirk_zhaoxin_pcie_ports_acs(). */
const zhaoxinPorts = relying(SILICON.zhaoxinPorts, (fn, flags) => {
  requirePortType(fn);
  if (fn.portType !== 'root-port' && fn.portType !== 'downstream') return ENOTTY;
  const d = fn.ids!.device ?? -1;
  if ((d >= 0x0710 && d <= 0x071e) || d === 0x0721 || (d >= 0x0723 && d <= 0x0752)) return ctrlEnabled(flags, SV_RR_CR_UF);
  return 0;
});

/** pci_quirk_wangxun_nic_acs(). */
const wangxun = relying(SILICON.wangxun, (fn, flags) => {
  const d = fn.ids!.device ?? -1;
  if ((d >= 0x0100 && d <= 0x010f) || [0x1001, 0x2001, 0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140].includes(d)) return ctrlEnabled(flags, SV_RR_CR_UF);
  return 0;
});

/**
 * The out-of-tree pcie_acs_overrides() (see kernel-options.ts): never for
 * non-PCIe devices or devices with an ACS capability.
 */
const acsOverride = relying(null, (fn, _flags, kernel) => {
  const override = kernel.acsOverride;
  if (!override) return ENOTTY;
  requirePortType(fn);
  if (fn.portType === 'conventional') return ENOTTY;
  if (fn.acs.kind === 'unknown') throw new UnknownFact(fn.key, 'the ACS capability');
  if (fn.acs.kind === 'present') return ENOTTY;
  if (fn.ids && override.ids.some((id) => id.vendor === fn.ids!.vendor && id.device === (fn.ids!.device ?? -1))) return 1;
  switch (fn.portType) {
    case 'downstream':
    case 'root-port':
      return override.downstream ? 1 : ENOTTY;
    case 'endpoint':
    case 'upstream':
    case 'legacy-endpoint':
    case 'rciep':
      return override.multifunction && fn.multifunction ? 1 : ENOTTY;
    default:
      return ENOTTY;
  }
});

const V = { ATI: 0x1002, AMD: 0x1022, SOLARFLARE: 0x1924, INTEL: 0x8086, QCOM: 0x17cb, HXT: 0x1dbf, CAVIUM: 0x177d, AMCC: 0x10e8, AMPERE: 0x1def, BROADCOM: 0x14e4, LOONGSON: 0x0014, ANNAPURNA: 0x1c36, ZHAOXIN: 0x1d17, NXP: 0x1957, WANGXUN: 0x8088 };

const entries = (vendor: number, devices: readonly number[], check: QuirkFn): AcsQuirk[] => devices.map((device) => ({ vendor, device, check }));

/** pci_dev_acs_enabled[], in table order. */
export const ACS_QUIRKS: readonly AcsQuirk[] = [
  ...entries(V.ATI, [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399], amdSouthbridge),
  ...entries(V.AMD, [0x780f, 0x7809], amdSouthbridge),
  ...entries(V.SOLARFLARE, [0x0903, 0x0923, 0x0a03], mfEndpoint),
  // Intel 82598/82599/X540/X550 and others, 82580, 82576, 82575, I350, 82571, I219
  ...entries(V.INTEL, [0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c, 0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558], mfEndpoint),
  ...entries(V.INTEL, [0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527], mfEndpoint),
  ...entries(V.INTEL, [0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526], mfEndpoint),
  ...entries(V.INTEL, [0x10a7, 0x10a9, 0x10d6], mfEndpoint),
  ...entries(V.INTEL, [0x1521, 0x1522, 0x1523, 0x1524], mfEndpoint),
  ...entries(V.INTEL, [0x105e, 0x105f, 0x1060, 0x10d9], mfEndpoint),
  ...entries(V.INTEL, [0x15b7, 0x15b8], mfEndpoint),
  { vendor: V.INTEL, device: ANY, check: intelRciep },
  ...entries(V.QCOM, [0x0400, 0x0401, 0x0115, 0x0111, 0x0120], qcomRp),
  { vendor: V.HXT, device: 0x0401, check: qcomRp }, // "The ACS design is same as QCOM QDF2xxx"
  { vendor: V.INTEL, device: ANY, check: intelPch },
  { vendor: V.INTEL, device: ANY, check: intelSpt },
  { vendor: 0x19a2, device: 0x0710, check: mfEndpoint }, // Emulex BE3-R
  { vendor: 0x10df, device: 0x0720, check: mfEndpoint }, // Emulex Skyhawk-R
  { vendor: V.CAVIUM, device: ANY, check: cavium },
  ...entries(V.CAVIUM, [0xa026, 0xa059, 0xa060], mfEndpoint),
  { vendor: V.AMCC, device: 0xe004, check: xgeneRp },
  ...entries(V.AMPERE, range(0xe005, 0xe00c), xgeneRp),
  ...entries(V.BROADCOM, [0x16d7, 0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763], mfEndpoint),
  { vendor: V.BROADCOM, device: 0xd714, check: brcmRp },
  ...entries(V.LOONGSON, [0x3c09, 0x3c19, 0x3c29, 0x7a09, 0x7a19, 0x7a29, 0x7a39, 0x7a49, 0x7a59, 0x7a69], loongsonRp),
  { vendor: V.ANNAPURNA, device: 0x0031, check: annapurna },
  ...entries(V.ZHAOXIN, [0x3038, 0x3104, 0x9083], mfEndpoint),
  ...entries(V.NXP, [0x8d81, 0x8da1, 0x8d83, 0x8d80, 0x8da0, 0x8d82, 0x8d90, 0x8db0, 0x8d92, 0x8d91, 0x8db1, 0x8d93, 0x8d89, 0x8da9, 0x8d8b, 0x8d88, 0x8da8, 0x8d8a, 0x8d98, 0x8db8, 0x8d9a, 0x8d99, 0x8db9, 0x8d9b], nxpRp),
  { vendor: V.ZHAOXIN, device: ANY, check: zhaoxinPorts },
  { vendor: V.WANGXUN, device: ANY, check: wangxun },
];

/**
 * The pci_dev_acs_enabled[] entry that answers for `fn` (the first whose
 * check does not return -ENOTTY), with its answer; null when none does.
 */
export function quirkFor(fn: PciFunction, flags: number, kernel: KernelModel): { readonly quirk: AcsQuirk; readonly result: number } | null {
  if (!fn.ids) return null;
  for (const quirk of ACS_QUIRKS) {
    if (quirk.vendor !== fn.ids.vendor || (quirk.device !== ANY && quirk.device !== fn.ids.device)) continue; // unknown device: only vendor-wide entries
    const result = quirk.check(fn, flags, kernel);
    if (result >= 0) return { quirk, result };
  }
  return null;
}

/** pci_dev_specific_acs_enabled(): -1 (-ENOTTY) when no quirk applies, else 0 or 1. */
export function devSpecificAcsEnabled(fn: PciFunction, flags: number, kernel: KernelModel): number {
  const answer = quirkFor(fn, flags, kernel);
  if (answer !== null) return answer.result;
  // The override patch appends { PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides } last.
  return acsOverride(fn, flags, kernel);
}

/**
 * quirk_use_pcie_bridge_dma_alias() (drivers/pci/quirks.c): PCIe-to-PCI
 * bridges without a PCIe capability that alias like one
 * (PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS): ASMedia ASM1083/1085, Tundra 8113,
 * ITE 8892, Intel 82801 (244e), when not on a root bus and below a PCIe
 * port that is not itself a PCIe-to-PCI bridge.
 */
const PCIE_BRIDGE_ALIAS_IDS: readonly (readonly [number, number])[] = [
  [0x1b21, 0x1080],
  [0x10e3, 0x8113],
  [0x1283, 0x8892],
  [0x8086, 0x244e],
];

export function usesPcieBridgeAlias(fn: PciFunction, parent: PciFunction | undefined): boolean {
  if (!fn.isBridge || !fn.ids || !parent || fn.portType !== 'conventional') return false;
  if (!PCIE_BRIDGE_ALIAS_IDS.some(([v, d]) => v === fn.ids!.vendor && d === (fn.ids!.device ?? -1))) return false;
  return parent.portType !== 'conventional' && parent.portType !== 'unknown' && parent.portType !== 'pcie-pci-bridge';
}
