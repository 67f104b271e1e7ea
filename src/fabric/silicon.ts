/**
 * What the silicon of a device really does where its ACS capability is
 * missing or misleading — the hardware side of Linux's ACS quirks. Each fact
 * is what a vendor stated about a device, as recorded beside the quirk in
 * drivers/pci/quirks.c (quoted in `source`); Linux's quirk table
 * (src/policy/quirks.ts, pci_dev_acs_enabled[]) names the fact each of its
 * entries relies on, so one device identity selects both what the kernel
 * believes and how the modelled hardware routes. The scenario layer wires
 * them together from a device's `ids:`; `hardware: { honours-quirk: false }`
 * breaks the link to show what a false vendor claim would expose.
 */
import { Acs, REQUIRED_ACS } from '../pcie/acs.ts';

/** Where in a topology the fact applies. */
export type SiliconPlace = 'root-port' | 'downstream-port' | 'multifunction' | 'rciep';

export interface SiliconFactSpec {
  /** Stable id, printed by `explain` and used by tests. */
  readonly id: string;
  /** The Linux quirk function whose comment states the fact. */
  readonly quirk: string;
  /** One line for humans. */
  readonly title: string;
  readonly places: readonly SiliconPlace[];
  /** The ACS controls the silicon behaves as if enabled, with no (or whatever) ACS capability. */
  readonly isolates: number;
  /**
   * The isolation exists only once the kernel's enable quirk has programmed
   * the chipset (pci_dev_specific_enable_acs): without it the silicon does
   * peer-to-peer like any port without ACS.
   */
  readonly needsEnableQuirk?: boolean;
  /**
   * The ACS Control word config space shows is not the one in force: the
   * silicon reads its controls elsewhere (Intel Sunrise Point: a dword at
   * cap+8), which the kernel's enable quirk programs with `isolates`.
   */
  readonly controlElsewhere?: boolean;
  /** Where the fact comes from: the quirk's comment, the datasheet or thread it cites. */
  readonly source: string;
}

/** A fact with the rulings it decides, precomputed so routing allocates nothing. */
export class SiliconFact implements SiliconFactSpec {
  readonly id: string;
  readonly quirk: string;
  readonly title: string;
  readonly places: readonly SiliconPlace[];
  readonly isolates: number;
  readonly needsEnableQuirk: boolean;
  readonly controlElsewhere: boolean;
  readonly source: string;
  private readonly rulings = new Map<object, object>();
  private readonly deniedRulings = new Map<object, object>();

  constructor(spec: SiliconFactSpec) {
    this.id = spec.id;
    this.quirk = spec.quirk;
    this.title = spec.title;
    this.places = spec.places;
    this.isolates = spec.isolates;
    this.needsEnableQuirk = spec.needsEnableQuirk ?? false;
    this.controlElsewhere = spec.controlElsewhere ?? false;
    this.source = spec.source;
  }

  /** The same ruling, its rule naming this fact as what decided it. */
  ruled<R extends { readonly decision: string; readonly rule: string }>(ruling: R): R {
    let own = this.rulings.get(ruling) as R | undefined;
    if (own === undefined) {
      own = { ...ruling, rule: `${ruling.rule} — in force by silicon fact ${this.id} (${this.title}; Linux ${this.quirk})` };
      this.rulings.set(ruling, own);
    }
    return own;
  }

  /** The same ruling, saying that Linux's claim does not hold on this hardware (`hardware.honours-quirk: false`). */
  denied<R extends { readonly decision: string; readonly rule: string }>(ruling: R): R {
    let own = this.deniedRulings.get(ruling) as R | undefined;
    if (own === undefined) {
      own = { ...ruling, rule: `${ruling.rule} — Linux's ${this.quirk} says this silicon isolates (fact ${this.id}: ${this.title}), but this hardware does not (hardware.honours-quirk: false)` };
      this.deniedRulings.set(ruling, own);
    }
    return own;
  }

  /** The controls in force on this machine: none when the enable quirk that programs them did not run. */
  forced(enableQuirkRan: boolean): number {
    return this.needsEnableQuirk && !enableQuirkRan ? 0 : this.isolates;
  }
}

const SV_RR_CR_UF = REQUIRED_ACS;
const RR_CR = Acs.RR | Acs.CR;

const rootPorts = (id: string, quirk: string, title: string, source: string): SiliconFact =>
  new SiliconFact({ id, quirk, title, places: ['root-port'], isolates: SV_RR_CR_UF, source });

export const SILICON = {
  amdSouthbridge: new SiliconFact({
    id: 'amd-sb-no-p2p',
    quirk: 'pci_quirk_amd_sb_acs',
    title: 'AMD/ATI SBx00 and FCH southbridge functions do no peer-to-peer between functions',
    places: ['multifunction'],
    isolates: RR_CR,
    source:
      'drivers/pci/quirks.c pci_quirk_amd_sb_acs: "AMD has indicated that the devices below do not support peer-to-peer in any system where they are found in the southbridge with an AMD IOMMU ... Such devices effectively enable request redirect (RR) and completion redirect (CR) since all transactions are redirected to the upstream root complex" (lore 201207111426.q6BEQTbh002928@mail.maya.org, 20120711165854.GM25282@amd.com; bugzilla 81841#c15)',
  }),
  mfEndpoint: new SiliconFact({
    id: 'mf-endpoint-no-p2p',
    quirk: 'pci_quirk_mf_endpoint_acs',
    title: 'vendor-verified multifunction endpoint: no peer-to-peer between its functions',
    places: ['multifunction'],
    isolates: RR_CR,
    source:
      'drivers/pci/quirks.c pci_quirk_mf_endpoint_acs: "Devices matching this quirk have been verified by the vendor to not perform peer-to-peer with other functions" (Solarflare, Intel 82598/82599/X540/X550/82580/82576/82575/I350/82571/I219, Emulex BE3-R/Skyhawk-R, Cavium, Broadcom, Zhaoxin)',
  }),
  intelRciep: new SiliconFact({
    id: 'intel-rciep-translated-p2p-only',
    quirk: 'pci_quirk_rciep_acs',
    title: 'Intel RCiEPs do peer-to-peer only on translated addresses',
    places: ['rciep'],
    isolates: SV_RR_CR_UF,
    source:
      'drivers/pci/quirks.c pci_quirk_rciep_acs: "Intel RCiEP\'s are required to allow p2p only on translated addresses. Refer to Intel VT-d specification, r3.1, sec 3.16, Root-Complex Peer to Peer Considerations" (tlplab already sends every RCiEP request through the root complex\'s translation agent)',
  }),
  qcomRootPort: rootPorts(
    'qcom-rp-no-p2p',
    'pci_quirk_qcom_rp_acs',
    'QCOM QDF2xxx/SA8775P/Hamoa/Glymur and HXT SD4800 root ports: each its own root complex, no peer-to-peer',
    'drivers/pci/quirks.c pci_quirk_qcom_rp_acs: "Hardware doesn\'t support peer-to-peer and each Root Port is a Root Complex with unique segment numbers. It is not possible for one Root Port to pass traffic to another Root Port"; source validation reported as Completer Abort',
  ),
  nxpRootPort: rootPorts(
    'nxp-rp-no-p2p',
    'pci_quirk_nxp_rp_acs',
    'NXP LX2xx0/LX2xx2 root ports: isolation without an ACS capability',
    'drivers/pci/quirks.c pci_quirk_nxp_rp_acs: "Each of these NXP Root Ports is in a Root Complex with a unique segment number and does provide isolation features to disable peer transactions and validate bus numbers in requests"',
  ),
  cavium: rootPorts(
    'cavium-rp-acs-equivalent',
    'pci_quirk_cavium_acs',
    'Cavium ThunderX1/2/3 root ports implement SV, RR, CR and UF in RTL',
    'drivers/pci/quirks.c pci_quirk_cavium_acs: "the RTL internally implements similar protection as if ACS had Source Validation, Request Redirection, Completion Redirection, and Upstream Forwarding features enabled"',
  ),
  xgene: rootPorts(
    'xgene-rp-no-p2p',
    'pci_quirk_xgene_acs',
    'APM X-Gene and Ampere root ports do no peer-to-peer',
    'drivers/pci/quirks.c pci_quirk_xgene_acs: "X-Gene Root Ports matching this quirk do not allow peer-to-peer transactions with others"',
  ),
  brcm: rootPorts(
    'brcm-paxb-rp-no-p2p',
    'pci_quirk_brcm_acs',
    'Broadcom iProc PAXB root ports do no peer-to-peer between root ports',
    'drivers/pci/quirks.c pci_quirk_brcm_acs: "iProc PAXB Root Ports don\'t advertise an ACS capability, but they do not allow peer-to-peer transactions between Root Ports"',
  ),
  loongson: rootPorts(
    'loongson-rp-no-p2p',
    'pci_quirk_loongson_acs',
    'Loongson root ports do no peer-to-peer between root ports',
    'drivers/pci/quirks.c pci_quirk_loongson_acs: "Loongson PCIe Root Ports don\'t advertise an ACS capability, but they do not allow peer-to-peer transactions between Root Ports"',
  ),
  annapurna: rootPorts(
    'annapurna-rp-no-p2p',
    'pci_quirk_al_acs',
    'Amazon Annapurna Labs root ports: no peer-to-peer, unique segment each',
    'drivers/pci/quirks.c pci_quirk_al_acs: "The hardware doesn\'t support peer-to-peer transactions via the root port and each has a unique segment number. Additionally, the root ports cannot send traffic to each other"',
  ),
  intelPch: new SiliconFact({
    id: 'intel-pch-peer-decode-disabled',
    quirk: 'pci_quirk_intel_pch_acs',
    title: 'Intel PCH root ports isolate once the kernel disables UPDCR peer decodes and sets MPC.IRBNCE',
    places: ['root-port'],
    isolates: SV_RR_CR_UF,
    needsEnableQuirk: true,
    source:
      'drivers/pci/quirks.c pci_quirk_intel_pch_acs_ids[] ("provided by Intel in Red Hat bugzilla 1037684") and pci_quirk_enable_intel_pch_acs: pci_quirk_enable_intel_lpc_acs clears the RCBA Upstream Peer Decode Configuration Register (0x1014, bits 5:0) unless the soft-strapped BSPR already disallows peer cycles — "the PCIe ACS equivalent of PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF" — and pci_quirk_enable_intel_rp_mpc_acs sets MPC.IRBNCE, "the equivalent of PCI ACS Source Validation"; PCI_DEV_FLAGS_ACS_ENABLED_QUIRK records that it ran',
  }),
  intelSpt: new SiliconFact({
    id: 'intel-spt-acs-control-dword',
    quirk: 'pci_quirk_intel_spt_pch_acs',
    title: 'Intel Sunrise Point/Union Point/7th-8th gen mobile root ports keep ACS control in a dword at cap+8',
    places: ['root-port'],
    isolates: SV_RR_CR_UF,
    controlElsewhere: true,
    source:
      'drivers/pci/quirks.c pci_quirk_intel_spt_pch_acs: "this chipset uses dwords for the ACS capability and control registers ... the control register is at offset 8 instead of 6" (Intel 100 Series Chipset PCH Datasheet Vol. 2 §12.1.46-47, spec update erratum 23; 200 Series spec update 335194-001 erratum 22; 7th/8th Gen I/O spec update 334660-002); pci_quirk_enable_intel_spt_pch_acs writes SV|RR|CR|UF (as implemented) there. "N.B. This doesn\'t fix what lspci shows."',
  }),
  zhaoxinPorts: new SiliconFact({
    id: 'zhaoxin-port-no-p2p',
    quirk: 'pci_quirk_zhaoxin_pcie_ports_acs',
    title: 'Zhaoxin root and switch downstream ports block peer-to-peer without an ACS capability',
    places: ['root-port', 'downstream-port'],
    isolates: SV_RR_CR_UF,
    source:
      'drivers/pci/quirks.c pci_quirk_zhaoxin_pcie_ports_acs: "Many Zhaoxin Root Ports and Switch Downstream Ports have no ACS capability. But the implementation could block peer-to-peer transactions between them and provide ACS-like functionality"',
  }),
  wangxun: new SiliconFact({
    id: 'wangxun-nic-redirects-p2p',
    quirk: 'pci_quirk_wangxun_nic_acs',
    title: 'Wangxun NICs direct all peer-to-peer traffic between functions upstream',
    places: ['multifunction'],
    isolates: RR_CR,
    source:
      'drivers/pci/quirks.c pci_quirk_wangxun_nic_acs: "on multi-function devices, the hardware isolates the functions by directing all peer-to-peer traffic upstream as though PCI_ACS_RR and PCI_ACS_CR were set" (SFxxx 1G, RP1000/RP2000 10G, FF5xxx 40G/25G/10G)',
  }),
} as const;

export type SiliconId = keyof typeof SILICON;

/** How a function's silicon is wired for one machine: the fact, and the controls it puts in force. */
export interface SiliconBehaviour {
  readonly fact: SiliconFact;
  /** Controls the silicon puts in force (0: the fact does not hold on this machine). */
  readonly forced: number;
  /** False when the scenario says the hardware does not do what the vendor claimed. */
  readonly honoured: boolean;
}
