/** Flag value checks shared by commands; bad values are usage errors (exit 2). */
import { UsageError } from './exit.ts';

export function positiveInteger(value: unknown, flag: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} needs a positive integer, got '${String(value)}'`);
  return n;
}

export function seedOf(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed needs a non-negative integer, got '${String(value)}'`);
  return n;
}

/** `--variant axis=value`, repeatable, as a filter object. */
export function variantFilter(value: unknown): Record<string, string> {
  const entries = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const filter: Record<string, string> = {};
  for (const entry of entries) {
    const text = String(entry);
    const at = text.indexOf('=');
    if (at <= 0) throw new UsageError(`--variant needs axis=value (e.g. machine.iommu.interrupt-remapping=on), got '${text}'`);
    filter[text.slice(0, at)] = text.slice(at + 1);
  }
  return filter;
}

/** `--shard i/n` (1-based), as test runners take it. */
export function shardOption(value: unknown): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(String(value));
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) throw new UsageError(`--shard needs i/n with 1 ≤ i ≤ n (e.g. 2/4), got '${String(value)}'`);
  return { index, count };
}

/** `--bail [n]`: alone it means 1. */
export function bailOption(value: unknown): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 1;
  return positiveInteger(value, '--bail');
}

/** A flag that names a file: a string, not a bare flag. */
export function fileOption(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} needs a file name (e.g. ${flag} reports/out)`);
  return value;
}

/** `-t PATTERN`, once. */
export function patternOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError('-t/--filter is given once (use one regular expression with |, e.g. -t "spoofed|white-rabbit")');
  if (value === true || value === '') throw new UsageError('-t/--filter needs a pattern');
  return String(value);
}
