/**
 * Quantities in scenario files: byte sizes and addresses with binary units.
 *
 * Integer literals are read exactly (BigInt), never through a float: PCIe
 * addresses are 64 bits (PCIe 6.0 §2.2.4.1, 4DW headers), so anything up to
 * 0xffff_ffff_ffff_ffff is a well-formed address and anything larger is
 * refused with that limit. Machine resources (memory, BARs, windows,
 * mappings) lie below 2^52 on every modelled platform, so they are held as
 * exact JavaScript numbers and a value at or above 2^53 is refused, never
 * rounded; a device's request address may be any 64-bit value and is then
 * carried exactly beside the number (readRequestAddress).
 */

const UNIT: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** The largest 64-bit address. */
export const MAX_ADDRESS_64 = (1n << 64n) - 1n;
/** Values from here on cannot be held exactly by the simulator yet (Number.MAX_SAFE_INTEGER + 1). */
export const EXACT_LIMIT = 1n << 53n;

export type QuantityResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'over-64-bit' | 'inexact'; readonly exact?: bigint };

/** 0xffff_ffff_ffff_ffff with underscores every four digits, as limits are quoted. */
export function hexGrouped(n: bigint): string {
  const digits = n.toString(16);
  return `0x${digits.replace(/\B(?=(?:[0-9a-f]{4})+$)/g, '_')}`;
}

/**
 * 4096, 0x1000, "0x1000", "0xffff_ffff", "64K", "64KiB", "1G", "1.5M" →
 * bytes, exactly; why not when malformed, fractional, past 64 bits, or not
 * representable exactly by the simulator.
 */
export function readQuantity(value: unknown): QuantityResult {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return { ok: false, reason: 'malformed' };
    return Number.isSafeInteger(value) ? { ok: true, value } : { ok: false, reason: 'inexact' };
  }
  if (typeof value === 'bigint') return bounded(value);
  if (typeof value !== 'string') return { ok: false, reason: 'malformed' };
  const text = value.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(text)) return bounded(BigInt(text));
  if (/^0o[0-7]+$/i.test(text)) return bounded(BigInt(text));
  const match = /^(\d+)(?:\.(\d+))?\s*([KMGT]?)(?:i?B)?$/i.exec(text);
  if (!match) return { ok: false, reason: 'malformed' };
  const unit = UNIT[match[3]!.toUpperCase()]!;
  const fraction = match[2] ?? '';
  // whole.fraction × unit, exactly: a fractional number of bytes is malformed.
  const scaled = BigInt(match[1]! + fraction) * unit;
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) return { ok: false, reason: 'malformed' };
  return bounded(scaled / divisor);
}

function bounded(n: bigint): QuantityResult {
  if (n < 0n) return { ok: false, reason: 'malformed' };
  if (n > MAX_ADDRESS_64) return { ok: false, reason: 'over-64-bit', exact: n };
  if (n >= EXACT_LIMIT) return { ok: false, reason: 'inexact', exact: n };
  return { ok: true, value: Number(n) };
}

/**
 * A request address a device puts in a TLP: any 64-bit value. Below 2^53 it
 * is an exact number; from 2^53 up it is carried as `exact` (hex text)
 * beside a number that stands for it in comparisons. That stand-in is
 * Number(exact), which rounds monotonically, and every range a machine can
 * decode lies below 2^53 (machine resources are read by readQuantity), so
 * no decision changes: such a request is above every window, BAR, region
 * and address width.
 */
export function readRequestAddress(value: unknown): { readonly ok: true; readonly value: number; readonly exact: string | null } | Extract<QuantityResult, { ok: false }> {
  const n = readQuantity(value);
  if (n.ok) return { ok: true, value: n.value, exact: null };
  if (n.reason !== 'inexact' || n.exact === undefined) return n;
  return { ok: true, value: Number(n.exact), exact: `0x${n.exact.toString(16)}` };
}

/** The number, or undefined when `readQuantity` refuses it. */
export function parseQuantity(value: unknown): number | undefined {
  const result = readQuantity(value);
  return result.ok ? result.value : undefined;
}

/** What is wrong with a refused quantity, as a sentence ending (after "WHAT 'TEXT' "). */
export function quantityProblem(result: Extract<QuantityResult, { ok: false }>): string {
  switch (result.reason) {
    case 'over-64-bit':
      return `is beyond the 64-bit limit ${hexGrouped(MAX_ADDRESS_64)} (PCIe addresses are 64 bits)`;
    case 'inexact':
      return `is ${hexGrouped(EXACT_LIMIT)} (2^53) or more: memory, BARs, windows, mappings and sizes lie below that, beyond every modelled platform's physical address width (x86 MAXPHYADDR and Arm PA are at most 52 bits); only a device's request address may be any 64-bit value`;
    default:
      return 'is not a size or address (write 4096, 0x1000, 64K or 2G)';
  }
}

/** "on"/"off"/true/false → boolean. */
export function toggle(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'on';
}
