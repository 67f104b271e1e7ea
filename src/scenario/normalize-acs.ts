/**
 * Semantic pass over a function's `acs:` (PCIe 6.3 §6.12, §7.7.11): which
 * controls it implements and enables, its Egress Control Vector, and ACS
 * Enhanced.
 */
import { ACS_ENHANCED, AcsCtl, MAX_EGRESS_VECTOR_BITS, acsMask, Acs, memoryTargetBits, type AcsCapability } from '../pcie/acs.ts';
import { isDownstreamPortKind, type FunctionKind } from '../fabric/topology.ts';
import type { Checker } from './checker.ts';
import type { AcsEntry } from './schema.ts';
import type { Path } from './source.ts';
import { toggle } from './units.ts';

/** Controls a port implements when its ACS is written as a plain list (PCIe 6.0 §6.12.1.1). */
const PORT_CONTROLS = acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']);
/** Controls applicable to functions of multifunction devices (§6.12.1.2). */
const FUNCTION_CONTROLS = acsMask(['RR', 'CR', 'EC', 'DT']);

export function acsOf(entry: AcsEntry, kind: FunctionKind, path: Path, check: Checker): AcsCapability | undefined {
  if (entry === 'none') return undefined;
  if (kind === 'pcie-pci-bridge' || kind === 'pci-device') {
    check.error(path, `a ${kind} has no ACS (PCIe 6.3 §6.12.1: ACS is never applicable to PCIe-to-PCI bridges or conventional PCI)`, 'acs-not-applicable');
    return undefined;
  }
  const port = isDownstreamPortKind(kind);
  const applicable = port ? PORT_CONTROLS : FUNCTION_CONTROLS;
  if (Array.isArray(entry)) {
    const ctl = acsMask(entry);
    if ((ctl & ~applicable) !== 0) {
      check.error(path, `SV, TB and UF apply to root and downstream ports only (PCIe 6.3 §6.12.1.2); a ${kind} function can have RR, CR, EC, DT`, 'acs-not-applicable');
    }
    return { cap: applicable, ctl: ctl & applicable };
  }
  const cap = acsMask(entry.cap);
  const ctl = acsMask(entry.ctl);
  const missing = entry.ctl.filter((flag) => (cap & Acs[flag]) === 0);
  if (missing.length > 0) {
    check.error([...path, 'ctl'], `ctl enables ${missing.join(', ')}, which cap does not implement (unimplemented controls are hard-wired to 0, PCIe 6.3 §7.7.11.3)`, 'acs-ctl-not-in-cap');
  }
  const size = entry['egress-vector-size'] ?? 32;
  if (!Number.isInteger(size) || size < 1 || size > MAX_EGRESS_VECTOR_BITS) {
    check.error([...path, 'egress-vector-size'], `the Egress Control Vector has 1 to 256 bits (PCIe 6.3 §7.7.11.2), not ${size}`, 'bad-egress-vector');
  }
  const vector = egressVectorOf(entry['egress-vector'], size, [...path, 'egress-vector'], check);
  if (vector !== 0n && (cap & Acs.EC) === 0) {
    check.error([...path, 'egress-vector'], `an Egress Control Vector needs P2P Egress Control (EC) in cap; without it the vector is not implemented (PCIe 6.3 §7.7.11.4)`, 'bad-egress-vector');
  }
  const enhanced = entry.enhanced === undefined ? 0 : enhancedControls(entry.enhanced, kind, port, [...path, 'enhanced'], check);
  return {
    cap: cap | (entry.enhanced === undefined ? 0 : ACS_ENHANCED),
    ctl: ctl | enhanced,
    ...(vector === 0n ? {} : { egressVector: vector }),
    ...(entry['egress-vector-size'] === undefined ? {} : { egressVectorSize: size }),
  };
}

/** A bit mask (number, or a hex string of up to 256 bits) or the list of Port/Function Numbers whose bit is set. */
function egressVectorOf(value: unknown, size: number, path: Path, check: Checker): bigint {
  if (value === undefined) return 0n;
  let vector = 0n;
  if (Array.isArray(value)) {
    value.forEach((port: number, i) => {
      if (port < 0 || port >= size) check.error([...path, i], `Port/Function Number ${port} has no bit in a ${size}-bit Egress Control Vector`, 'bad-egress-vector');
      else vector |= 1n << BigInt(port);
    });
    return vector;
  }
  if (typeof value === 'string' && /^0x[0-9a-f_]+$/i.test(value.trim())) vector = BigInt(value.trim().replace(/_/g, ''));
  else vector = BigInt(check.quantity(value, path, 'egress vector'));
  if (vector >> BigInt(size) !== 0n) check.error(path, `the egress vector sets bits at or above its size of ${size} bits`, 'bad-egress-vector');
  return vector;
}

/** ACS Enhanced controls (PCIe 6.3 §6.12.1.1, §7.7.11.3): downstream ports only; USP and unclaimed-request controls switch DSPs only. */
function enhancedControls(entry: NonNullable<Exclude<AcsEntry, unknown[] | 'none'>['enhanced']>, kind: FunctionKind, port: boolean, path: Path, check: Checker): number {
  if (!port) {
    check.error(path, `ACS Enhanced applies to root ports and switch downstream ports (PCIe 6.3 §6.12.1.1), not to a ${kind}`, 'acs-not-applicable');
    return 0;
  }
  if (kind === 'root-port') {
    for (const key of ['usp-memory-target', 'unclaimed-request-redirect'] as const) {
      if (entry[key] !== undefined) check.error([...path, key], `${key} is not applicable to root ports (PCIe 6.3 §6.12.1.1); it belongs to switch downstream ports`, 'acs-not-applicable');
    }
  }
  return (
    (toggle(entry['io-request-blocking'], false) ? AcsCtl.IORB : 0) |
    memoryTargetBits(entry['dsp-memory-target'] ?? 'direct', 'dsp') |
    memoryTargetBits(entry['usp-memory-target'] ?? 'direct', 'usp') |
    (toggle(entry['unclaimed-request-redirect'], false) ? AcsCtl.UNCLAIMED_RR : 0)
  );
}
