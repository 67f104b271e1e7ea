/**
 * Device-specific ACS: pci_dev_acs_enabled[] and pci_dev_specific_acs_enabled()
 * in drivers/pci/quirks.c (table as in linux-next of 2025). Entries are tried
 * in table order; the first that does not answer -ENOTTY wins. A quirk can
 * only match when the vendor:device IDs are known.
 *
 * Every entry carries a stable identifier ("pci_quirk_mf_endpoint_acs/8086:10c6",
 * the kernel function and the IDs it is listed under) and the Linux releases
 * it exists in (kernel-version.ts; read from kernel sources 3.6–6.19, see
 * test/fixtures/kernel/acs-history.json). With KernelModel.version set, an
 * entry, or an ID list inside a catch-all entry, that the release lacks does
 * not apply, and one whose presence the sources leave open is unknown.
 *
 * Each entry is what Linux believes because a vendor said so; the hardware
 * fact it relies on lives below, in src/fabric/silicon.ts (one fact per
 * kernel function, with the quirks.c comment and datasheets it cites), and
 * every entry names it (`silicon`), so the scenario layer derives both the
 * groups and the routing from one identity (silicon-wiring.ts).
 */
import { Acs } from '../pcie/acs.ts';
import { SILICON, type SiliconFact } from '../fabric/silicon.ts';
import { requirePortType, UnknownFact } from './unknown-fact.ts';
import type { KernelModel } from './kernel-options.ts';
import { presence, spanText, type KernelSpan } from './kernel-version.ts';
import type { PciFunction } from './pci-topology.ts';

const ENOTTY = -1;
const ANY = -1;
const SV_RR_CR_UF = Acs.SV | Acs.RR | Acs.CR | Acs.UF;

/** A quirk (or an ID list inside one) that answered, with when it exists. */
export interface QuirkUse {
  readonly id: string;
  readonly kernels: KernelSpan;
}

/** Records which ID list inside a catch-all quirk matched (for explanations). */
export type QuirkNote = (use: QuirkUse) => void;

type QuirkFn = (fn: PciFunction, flags: number, kernel: KernelModel, note?: QuirkNote) => number;

export interface AcsQuirk {
  readonly vendor: number;
  readonly device: number;
  readonly check: QuirkFn;
  /** The kernel function, e.g. pci_quirk_intel_pch_acs. */
  readonly name: string;
  /** Stable identifier: `${name}/${vendor}:${device}` in hex, "any" for PCI_ANY_ID. */
  readonly id: string;
  /** Linux releases with this entry in pci_dev_acs_enabled[]. */
  readonly kernels: KernelSpan;
  /** The silicon fact the vendor's statement behind this entry describes (src/fabric/silicon.ts). */
  readonly silicon: SiliconFact;
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Whether `kernel` has a quirk or ID list; unknown when the sources leave it open. */
function inKernel(fn: PciFunction, kernel: KernelModel, use: QuirkUse): boolean {
  const state = presence(use.kernels, kernel.version);
  if (state === 'unknown') throw new UnknownFact(fn.key, `whether Linux ${kernel.version!.text} has ${use.id} (${spanText(use.kernels)})`);
  return state === 'yes';
}

const since = (after: string | null, by: string | null): KernelSpan => ({ since: { after, by } });

/** pci_acs_ctrl_enabled(): 1 when every requested control is among those provided. */
function ctrlEnabled(requested: number, provided: number): number {
  return (requested & provided) === requested ? 1 : 0;
}

/** pci_quirk_amd_sb_acs(): AMD/ATI southbridge MFDs on the root bus, when IVRS describes an AMD IOMMU. */
const amdSouthbridge: QuirkFn = (fn, flags, kernel) => {
  if (!fn.multifunction || fn.parent !== null) return ENOTTY;
  if (kernel.amdIvrsPresent === false) return ENOTTY;
  return ctrlEnabled(flags & (Acs.RR | Acs.CR | Acs.EC | Acs.DT), Acs.RR | Acs.CR);
};

/** pci_quirk_mf_endpoint_acs(): vendor-verified MFDs without P2P between functions. */
const mfEndpoint: QuirkFn = (_fn, flags) => ctrlEnabled(flags, Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.DT);

/** pci_quirk_rciep_acs(): Intel RCiEPs allow P2P only on translated addresses (VT-d r3.1 §3.16). */
const intelRciep: QuirkFn = (fn, flags) => {
  requirePortType(fn);
  return fn.portType === 'rciep' ? ctrlEnabled(flags, SV_RR_CR_UF) : ENOTTY;
};

/** Root ports that isolate like SV|RR|CR|UF without an ACS capability (qcom, nxp, xgene, brcm, loongson quirks). */
const rootPortLikeAcs: QuirkFn = (_fn, flags) => ctrlEnabled(flags, SV_RR_CR_UF);

/** pci_quirk_intel_pch_acs_ids[] (Red Hat bugzilla 1037684), in the lists it grew by. */
export const INTEL_PCH_ACS_LISTS: readonly { readonly name: string; readonly ids: ReadonlySet<number>; readonly kernels: KernelSpan }[] = [
  {
    name: 'Ibexpeak, Cougarpoint, Pantherpoint, Lynxpoint-H/-LP, Wildcat, Patsburg',
    ids: new Set([
      ...range(0x3b42, 0x3b51), // Ibexpeak
      ...range(0x1c10, 0x1c1f), // Cougarpoint
      ...range(0x1e10, 0x1e1f), // Pantherpoint
      ...range(0x8c10, 0x8c1f), // Lynxpoint-H
      ...range(0x9c10, 0x9c1b), // Lynxpoint-LP
      ...range(0x9c90, 0x9c9b), // Wildcat
      0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e, // Patsburg (X79)
    ]),
    kernels: since('3.14', '3.16'),
  },
  { name: 'Wellsburg (X99)', ids: new Set(range(0x8d10, 0x8d1e)), kernels: since('3.19', '4.9') },
  { name: 'Lynx Point (9 series)', ids: new Set([0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e]), kernels: since('4.1', '4.9') },
];

/**
 * PCI_DEV_FLAGS_ACS_ENABLED_QUIRK is set by pci_quirk_enable_intel_pch_acs(),
 * called from pci_enable_acs(). Linux 5.9 called that only for devices
 * with an ACS capability (pci_acs_init: `if (dev->acs_cap) pci_enable_acs(dev)`,
 * 52fbf5bdeeef), which the PCH ports lack; 5.10 calls it regardless.
 */
export const PCH_ENABLE_SKIPPED: QuirkUse = { id: 'pci_acs_init/acs_cap-only', kernels: { since: { after: '5.8', by: '5.9' }, removed: { after: '5.9', by: '5.10' } } };

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
const intelPch: QuirkFn = (fn, flags, kernel, note) => {
  if (!isRootPort(fn)) return ENOTTY;
  const list = INTEL_PCH_ACS_LISTS.find((l) => l.ids.has(fn.ids!.device ?? -1));
  if (list === undefined) return ENOTTY;
  const use = { id: `pci_quirk_intel_pch_acs/8086:${hex4(fn.ids!.device!)} (${list.name})`, kernels: list.kernels };
  if (!inKernel(fn, kernel, use)) return ENOTTY;
  note?.(use);
  const enabled = kernel.intelPchAcsQuirkEnabled ?? (kernel.version === undefined || !pchEnableSkipped(fn, kernel));
  if (!enabled) note?.(PCH_ENABLE_SKIPPED);
  return ctrlEnabled(flags, enabled ? SV_RR_CR_UF : 0);
};

/** On 5.9 the enable quirk is skipped for ports without an ACS capability (PCH_ENABLE_SKIPPED). */
function pchEnableSkipped(fn: PciFunction, kernel: KernelModel): boolean {
  if (fn.acs.kind === 'unknown') throw new UnknownFact(fn.key, 'the ACS capability');
  return fn.acs.kind === 'none' && inKernel(fn, kernel, PCH_ENABLE_SKIPPED);
}

/**
 * pci_quirk_intel_spt_pch_acs_match(): Sunrise Point, Union Point, 7th/8th
 * gen mobile root ports — and, in 4.18 only, the 300 series (added, then
 * removed again because those ports have a standard ACS capability).
 */
export const INTEL_SPT_RANGES: readonly { readonly name: string; readonly ranges: readonly (readonly [number, number])[]; readonly kernels: KernelSpan }[] = [
  { name: 'Sunrise Point', ranges: [[0xa110, 0xa11f], [0xa167, 0xa16a]], kernels: since('4.4', '4.9') },
  { name: 'Union Point', ranges: [[0xa290, 0xa29f], [0xa2e7, 0xa2ee]], kernels: since('4.9', '4.12') },
  { name: '7th & 8th Gen Mobile', ranges: [[0x9d10, 0x9d1b]], kernels: since('4.15', '4.18') },
  { name: '300 series', ranges: [[0xa32c, 0xa343]], kernels: { since: { after: '4.15', by: '4.18' }, removed: { after: '4.18', by: '4.19' } } },
];

function intelSptRange(fn: PciFunction, kernel: KernelModel): QuirkUse | undefined {
  const device = fn.ids!.device ?? -1;
  const list = INTEL_SPT_RANGES.find((l) => l.ranges.some(([lo, hi]) => device >= lo && device <= hi));
  if (list === undefined) return undefined;
  const use = { id: `pci_quirk_intel_spt_pch_acs/8086:${hex4(device)} (${list.name})`, kernels: list.kernels };
  return inKernel(fn, kernel, use) ? use : undefined;
}

/**
 * pci_quirk_intel_spt_pch_acs(): these ports keep ACS control in a dword at
 * cap+8, not the word at cap+6 that lspci prints, and
 * pci_quirk_enable_intel_spt_pch_acs() sets SV|RR|CR|UF there (as far as
 * implemented). So the control lspci shows is not the one in force; the
 * enabled set is the implemented subset of SV|RR|CR|UF.
 */
const intelSpt: QuirkFn = (fn, flags, kernel, note) => {
  if (!isRootPort(fn)) return ENOTTY;
  const use = intelSptRange(fn, kernel);
  if (use === undefined) return ENOTTY;
  if (fn.acs.kind === 'unknown') throw new UnknownFact(fn.key, 'the ACS capability');
  if (fn.acs.kind === 'none') return ENOTTY;
  note?.(use);
  const wanted = flags & (fn.acs.cap | Acs.EC);
  return ctrlEnabled(wanted, fn.acs.cap & SV_RR_CR_UF);
};

/** pci_quirk_cavium_acs(): ThunderX root ports. */
const cavium: QuirkFn = (fn, flags) => {
  const d = fn.ids!.device ?? -1;
  if (!isRootPort(fn) || !((d >= 0xa000 && d <= 0xa7ff) || d === 0xaf84 || d === 0xb884)) return ENOTTY;
  return ctrlEnabled(flags, SV_RR_CR_UF);
};

/** pci_quirk_al_acs(): Amazon Annapurna Labs root ports. */
const annapurna: QuirkFn = (fn, flags) => (isRootPort(fn) ? ((flags & ~SV_RR_CR_UF) === 0 ? 1 : 0) : ENOTTY);

/** pci_quirk_zhaoxin_pcie_ports_acs(). */
const zhaoxinPorts: QuirkFn = (fn, flags) => {
  requirePortType(fn);
  if (fn.portType !== 'root-port' && fn.portType !== 'downstream') return ENOTTY;
  const d = fn.ids!.device ?? -1;
  if ((d >= 0x0710 && d <= 0x071e) || d === 0x0721 || (d >= 0x0723 && d <= 0x0752)) return ctrlEnabled(flags, SV_RR_CR_UF);
  return 0;
};

/** pci_quirk_wangxun_nic_acs(). */
const wangxun: QuirkFn = (fn, flags) => {
  const d = fn.ids!.device ?? -1;
  if ((d >= 0x0100 && d <= 0x010f) || [0x1001, 0x2001, 0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140].includes(d)) return ctrlEnabled(flags, SV_RR_CR_UF);
  return 0;
};

/**
 * The out-of-tree pcie_acs_overrides() (see kernel-options.ts): never for
 * non-PCIe devices or devices with an ACS capability.
 */
const acsOverride: QuirkFn = (fn, _flags, kernel) => {
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
};

const V = { ATI: 0x1002, AMD: 0x1022, SOLARFLARE: 0x1924, INTEL: 0x8086, QCOM: 0x17cb, HXT: 0x1dbf, CAVIUM: 0x177d, AMCC: 0x10e8, AMPERE: 0x1def, BROADCOM: 0x14e4, LOONGSON: 0x0014, ANNAPURNA: 0x1c36, ZHAOXIN: 0x1d17, NXP: 0x1957, WANGXUN: 0x8088 };

const entries = (vendor: number, devices: readonly number[], check: QuirkFn): TableEntry[] => devices.map((device) => ({ vendor, device, check }));

/** pci_dev_acs_enabled[], in table order. */
const TABLE: readonly TableEntry[] = [
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
  ...entries(V.QCOM, [0x0400, 0x0401, 0x0115, 0x0111, 0x0120], rootPortLikeAcs),
  { vendor: V.HXT, device: 0x0401, check: rootPortLikeAcs },
  { vendor: V.INTEL, device: ANY, check: intelPch },
  { vendor: V.INTEL, device: ANY, check: intelSpt },
  { vendor: 0x19a2, device: 0x0710, check: mfEndpoint }, // Emulex BE3-R
  { vendor: 0x10df, device: 0x0720, check: mfEndpoint }, // Emulex Skyhawk-R
  { vendor: V.CAVIUM, device: ANY, check: cavium },
  ...entries(V.CAVIUM, [0xa026, 0xa059, 0xa060], mfEndpoint),
  { vendor: V.AMCC, device: 0xe004, check: rootPortLikeAcs }, // pci_quirk_xgene_acs
  ...entries(V.AMPERE, range(0xe005, 0xe00c), rootPortLikeAcs),
  ...entries(V.BROADCOM, [0x16d7, 0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763], mfEndpoint),
  { vendor: V.BROADCOM, device: 0xd714, check: rootPortLikeAcs }, // pci_quirk_brcm_acs
  ...entries(V.LOONGSON, [0x3c09, 0x3c19, 0x3c29, 0x7a09, 0x7a19, 0x7a29, 0x7a39, 0x7a49, 0x7a59, 0x7a69], rootPortLikeAcs),
  { vendor: V.ANNAPURNA, device: 0x0031, check: annapurna },
  ...entries(V.ZHAOXIN, [0x3038, 0x3104, 0x9083], mfEndpoint),
  ...entries(V.NXP, [0x8d81, 0x8da1, 0x8d83, 0x8d80, 0x8da0, 0x8d82, 0x8d90, 0x8db0, 0x8d92, 0x8d91, 0x8db1, 0x8d93, 0x8d89, 0x8da9, 0x8d8b, 0x8d88, 0x8da8, 0x8d8a, 0x8d98, 0x8db8, 0x8d9a, 0x8d99, 0x8db9, 0x8d9b], rootPortLikeAcs),
  { vendor: V.ZHAOXIN, device: ANY, check: zhaoxinPorts },
  { vendor: V.WANGXUN, device: ANY, check: wangxun },
];


/** A table entry before its history is attached. */
type TableEntry = Pick<AcsQuirk, 'vendor' | 'device' | 'check'>;

const MF = 'pci_quirk_mf_endpoint_acs';
const AMD_SB = 'pci_quirk_amd_sb_acs';
const QCOM_RP = 'pci_quirk_qcom_rp_acs';
const XGENE = 'pci_quirk_xgene_acs';

/** The kernel function of each check; the root-port bodies are one function here, several in the kernel (by vendor). */
const NAME_OF = new Map<QuirkFn, string>([
  [amdSouthbridge, AMD_SB],
  [mfEndpoint, MF],
  [intelRciep, 'pci_quirk_rciep_acs'],
  [intelPch, 'pci_quirk_intel_pch_acs'],
  [intelSpt, 'pci_quirk_intel_spt_pch_acs'],
  [cavium, 'pci_quirk_cavium_acs'],
  [annapurna, 'pci_quirk_al_acs'],
  [zhaoxinPorts, 'pci_quirk_zhaoxin_pcie_ports_acs'],
  [wangxun, 'pci_quirk_wangxun_nic_acs'],
]);
const ROOT_PORT_NAME: Record<number, string> = { [V.QCOM]: QCOM_RP, [V.HXT]: QCOM_RP, [V.AMCC]: XGENE, [V.AMPERE]: XGENE, [V.BROADCOM]: 'pci_quirk_brcm_acs', [V.LOONGSON]: 'pci_quirk_loongson_acs', [V.NXP]: 'pci_quirk_nxp_rp_acs' };

/**
 * When each entry came into pci_dev_acs_enabled[] (kernel-version.ts, from
 * test/fixtures/kernel/acs-history.json): the first rule matching the
 * entry's kernel function, vendor and (if listed) device applies.
 */
const HISTORY: readonly { readonly name: string; readonly vendor: number; readonly devices?: readonly number[]; readonly kernels: KernelSpan }[] = [
  { name: AMD_SB, vendor: V.ATI, kernels: since('3.10', '3.14') },
  { name: AMD_SB, vendor: V.AMD, kernels: since('3.17', '4.9') },
  { name: MF, vendor: V.SOLARFLARE, devices: [0x0a03], kernels: since('4.4', '4.9') },
  { name: MF, vendor: V.SOLARFLARE, kernels: since('3.17', '4.9') },
  { name: MF, vendor: V.INTEL, devices: [0x15b7, 0x15b8], kernels: since('4.2', '4.9') },
  // The first Intel list (82598/82599/X540/X550…); the other Intel lists came one batch later.
  { name: MF, vendor: V.INTEL, devices: [0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c, 0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558], kernels: since('3.17', '4.9') },
  { name: MF, vendor: V.INTEL, kernels: since('3.19', '4.9') },
  { name: 'pci_quirk_rciep_acs', vendor: V.INTEL, kernels: since('5.4', '5.8') },
  { name: QCOM_RP, vendor: V.QCOM, devices: [0x0400, 0x0401], kernels: since('4.9', '4.12') },
  { name: QCOM_RP, vendor: V.QCOM, devices: [0x0115], kernels: since('6.8', '6.12') },
  { name: QCOM_RP, vendor: V.QCOM, kernels: since('6.19', null) }, // 0x0111, 0x0120: linux-next of 2025
  { name: QCOM_RP, vendor: V.HXT, kernels: since('5.0', '5.2') },
  { name: 'pci_quirk_intel_pch_acs', vendor: V.INTEL, kernels: since('3.14', '3.16') },
  { name: 'pci_quirk_intel_spt_pch_acs', vendor: V.INTEL, kernels: since('4.4', '4.9') },
  { name: MF, vendor: 0x19a2, kernels: since('3.19', '4.9') },
  { name: MF, vendor: 0x10df, kernels: since('3.19', '4.9') },
  { name: 'pci_quirk_cavium_acs', vendor: V.CAVIUM, kernels: since('4.4', '4.9') },
  { name: MF, vendor: V.CAVIUM, kernels: since('5.14', '5.17') },
  { name: XGENE, vendor: V.AMCC, kernels: since('4.12', '4.15') },
  { name: XGENE, vendor: V.AMPERE, kernels: since('4.15', '4.18') },
  { name: MF, vendor: V.BROADCOM, devices: [0x16d7], kernels: since('5.11', '5.14') },
  { name: MF, vendor: V.BROADCOM, devices: [0x1750, 0x1751, 0x1752], kernels: since('5.19', '6.0') },
  { name: MF, vendor: V.BROADCOM, kernels: since('6.8', '6.12') },
  { name: 'pci_quirk_brcm_acs', vendor: V.BROADCOM, kernels: since('5.3', '5.4') },
  { name: 'pci_quirk_loongson_acs', vendor: V.LOONGSON, kernels: since('6.14', '6.19') },
  { name: 'pci_quirk_al_acs', vendor: V.ANNAPURNA, kernels: since('5.3', '5.4') },
  { name: MF, vendor: V.ZHAOXIN, kernels: since('5.4', '5.8') },
  { name: 'pci_quirk_nxp_rp_acs', vendor: V.NXP, kernels: since('5.14', '5.17') },
  { name: 'pci_quirk_zhaoxin_pcie_ports_acs', vendor: V.ZHAOXIN, kernels: since('5.4', '5.8') },
  { name: 'pci_quirk_wangxun_nic_acs', vendor: V.WANGXUN, kernels: since('6.2', '6.5') },
];

function withHistory(e: TableEntry): AcsQuirk {
  const name = NAME_OF.get(e.check) ?? ROOT_PORT_NAME[e.vendor];
  const rule = HISTORY.find((h) => h.name === name && h.vendor === e.vendor && (h.devices === undefined || h.devices.includes(e.device)));
  if (name === undefined || rule === undefined) throw new Error(`quirks.ts: no kernel name or history for the entry ${hex4(e.vendor)}:${hex4(e.device)}`);
  const silicon = Object.values(SILICON).find((f) => f.quirk === name);
  if (silicon === undefined) throw new Error(`quirks.ts: no silicon fact (src/fabric/silicon.ts) for ${name}`);
  return { ...e, name, id: `${name}/${hex4(e.vendor)}:${e.device === ANY ? 'any' : hex4(e.device)}`, kernels: rule.kernels, silicon };
}

/** pci_dev_acs_enabled[], in table order, each entry with its kernel function, stable id and releases. */
export const ACS_QUIRKS: readonly AcsQuirk[] = TABLE.map(withHistory);

/** What pci_dev_specific_acs_enabled() answered, and which quirk (and ID list) did. */
export interface QuirkAnswer {
  /** -1 (-ENOTTY) when no quirk applies, else 0 or 1. */
  readonly result: number;
  readonly quirk: AcsQuirk | null;
  /** The ID lists inside the quirk that matched, and the 5.9 enable regression when it struck. */
  readonly uses: readonly QuirkUse[];
  /** The out-of-tree pcie_acs_override answered. */
  readonly override: boolean;
}

/** pci_dev_specific_acs_enabled(), with the quirk that answered. */
export function devSpecificAcs(fn: PciFunction, flags: number, kernel: KernelModel): QuirkAnswer {
  if (fn.ids) {
    for (const quirk of ACS_QUIRKS) {
      if (quirk.vendor !== fn.ids.vendor || (quirk.device !== ANY && quirk.device !== fn.ids.device)) continue; // unknown device: only vendor-wide entries
      if (!inKernel(fn, kernel, quirk)) continue;
      const uses: QuirkUse[] = [];
      const result = quirk.check(fn, flags, kernel, (use) => uses.push(use));
      if (result >= 0) return { result, quirk, uses, override: false };
    }
  }
  // The override patch appends { PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides } last.
  const result = acsOverride(fn, flags, kernel);
  return { result, quirk: null, uses: [], override: result >= 0 };
}

/** pci_dev_specific_acs_enabled(): -1 (-ENOTTY) when no quirk applies, else 0 or 1. */
export function devSpecificAcsEnabled(fn: PciFunction, flags: number, kernel: KernelModel): number {
  return devSpecificAcs(fn, flags, kernel).result;
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
