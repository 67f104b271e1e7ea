/**
 * The IOMMU's trace vocabulary. The verdict engine reads these as evidence:
 * which requester reached which host-physical address through which
 * domain, whether the translation came from a stale IOTLB entry, and how
 * the grants (map/unmap/attach) changed over time.
 */
import type { IommuModel } from './config.ts';
import type { Perm } from './domain.ts';
import type { IommuAccess } from './faults.ts';

/**
 * Where a translation came from. `stale-iotlb`: an IOTLB entry whose
 * page-table entry is gone or changed; `translated`: an AT=translated
 * request let through unchecked; `remapping-off`, `interrupt-window`,
 * `untranslated-range`: the address was decoded as is.
 */
export type TranslationSource =
  | 'iotlb'
  | 'walk'
  | 'stale-iotlb'
  | 'identity'
  | 'translated'
  | 'remapping-off'
  | 'interrupt-window'
  | 'untranslated-range'
  /** A quarantined device's DMA sent to its scratch page (Xen iommu=quarantine=scratch-page). */
  | 'quarantine-scratch';

export interface IommuTranslateEvent {
  readonly type: 'iommu.translate';
  readonly tlp: number;
  readonly model: IommuModel;
  readonly requester: string;
  readonly access: IommuAccess;
  readonly iova: number;
  readonly hpa: number;
  readonly domain: string | null;
  /** Permission the translation carried (null when no permission was checked). */
  readonly perm: Perm | null;
  readonly source: TranslationSource;
  /** True when the page table no longer grants what was used. */
  readonly stale: boolean;
}

export interface IommuFaultEvent {
  readonly type: 'iommu.fault';
  readonly tlp: number;
  readonly model: IommuModel;
  readonly requester: string;
  readonly access: IommuAccess;
  readonly iova: number;
  readonly domain: string | null;
  readonly reason: string;
  readonly code: number | null;
  readonly name: string;
  /** False when fault-processing-disable (or the model) kept it out of the log. */
  readonly recorded: boolean;
}

export interface IommuAttachEvent {
  readonly type: 'iommu.attach';
  readonly requester: string;
  /** null: the context was cleared (detached). */
  readonly domain: string | null;
  readonly faultProcessingDisable: boolean;
}

export interface IommuMapEvent {
  readonly type: 'iommu.map';
  readonly domain: string;
  readonly iova: number;
  readonly hpa: number;
  readonly size: number;
  readonly perm: Perm;
  readonly pages: number;
}

export interface IommuUnmapEvent {
  readonly type: 'iommu.unmap';
  readonly domain: string;
  readonly iova: number;
  readonly size: number;
  readonly pages: number;
  readonly invalidation: 'strict' | 'deferred';
}

export interface IommuInvalidateEvent {
  readonly type: 'iommu.invalidate';
  readonly scope: 'page' | 'domain' | 'global';
  readonly domain: string | null;
  readonly iova: number | null;
  readonly pages: number | null;
  /** IOTLB entries dropped. */
  readonly dropped: number;
  readonly cause: 'unmap' | 'flush-queue' | 'explicit' | 'attach';
}

export interface IommuFlushEvent {
  readonly type: 'iommu.flush';
  readonly domain: string;
  readonly trigger: 'timeout' | 'full' | 'explicit';
  /** Unmaps that were waiting in the queue. */
  readonly queued: number;
  readonly pages: number;
}

export interface AtsTranslateEvent {
  readonly type: 'ats.translate';
  readonly tlp: number;
  readonly requester: string;
  readonly iova: number;
  readonly hpa: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly untranslatedOnly: boolean;
  readonly domain: string | null;
  readonly stale: boolean;
}

export interface AtsCacheEvent {
  readonly type: 'ats.cache';
  readonly fn: string;
  readonly iova: number;
  readonly hpa: number;
  readonly read: boolean;
  readonly write: boolean;
}

export interface AtsInvalidateEvent {
  readonly type: 'ats.invalidate';
  /** The invalidation request message. */
  readonly tlp: number;
  readonly target: string;
  /** null: every translation the device holds. */
  readonly iova: number | null;
  readonly size: number | null;
}

export interface AtsInvalidatedEvent {
  readonly type: 'ats.invalidated';
  readonly fn: string;
  readonly dropped: number;
  /** A hostile device kept its entries (nothing forces it: Thunderclap, NDSS 2019). */
  readonly ignored: boolean;
}

export type IommuEvent =
  | IommuTranslateEvent
  | IommuFaultEvent
  | IommuAttachEvent
  | IommuMapEvent
  | IommuUnmapEvent
  | IommuInvalidateEvent
  | IommuFlushEvent
  | AtsTranslateEvent
  | AtsCacheEvent
  | AtsInvalidateEvent
  | AtsInvalidatedEvent;
