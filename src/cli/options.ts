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
