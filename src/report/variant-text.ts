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
