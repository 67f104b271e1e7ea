/**
 * Kernel command-line options that change ACS and so the groups:
 * - `pcie_acs_override=downstream,multifunction,id:vvvv:dddd` — the
 *   out-of-tree "ACS override" patch carried by Arch (linux-zen/-vfio) and
 *   Proxmox kernels: an entry `{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }`
 *   appended to pci_dev_acs_enabled[] that claims full ACS for PCIe devices
 *   *without* an ACS capability (ids listed; downstream/root ports with
 *   `downstream`; multifunction endpoints/upstream ports with `multifunction`).
 * - `pci=config_acs=<flags>@<device>[;...]` — mainline (Documentation/
 *   admin-guide/kernel-parameters.txt, pci_configure_acs()/__pci_config_acs()
 *   in drivers/pci/pci.c): per-bit '0' disable, '1' enable, 'x' unchanged,
 *   rightmost character = bit 0 (SV), e.g. `1111011@0020:02:00.0` = 0x7b.
 */
import { formatBdf, tryParseBdf } from '../pcie/bdf.ts';
import { makeTopology, type PciFunction, type PciTopology } from './pci-topology.ts';
import { KernelOptionError } from './kernel-errors.ts';
import type { KernelVersion } from './kernel-version.ts';

export interface AcsOverride {
  readonly downstream: boolean;
  readonly multifunction: boolean;
  readonly ids: readonly { readonly vendor: number; readonly device: number }[];
}

export interface KernelModel {
  readonly acsOverride?: AcsOverride;
  /**
   * The Linux release whose quirk table is meant (kernel-version.ts);
   * absent: the newest table modelled (linux-next of 2025).
   */
  readonly version?: KernelVersion;
  /**
   * PCI_DEV_FLAGS_ACS_ENABLED_QUIRK set by pci_quirk_enable_intel_pch_acs().
   * Default true. Linux 5.9 skipped the enable quirk on ports without an ACS
   * capability (commit 52fbf5bdeeef "PCI: Cache ACS capability offset in
   * device"), so the PCH ports lost isolation until "PCI: Attempt to enable
   * ACS regardless of capability" restored the call (5.10). Without it,
   * the version decides (PCH_ENABLE_SKIPPED in quirks.ts).
   */
  readonly intelPchAcsQuirkEnabled?: boolean;
  /** An AMD IOMMU is described by ACPI IVRS (pci_quirk_amd_sb_acs needs it). Default true. */
  readonly amdIvrsPresent?: boolean;
}

export { KernelOptionError };

/** Parses the value of pcie_acs_override= as pcie_acs_override_setup() does (unknown words are ignored there; here they are errors). */
export function parseAcsOverride(value: string): AcsOverride {
  let downstream = false;
  let multifunction = false;
  const ids: { vendor: number; device: number }[] = [];
  for (const word of value.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    if (word === 'downstream') downstream = true;
    else if (word === 'multifunction') multifunction = true;
    else {
      const id = /^id:([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(word);
      if (!id) throw new KernelOptionError('ACS_OVERRIDE', `pcie_acs_override: '${word}' is not downstream, multifunction or id:vvvv:dddd`);
      ids.push({ vendor: parseInt(id[1]!, 16), device: parseInt(id[2]!, 16) });
    }
  }
  return { downstream, multifunction, ids };
}

export interface ConfigAcsEntry {
  /** Bits to change. */
  readonly mask: number;
  /** New values of those bits. */
  readonly flags: number;
  /** A BDF key ("0000:02:00.0") or a vendor:device match. */
  readonly target: { readonly bdf: string } | { readonly vendor: number; readonly device: number };
}

/** Parses `config_acs=` (without the `pci=` prefix): `<flags>@<device>[;...]`, device = BDF or `pci:vvvv:dddd`. */
export function parseConfigAcs(value: string): ConfigAcsEntry[] {
  return value
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.indexOf('@');
      if (at < 0) throw new KernelOptionError('CONFIG_ACS', `config_acs: '${part}' lacks '@<device>'`);
      const bits = part.slice(0, at);
      if (!/^[01xX]{1,7}$/.test(bits)) throw new KernelOptionError('CONFIG_ACS', `config_acs: '${bits}' must be up to 7 characters of 0, 1 or x`);
      let mask = 0;
      let flags = 0;
      [...bits].reverse().forEach((ch, bit) => {
        if (ch === 'x' || ch === 'X') return;
        mask |= 1 << bit;
        if (ch === '1') flags |= 1 << bit;
      });
      const device = part.slice(at + 1);
      const byId = /^pci:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(device);
      if (byId) return { mask, flags, target: { vendor: parseInt(byId[1]!, 16), device: parseInt(byId[2]!, 16) } };
      const bdf = tryParseBdf(device);
      if (!bdf) throw new KernelOptionError('CONFIG_ACS', `config_acs: '${device}' is neither a BDF nor pci:vvvv:dddd`);
      return { mask, flags, target: { bdf: formatBdf(bdf) } };
    });
}

/**
 * __pci_config_acs(): on each matching device with an ACS capability,
 * ctrl = (ctrl & ~mask) | (flags & mask). Bits the capability does not
 * implement cannot be enabled (the register bit is read-only zero).
 */
export function applyConfigAcs(topology: PciTopology, entries: readonly ConfigAcsEntry[]): PciTopology {
  const matches = (fn: PciFunction, entry: ConfigAcsEntry) =>
    'bdf' in entry.target ? entry.target.bdf === fn.key : fn.ids?.vendor === entry.target.vendor && fn.ids.device === entry.target.device;
  const functions = topology.functions.map((fn): PciFunction => {
    const entry = entries.find((e) => matches(fn, e));
    if (!entry || fn.acs.kind !== 'present') return fn;
    const ctl = ((fn.acs.ctl & ~entry.mask) | (entry.flags & entry.mask)) & fn.acs.cap;
    return { ...fn, acs: { kind: 'present', cap: fn.acs.cap, ctl } };
  });
  return makeTopology(functions);
}
