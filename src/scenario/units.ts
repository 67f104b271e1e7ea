/** Quantities in scenario files: byte sizes and addresses with binary units. */

const UNIT: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * 4096, 0x1000, "0x1000", "64K", "64KiB", "1G", "1.5M" → bytes; undefined
 * when malformed or not a whole number of bytes.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^0x[0-9a-f_]+$/i.test(text)) return checked(parseInt(text.replace(/_/g, ''), 16));
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.replace(/_/g, ''));
  if (!match) return undefined;
  return checked(Number(match[1]) * UNIT[match[2]!.toUpperCase()]!);
}

function checked(n: number): number | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** "on"/"off"/true/false → boolean. */
export function toggle(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'on';
}
