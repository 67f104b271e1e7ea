/**
 * The validated form of the time-and-ownership keys (schema-ownership.ts):
 * host steps that change who holds what, and the machine facts they need.
 */
import type { DeviceClass } from '../policy/reserved-regions.ts';
import type { Principal } from './model.ts';

export type ResetKind = 'flr' | 'bus' | 'none';
export type BootPhase = 'exit-boot-services' | 'iommu-init';

/** Function facts beyond the fabric's: presence, class, reset method, port trust. */
export interface FunctionHostSpec {
  /** False: absent at the start (its link is down until a hot-plug step). */
  readonly present: boolean;
  readonly class: DeviceClass | null;
  readonly resetMethod: ResetKind;
  /** A root port marked ExternalFacingPort. */
  readonly externalFacing: boolean;
  /** Below an external-facing port (Linux set_pcie_untrusted). */
  readonly untrusted: boolean;
}

export interface ReservedSpec {
  readonly kind: 'rmrr' | 'ivmd';
  readonly region: string;
  readonly base: number;
  readonly size: number;
  readonly devices: readonly string[];
  readonly perm: 'r' | 'w' | 'rw';
}

export interface HostSpec {
  readonly host: 'linux' | 'xen';
  readonly xen: { readonly quarantine: 'off' | 'basic' | 'scratch-page'; readonly perDeviceIntremap: boolean; readonly staleIrtes: 'cleared' | 'kept' };
  readonly firmware: { readonly dmaProtection: 'off' | 'boot-services' | 'handover'; readonly dmarOptIn: boolean };
  readonly reserved: readonly ReservedSpec[];
}

export interface KernelHostSpec {
  readonly defaultDomain: 'dma' | 'identity';
  /** Memory region swiotlb bounces from; null: no bounce pool. */
  readonly swiotlb: string | null;
}

interface HostStepBase {
  readonly index: number;
  readonly at: number;
  readonly note: string | null;
}

export type OwnershipStep =
  | (HostStepBase & { readonly kind: 'assign'; readonly device: string; readonly to: Principal; readonly domain: string | null })
  | (HostStepBase & { readonly kind: 'release'; readonly device: string; readonly domain: string | null })
  | (HostStepBase & { readonly kind: 'reset'; readonly device: string; readonly reset: ResetKind })
  | (HostStepBase & { readonly kind: 'reassign-memory'; readonly region: string; readonly to: Principal })
  | (HostStepBase & { readonly kind: 'free'; readonly region: string })
  /** `device` is the devices: entry; `functions` its functions (one unless multifunction). */
  | (HostStepBase & { readonly kind: 'hot-plug' | 'hot-unplug'; readonly device: string; readonly functions: readonly string[] })
  | (HostStepBase & { readonly kind: 'boot'; readonly phase: BootPhase });

/** A function that is present, trusted, of no particular class, reset by FLR. */
export const DEFAULT_FUNCTION_HOST: FunctionHostSpec = { present: true, class: null, resetMethod: 'flr', externalFacing: false, untrusted: false };

/** A Linux host, Xen's defaults (4.13+: basic quarantine, per-device AMD tables), no pre-boot protection, no reserved regions. */
export const DEFAULT_HOST: HostSpec = {
  host: 'linux',
  xen: { quarantine: 'basic', perDeviceIntremap: true, staleIrtes: 'cleared' },
  firmware: { dmaProtection: 'off', dmarOptIn: false },
  reserved: [],
};

export const DEFAULT_KERNEL_HOST: KernelHostSpec = { defaultDomain: 'dma', swiotlb: null };
