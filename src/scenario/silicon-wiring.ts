/**
 * One truth for the hardware: a device's identity (`ids:`) selects, from
 * Linux's quirk table (src/policy/quirks.ts), the entry pci_dev_acs_enabled()
 * would use — which shapes the kernel's groups — and that entry's silicon
 * fact (src/fabric/silicon.ts), which the fabric routes by. A scenario says
 * `hardware: { honours-quirk: false }` to model a vendor claim the silicon
 * does not keep: the kernel's belief stays, the routing falls back to the
 * ACS registers.
 */
import type { Enumeration } from '../fabric/enumerate.ts';
import type { SiliconFact, SiliconPlace } from '../fabric/silicon.ts';
import type { FunctionConfig } from '../fabric/topology.ts';
import { REQ_ACS_FLAGS } from '../policy/acs-check.ts';
import { parseAcsOverride, type KernelModel } from '../policy/kernel-options.ts';
import { topologyFromEnumeration, type PciFunction } from '../policy/pci-topology.ts';
import { devSpecificAcs } from '../policy/quirks.ts';
import type { Checker } from './checker.ts';
import type { MachineSpec } from './model.ts';
import type { Path } from './source.ts';

/** The kernel the scenario's machine runs, as the policy layer models it (one place for gates and wiring). */
export function kernelModelOf(kernel: Pick<MachineSpec['kernel'], 'acsOverride'>): KernelModel {
  return kernel.acsOverride.length > 0 ? { acsOverride: parseAcsOverride(kernel.acsOverride.join(',')) } : {};
}

/**
 * The identity → fact lookup asks the table with Linux's defaults (an AMD
 * IOMMU described by IVRS, the PCH enable quirk run): which vendor
 * statement describes this device does not depend on what this kernel
 * makes of it.
 */
const IDENTITY_LOOKUP: KernelModel = {};

function placesOf(fn: PciFunction): SiliconPlace[] {
  const places: SiliconPlace[] = [];
  if (fn.portType === 'root-port') places.push('root-port');
  if (fn.portType === 'downstream') places.push('downstream-port');
  if (fn.portType === 'rciep') places.push('rciep');
  if (fn.multifunction) places.push('multifunction');
  return places;
}

/** The silicon fact Linux's table selects for a function, if it describes a place the function is in. */
export function siliconFactFor(fn: PciFunction): SiliconFact | null {
  const fact = devSpecificAcs(fn, REQ_ACS_FLAGS, IDENTITY_LOOKUP).quirk?.silicon ?? null;
  if (fact === null) return null;
  const places = placesOf(fn);
  return fact.places.some((p) => places.includes(p)) ? fact : null;
}

/**
 * Adds each function's silicon behaviour (fabric FunctionConfig.silicon) from
 * its identity. `honours` holds the functions whose scenario says whether the
 * hardware honours its quirk, with the path to report a claim that no quirk makes.
 */
export function wireSilicon(
  enumeration: Enumeration,
  functions: readonly FunctionConfig[],
  honours: ReadonlyMap<string, { readonly honoured: boolean; readonly path: Path }>,
  kernel: KernelModel,
  check: Checker,
): FunctionConfig[] {
  const topology = topologyFromEnumeration(enumeration);
  const facts = new Map<string, SiliconFact>();
  for (const fn of topology.functions) {
    const fact = siliconFactFor(fn);
    if (fact !== null) facts.set(fn.label, fact);
  }
  for (const [id, { path }] of honours) {
    if (!facts.has(id)) {
      check.error(path, `no ACS quirk of Linux's table describes '${id}' (its ids, type and place): there is no vendor claim for honours-quirk to deny`, 'no-quirk-claim');
    }
  }
  const enableQuirkRan = kernel.intelPchAcsQuirkEnabled !== false;
  return functions.map((config) => {
    const fact = facts.get(config.id);
    if (fact === undefined) return config;
    const honoured = honours.get(config.id)?.honoured ?? true;
    return { ...config, silicon: { fact, forced: fact.forced(enableQuirkRan), honoured } };
  });
}
