/**
 * Address Translation Services, device side (PCIe 6.0 §10; VT-d 5.10 §4.1).
 * A function sends a translation request (MemRd, AT=01b), the IOMMU answers
 * with a translation completion whose data this model carries as an
 * attachment, and the function keeps it in its ATC (device TLB). Later it
 * may send AT=10b requests with the translated address. The host
 * invalidates ATCs with Invalidate Request messages (§10.3); a compliant
 * function drops the entries, a hostile one need not (Thunderclap, NDSS
 * 2019), and nothing at the host forces it.
 */
import type { Fabric } from '../fabric/fabric.ts';
import { PciFunction } from '../fabric/function.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { Tlp } from '../pcie/tlp.ts';
import { PAGE_SIZE } from './config.ts';
import type { IommuEvent } from './events.ts';

/** Translation completion data (PCIe 6.0 §10.2.3; VT-d §4.1.2), one 4 KiB translation. */
export interface AtsTranslationCompletion {
  readonly kind: 'ats-translation';
  /** Untranslated page the translation is for. */
  readonly iova: number;
  /** Translated page; meaningful when read or write is set and untranslatedOnly is clear. */
  readonly hpa: number;
  readonly size: number;
  readonly read: boolean;
  readonly write: boolean;
  /** U bit: the range may only be accessed with untranslated requests. */
  readonly untranslatedOnly: boolean;
  readonly domain: string | null;
  /** The IOMMU answered from an IOTLB entry the page table no longer backs. */
  readonly stale: boolean;
}

/** ATS Invalidate Request message (PCIe 6.0 §10.3.1); iova null = everything the ATC holds. */
export interface AtsInvalidateRequest {
  readonly kind: 'ats-invalidate';
  readonly iova: number | null;
  readonly size: number | null;
}

export function isAtsCompletion(value: object | null): value is AtsTranslationCompletion {
  return value !== null && (value as { kind?: unknown }).kind === 'ats-translation';
}

export function isAtsInvalidate(value: object | null): value is AtsInvalidateRequest {
  return value !== null && (value as { kind?: unknown }).kind === 'ats-invalidate';
}

export interface AtcEntry {
  readonly iova: number;
  readonly hpa: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly filledAt: number;
}

const TRACE_OFF: TraceWriter<IommuEvent> = { enabled: false, emit: () => 0 };

/** Per-function address translation caches, fed by completions the fabric delivers. */
export class Atc {
  private readonly caches = new Map<string, Map<number, AtcEntry>>();
  private readonly hostile = new Set<string>();

  constructor(
    private readonly clock: { readonly now: number },
    private readonly trace: TraceWriter<IommuEvent> = TRACE_OFF,
  ) {}

  /** Listens for translation completions and invalidation requests reaching functions. */
  install(fabric: Fabric): void {
    fabric.onEnd((tlp) => this.onEnd(tlp));
  }

  /** A hostile function keeps its translations when told to invalidate them. */
  ignoreInvalidations(fnId: string, ignore = true): void {
    if (ignore) this.hostile.add(fnId);
    else this.hostile.delete(fnId);
  }

  /**
   * A function reset empties its ATC (PCIe 6.0 §6.6.2: FLR returns the
   * function's state, translation cache included, to its initial values;
   * §10.5.1.3 ATS Enable resets to 0). Returns the entries dropped.
   */
  reset(fnId: string): number {
    const cache = this.caches.get(fnId);
    const dropped = cache?.size ?? 0;
    cache?.clear();
    if (this.trace.enabled) this.trace.emit({ type: 'ats.invalidated', fn: fnId, dropped, ignored: false });
    return dropped;
  }

  lookup(fnId: string, iova: number): AtcEntry | undefined {
    return this.caches.get(fnId)?.get(Math.floor(iova / PAGE_SIZE));
  }

  entries(fnId: string): AtcEntry[] {
    return [...(this.caches.get(fnId)?.values() ?? [])];
  }

  /** The translated address a function would use for `iova`, if its ATC permits the access. */
  translate(fnId: string, iova: number, write: boolean): number | undefined {
    const entry = this.lookup(fnId, iova);
    if (entry === undefined || !(write ? entry.write : entry.read)) return undefined;
    return entry.hpa + (iova % PAGE_SIZE);
  }

  private onEnd(tlp: Tlp): void {
    if (tlp.outcome !== 'delivered' || !(tlp.target instanceof PciFunction)) return;
    if (tlp.type === 'CplD' && isAtsCompletion(tlp.attachment)) this.store(tlp.target, tlp.attachment);
    else if (tlp.type === 'Msg' && isAtsInvalidate(tlp.attachment)) this.invalidate(tlp.target, tlp.attachment);
  }

  private store(fn: PciFunction, cpl: AtsTranslationCompletion): void {
    let cache = this.caches.get(fn.id);
    if (cache === undefined) {
      cache = new Map();
      this.caches.set(fn.id, cache);
    }
    const page = Math.floor(cpl.iova / PAGE_SIZE);
    // §10.2.3: with R=W=0, or U set, there is no translation to use.
    if ((!cpl.read && !cpl.write) || cpl.untranslatedOnly) {
      cache.delete(page);
      return;
    }
    cache.set(page, { iova: page * PAGE_SIZE, hpa: cpl.hpa, read: cpl.read, write: cpl.write, filledAt: this.clock.now });
    if (this.trace.enabled) this.trace.emit({ type: 'ats.cache', fn: fn.id, iova: page * PAGE_SIZE, hpa: cpl.hpa, read: cpl.read, write: cpl.write });
  }

  private invalidate(fn: PciFunction, request: AtsInvalidateRequest): void {
    const ignored = this.hostile.has(fn.id);
    let dropped = 0;
    const cache = this.caches.get(fn.id);
    if (!ignored && cache !== undefined) {
      if (request.iova === null || request.size === null) {
        dropped = cache.size;
        cache.clear();
      } else {
        const first = Math.floor(request.iova / PAGE_SIZE);
        const last = Math.floor((request.iova + request.size - 1) / PAGE_SIZE);
        for (const page of [...cache.keys()]) {
          if (page >= first && page <= last && cache.delete(page)) dropped++;
        }
      }
    }
    if (this.trace.enabled) this.trace.emit({ type: 'ats.invalidated', fn: fn.id, dropped, ignored });
  }
}

/** A function asks the IOMMU for the translation of `iova` (MemRd with AT = translation request, 2 DW). */
export function requestTranslation(fabric: Fabric, fnId: string, iova: number): Tlp {
  return fabric.issue(fnId, { type: 'MemRd', address: Math.floor(iova / PAGE_SIZE) * PAGE_SIZE, length: 8, at: 'translation-request' });
}
