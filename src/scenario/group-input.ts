/** A scenario's machine as input to the IOMMU group algorithms (`tlplab groups topology.yaml`). */
import { enumerate } from '../fabric/enumerate.ts';
import { topologyFromEnumeration, type PciTopology } from '../policy/pci-topology.ts';
import { describeAssignment } from './variants.ts';
import { loadScenarioFile } from './load.ts';
import { selectVariants, type VariantFilter } from './suite.ts';

export class GroupInputError extends Error {
  readonly userFacing = true;
  readonly code = 'NO_VARIANT';
}

export interface ScenarioTopology {
  readonly topology: PciTopology;
  /** The scenario's pcie_acs_override options, joined as on the kernel command line (empty when none). */
  readonly acsOverride: string;
  /** Which variant was used, e.g. "machine.devices.sw-dp0.acs=[]". */
  readonly variant: string;
}

export function scenarioTopology(path: string, filter: VariantFilter): ScenarioTopology {
  const loaded = loadScenarioFile(path);
  const [variant] = selectVariants(loaded, filter);
  if (variant === undefined) throw new GroupInputError(`no variant of ${path} matches the --variant filter`);
  const machine = variant.spec.machine;
  return {
    topology: topologyFromEnumeration(enumerate(machine.fabric)),
    acsOverride: machine.kernel.acsOverride.join(','),
    variant: describeAssignment(variant.assignment),
  };
}
