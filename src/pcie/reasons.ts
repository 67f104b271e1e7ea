/**
 * The reason registry: every way a TLP (or a host-side refusal) can end has
 * one stable code, mapped to its outcome, a one-line rule and the rule's
 * source (spec section or kernel function). Each layer defines the codes it
 * decides (fabric, IOMMU, interrupts, host policy) with `defineReasons`; the
 * fabric refuses to end a TLP with an unknown code or with an outcome its
 * code does not allow (host-side refusals, which stop an action before any
 * TLP exists, end `blocked` with their own codes), so `explain`, the JSON and the README table (all
 * generated from `allReasons()`) can never disagree with what ran.
 */
import type { Outcome } from './tlp.ts';

export interface ReasonInfo {
  readonly code: string;
  readonly outcome: Outcome;
  /** What happened, in one line. */
  readonly title: string;
  /** Where the rule comes from: spec section(s), kernel function(s). */
  readonly source: string;
}

export class ReasonError extends Error {
  readonly code = 'UNKNOWN_REASON';
}

const registry = new Map<string, ReasonInfo>();

/**
 * Registers a layer's codes; returns them keyed by code for typed use
 * (`FABRIC_REASONS['acs.source-validation']`). A code defined twice with a
 * different meaning is a programming error.
 */
export function defineReasons<const T extends Record<string, Omit<ReasonInfo, 'code'>>>(table: T): { readonly [K in keyof T]: ReasonInfo } {
  const out: Record<string, ReasonInfo> = {};
  for (const [code, info] of Object.entries(table)) {
    const entry: ReasonInfo = { code, ...info };
    const known = registry.get(code);
    if (known !== undefined && (known.outcome !== entry.outcome || known.title !== entry.title)) {
      throw new ReasonError(`reason '${code}' defined twice: ${known.outcome} "${known.title}" and ${entry.outcome} "${entry.title}"`);
    }
    registry.set(code, entry);
    out[code] = entry;
  }
  return out as { readonly [K in keyof T]: ReasonInfo };
}

export function reasonInfo(code: string): ReasonInfo | undefined {
  return registry.get(code);
}

/** Every registered code, sorted. Only codes of modules that were loaded are present. */
export function allReasons(): ReasonInfo[] {
  return [...registry.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/** Throws unless `code` is registered for `outcome`: an ending the registry cannot explain is a bug. */
export function checkReason(code: string, outcome: Outcome, what: string): void {
  const info = registry.get(code);
  if (info === undefined) throw new ReasonError(`${what} ended with unregistered reason '${code}'`);
  if (info.outcome !== outcome) throw new ReasonError(`${what} ended ${outcome} with reason '${code}', which the registry defines as ${info.outcome}`);
}
