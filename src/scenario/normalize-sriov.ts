/**
 * Semantic pass over `sriov:` (an SR-IOV Physical Function, SR-IOV 1.1
 * §3.3): NumVFs, First VF Offset, VF Stride, the VF BARs, the VFs' identity
 * and ARI, and each VF as a function of its own (owner, driver, MSI/MSI-X).
 */
import type { BarConfig, FunctionKind, SriovConfig } from '../fabric/topology.ts';
import type { Checker } from './checker.ts';
import type { BarEntry, FunctionEntry, SriovEntry } from './schema.ts';
import type { Path } from './source.ts';
import { toggle } from './units.ts';

/** The most VFs a PF can enable: TotalVFs is a 16-bit field, but Routing IDs run out first. */
const MAX_VFS = 0xffff;

export function vfId(pf: string, sriov: SriovEntry, n: number): string {
  return sriov.functions?.[n]?.id ?? `${pf}-vf${n}`;
}

export function sriovOf(
  pf: { readonly id: string; readonly sriov?: SriovEntry },
  kind: FunctionKind,
  pfIds: { vendor: number; device: number } | undefined,
  path: Path,
  check: Checker,
  barOf: (bar: BarEntry, path: Path) => BarConfig,
): SriovConfig | undefined {
  const sriov = pf.sriov;
  if (sriov === undefined) return undefined;
  if (kind !== 'endpoint' && kind !== 'rciep') {
    check.error(path, `only endpoints and RCiEPs are SR-IOV Physical Functions, not a ${kind}`, 'bad-sriov');
    return undefined;
  }
  if (sriov.vfs < 0 || sriov.vfs > MAX_VFS) check.error([...path, 'vfs'], `NumVFs is 0 to ${MAX_VFS}, not ${sriov.vfs}`, 'bad-sriov');
  if ((sriov.functions?.length ?? 0) > sriov.vfs) {
    check.error([...path, 'functions'], `${sriov.functions!.length} VF entries for ${sriov.vfs} VFs: give at most one per VF`, 'bad-sriov');
  }
  let vfIds: SriovConfig['vfIds'];
  if (sriov['vf-ids'] !== undefined) {
    const match = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(sriov['vf-ids']);
    if (!match) check.error([...path, 'vf-ids'], `vf-ids '${sriov['vf-ids']}' must be "vendor:device" in hex, e.g. "8086:10ed"`, 'bad-ids');
    else {
      vfIds = { vendor: parseInt(match[1]!, 16), device: parseInt(match[2]!, 16) };
      // SR-IOV 1.1 §3.4.1.1: a VF's Vendor ID reads FFFFh; software uses the PF's.
      if (pfIds !== undefined && vfIds.vendor !== pfIds.vendor) {
        check.error([...path, 'vf-ids'], `a VF's vendor is its PF's (${pfIds.vendor.toString(16).padStart(4, '0')}); only the VF Device ID differs (SR-IOV 1.1 §3.3.11)`, 'bad-ids');
      }
    }
  }
  const vfBars = (sriov['vf-bars'] ?? []).map((bar, i) => {
    const config = barOf(bar, [...path, 'vf-bars', i]);
    if (config.at !== undefined) check.error([...path, 'vf-bars', i, 'at'], `a VF BAR is placed by its PF's VF BAR aperture; it cannot be pinned`, 'bad-sriov');
    return config;
  });
  return {
    vfs: Array.from({ length: Math.max(0, Math.min(sriov.vfs, MAX_VFS)) }, (_, n) => vfId(pf.id, sriov, n)),
    offset: check.quantity(sriov.offset, [...path, 'offset'], 'First VF Offset'),
    stride: check.quantity(sriov.stride, [...path, 'stride'], 'VF Stride'),
    vfBars,
    ...(vfIds === undefined ? {} : { vfIds }),
    ari: toggle(sriov.ari, true),
  };
}

/** Each VF as a function entry (for owners, drivers and interrupts), with the path it is reported at. */
export function virtualFunctionEntries(pf: { readonly id: string; readonly owner?: string; readonly sriov?: SriovEntry }, path: Path): { entry: FunctionEntry; path: Path }[] {
  const sriov = pf.sriov;
  if (sriov === undefined) return [];
  return Array.from({ length: Math.max(0, sriov.vfs) }, (_, n) => {
    const own = sriov.functions?.[n];
    const entry: FunctionEntry = {
      id: vfId(pf.id, sriov, n),
      ...(sriov['vf-bars'] === undefined ? {} : { bars: sriov['vf-bars'] }),
      ...(own?.owner === undefined ? {} : { owner: own.owner }),
      ...(own?.driver === undefined ? {} : { driver: own.driver }),
      ...(own?.msi === undefined ? {} : { msi: own.msi }),
      ...(own?.msix === undefined ? {} : { msix: own.msix }),
      ...(own?.ats === undefined ? {} : { ats: own.ats }),
    };
    return { entry, path: own === undefined ? [...path, 'sriov'] : [...path, 'sriov', 'functions', n] };
  });
}
