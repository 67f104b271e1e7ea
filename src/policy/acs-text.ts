/** ACS verdicts in words: who a function is, and why pci_acs_enabled() said what it said. */
import { ACS_FLAGS, Acs } from '../pcie/acs.ts';
import type { AcsVerdict } from './acs-check.ts';
import type { KernelModel } from './kernel-options.ts';
import { spanText, NEWEST_MODELLED } from './kernel-version.ts';
import type { PciFunction } from './pci-topology.ts';
import { PCH_ENABLE_SKIPPED } from './quirks.ts';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export function bitsText(mask: number): string {
  return ACS_FLAGS.filter((f) => (mask & Acs[f]) !== 0).join('+');
}

export function kernelText(kernel: KernelModel): string {
  return kernel.version === undefined ? `the newest table (Linux ${NEWEST_MODELLED} + linux-next)` : `Linux ${kernel.version.text}`;
}

/** "0000:00:1c.0 (8086:a110, PCI bridge: Intel Corporation …)". */
export function who(fn: PciFunction): string {
  const ids = fn.ids === undefined ? 'IDs not shown' : `${hex4(fn.ids.vendor)}:${fn.ids.device === undefined ? '????' : hex4(fn.ids.device)}`;
  return `${fn.key} (${ids}, ${fn.label})`;
}

/** Why the verdict is what it is, as a clause after the function's name. */
export function verdictText(v: AcsVerdict, kernel: KernelModel): string {
  const r = v.reason;
  switch (r.kind) {
    case 'quirk': {
      if (r.quirk === null) return `${v.enabled ? 'counts as isolated' : 'is not isolated'} by pcie_acs_override (the out-of-tree patch's catch-all entry)`;
      const skipped = r.uses.find((u) => u.id === PCH_ENABLE_SKIPPED.id);
      const uses = r.uses.filter((u) => u !== skipped);
      const named = uses.length > 0 ? `quirk ${uses.map((u) => `${u.id} (${spanText(u.kernels)})`).join(', ')}` : `quirk ${r.quirk.id} (${spanText(r.quirk.kernels)})`;
      if (skipped !== undefined) {
        return `matches ${named}, but its ACS-like controls were never enabled: this release calls pci_quirk_enable_intel_pch_acs() only for devices with an ACS capability (pci_acs_init, ${spanText(skipped.kernels)})`;
      }
      return v.enabled ? `is isolated by ${named}` : `is not isolated: ${named} answers that its ACS-like controls are off`;
    }
    case 'conventional':
      return 'is conventional PCI, which never supports ACS (pci_acs_enabled)';
    case 'never':
      return 'is a PCIe-to-PCI bridge or event collector, which must never implement ACS (PCIe 3.0 §6.12.1)';
    case 'no-capability':
      return `has no ACS capability and no quirk applies on ${kernelText(kernel)}`;
    case 'capability':
      return v.enabled ? 'has ACS with the required controls on' : `has an ACS capability with ${bitsText(r.missing)} off (ACSCtl)`;
    case 'not-required':
      return 'needs no ACS (a single-function endpoint or upstream port)';
  }
}

/** The ACS controls that would make a failing verdict pass: what is off, or all of `flags` without a capability. */
export function missingBits(v: AcsVerdict, flags: number): number {
  if (v.reason.kind === 'capability') return v.reason.missing;
  if (v.reason.kind === 'no-capability' || v.reason.kind === 'quirk') return flags;
  return 0;
}
