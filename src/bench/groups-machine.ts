/**
 * Figure 4's input: a generated machine of exactly `functions` PCI
 * functions, as a large server looks to Linux — several PCI segments, since
 * one segment has only 256 bus numbers. Each segment is an ordinary
 * FabricConfig (enumerated by the real `enumerate`), turned into the group
 * algorithms' input by `topologyFromEnumeration`; the segments are merged
 * with `makeTopology` (probe order: segment by segment).
 *
 * Below each root port (ACS full, absent or SV only, in turn): a switch of
 * eight downstream ports with mixed ACS; behind them, in turn, a second
 * switch level with four-function endpoints, a PCIe-to-PCI bridge with
 * sixteen two-function conventional devices, an eight-function endpoint
 * whose functions alternate with and without ACS, and a single endpoint.
 * Some endpoints carry vendor:device IDs that the ACS quirk table knows.
 */
import { enumerate } from '../fabric/enumerate.ts';
import { DEFAULT_FABRIC, type FabricConfig, type FunctionConfig } from '../fabric/topology.ts';
import { Acs, type AcsCapability } from '../pcie/acs.ts';
import { makeTopology, topologyFromEnumeration, type PciFunction, type PciTopology } from '../policy/pci-topology.ts';
import { Rng } from '../sim/rng.ts';

const ALL = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
const FULL: AcsCapability = { cap: ALL, ctl: Acs.SV | Acs.RR | Acs.CR | Acs.UF };
const SV_ONLY: AcsCapability = { cap: ALL, ctl: Acs.SV };
/** Root-port subtrees per segment: each takes 22 bus numbers, so 11 fit in 256. */
const ROOT_PORTS_PER_SEGMENT = 11;
/** Functions in one root-port subtree (see addRootPort). */
const FUNCTIONS_PER_ROOT_PORT = 136;
/** Intel 82599 (quirk-listed multifunction endpoint, pci_quirk_mf_endpoint_acs) and a plain Intel NIC ID. */
const QUIRKED_MFD = { vendor: 0x8086, device: 0x10fb };
const PLAIN_NIC = { vendor: 0x8086, device: 0x1533 };

/** Deterministic: the same `functions` and seed give the same machine. */
export function generateGroupsMachine(functions: number, seed = 1): PciTopology {
  const rng = new Rng(`groups-machine/${seed}`);
  const all: PciFunction[] = [];
  let remaining = functions;
  for (let segment = 0; remaining > 0; segment++) {
    const config = segmentConfig(segment, remaining, rng);
    remaining -= config.functions.length;
    all.push(...topologyFromEnumeration(enumerate(config)).functions);
  }
  return makeTopology(all);
}

/** One PCI segment of `functions` functions (at most 11 root-port subtrees of 136, i.e. 1 496), as a FabricConfig: the hunt benchmark's machine. */
export function generateSegment(functions: number, seed = 1): FabricConfig {
  return segmentConfig(0, functions, new Rng(`groups-machine/${seed}`));
}

function segmentConfig(segment: number, budget: number, rng: Rng): FabricConfig {
  const functions: FunctionConfig[] = [];
  for (let r = 0; r < ROOT_PORTS_PER_SEGMENT && budget - functions.length > 0; r++) {
    const left = budget - functions.length;
    if (left >= FUNCTIONS_PER_ROOT_PORT) addRootPort(functions, `s${segment}r${r}`, r, rng);
    else addFiller(functions, `s${segment}r${r}`, left);
  }
  return { ...DEFAULT_FABRIC, domain: segment, functions, memory: [] };
}

/** 136 functions on 22 buses: root port, switch of 8 DSPs, and behind the DSPs the four kinds in turn. */
function addRootPort(out: FunctionConfig[], id: string, index: number, rng: Rng): void {
  const rootAcs = [FULL, undefined, SV_ONLY][index % 3];
  out.push({ id, kind: 'root-port', ...(rootAcs ? { acs: rootAcs } : {}) });
  out.push({ id: `${id}.up`, kind: 'switch-upstream', parent: id });
  for (let d = 0; d < 8; d++) {
    const dp = `${id}.dp${d}`;
    out.push({ id: dp, kind: 'switch-downstream', parent: `${id}.up`, ...mixedAcs(rng) });
    switch (d % 4) {
      case 0: {
        out.push({ id: `${dp}.up`, kind: 'switch-upstream', parent: dp });
        for (let e = 0; e < 4; e++) {
          const leaf = `${dp}.dp${e}`;
          out.push({ id: leaf, kind: 'switch-downstream', parent: `${dp}.up`, ...mixedAcs(rng) });
          for (let f = 0; f < 4; f++) {
            out.push({ id: `${leaf}.f${f}`, kind: 'endpoint', parent: leaf, ...(e % 2 === 0 ? { ids: QUIRKED_MFD } : { acs: FULL }) });
          }
        }
        break;
      }
      case 1:
        out.push({ id: `${dp}.pci`, kind: 'pcie-pci-bridge', parent: dp });
        for (let dev = 0; dev < 16; dev++) {
          for (let f = 0; f < 2; f++) out.push({ id: `${dp}.pci.d${dev}f${f}`, kind: 'pci-device', parent: `${dp}.pci`, package: `${dp}.pci.d${dev}` });
        }
        break;
      case 2:
        for (let f = 0; f < 8; f++) out.push({ id: `${dp}.f${f}`, kind: 'endpoint', parent: dp, ...(f % 2 === 0 ? { acs: FULL } : {}) });
        break;
      default:
        out.push({ id: `${dp}.nic`, kind: 'endpoint', parent: dp, ids: PLAIN_NIC });
    }
  }
}

/** The last few functions: a root port with a PCIe-to-PCI bridge and conventional devices (8 functions each). */
function addFiller(out: FunctionConfig[], id: string, count: number): void {
  if (count < 3) {
    for (let i = 0; i < count; i++) out.push({ id: `${id}.rciep${i}`, kind: 'rciep' });
    return;
  }
  out.push({ id, kind: 'root-port', acs: FULL });
  out.push({ id: `${id}.pci`, kind: 'pcie-pci-bridge', parent: id });
  for (let i = 0; i < count - 2; i++) out.push({ id: `${id}.pci.${i}`, kind: 'pci-device', parent: `${id}.pci`, package: `${id}.pci.d${i >> 3}` });
}

/** Downstream-port ACS: mostly full, sometimes SV only, sometimes no capability. */
function mixedAcs(rng: Rng): { acs?: AcsCapability } {
  const roll = rng.int(10);
  if (roll < 6) return { acs: FULL };
  if (roll < 8) return { acs: SV_ONLY };
  return {};
}
