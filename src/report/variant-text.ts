import type { VariantAssignment } from '../scenario/model.ts';

/** "machine.iommu.interrupt-remapping=on, …" or "base" for a scenario without variants. */
export function describeVariant(variant: VariantAssignment): string {
  const parts = Object.entries(variant).map(([axis, value]) => `${axis}=${formatValue(value)}`);
  return parts.length === 0 ? 'base' : parts.join(', ');
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  return JSON.stringify(value);
}

/** An axis path for table headers, without the leading "machine.": "iommu.x2apic", "devices.sw-dp0.acs". */
export function shortAxis(axis: string): string {
  return axis.replace(/^machine\./, '');
}

/** The verdict as users read it: a run a Linux gate stopped says so, not a bare "isolated". */
export function verdictText(run: { readonly verdict: string; readonly refusedBy: string | null }): string {
  return run.refusedBy === null ? run.verdict : `${run.verdict} (refused by ${run.refusedBy})`;
}

/** What the expectation states beyond the verdict, compactly: "breached: bar-write of host". */
export function expectationText(e: { readonly verdict: string; readonly breaches: readonly { kind: string; victim: string | null }[] | null; readonly refusedBy: string | null }): string {
  const parts = [e.verdict];
  if (e.refusedBy !== null && e.refusedBy !== 'none') parts[0] = `${e.verdict} (refused by ${e.refusedBy})`;
  if (e.breaches !== null && e.breaches.length > 0) parts.push(e.breaches.map((b) => (b.victim === null ? b.kind : `${b.kind} of ${b.victim}`)).join(', '));
  return parts.join(': ');
}
