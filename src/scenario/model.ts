/**
 * A scenario after validation: units resolved, references checked,
 * defaults applied. The fabric part is a FabricConfig; what the fabric does
 * not know (owners, drivers, MSI, domains, steps) sits beside it.
 */
import type { FabricConfig } from '../fabric/topology.ts';
import type { ExplicitIrte } from '../interrupts/install.ts';
import type { PostedDescriptorSpec } from '../interrupts/vtd-posted.ts';
import type { FunctionHostSpec, HostSpec, KernelHostSpec, OwnershipStep } from './model-ownership.ts';
import type { InterposerSpec } from './interposers.ts';

export type Principal = string;
export const HOST: Principal = 'host';

export interface IommuSpec {
  readonly model: 'vtd' | 'amd-vi' | 'smmuv3' | 'none';
  readonly dmaRemapping: boolean;
  readonly interruptRemapping: boolean;
  readonly sourceIdValidation: boolean;
  readonly compatFormat: 'blocked' | 'allowed';
  readonly x2apic: boolean;
  readonly invalidation: 'strict' | 'deferred';
  readonly flushTimeoutNs: number;
  readonly flushQueueSize: number;
  readonly iotlbEntries: number;
  readonly iotlbReplacement: 'lru' | 'random';
  readonly irTableSize: number;
  /** VT-d CAP_REG.PI: posted-format IRTEs are valid. */
  readonly postedInterrupts: boolean;
}

export interface BarRegionSpec {
  readonly bar: number;
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly owner: Principal;
}

export interface FunctionSpec extends FunctionHostSpec {
  readonly id: string;
  /** The `devices:` entry it came from (itself, or the multifunction device). */
  readonly device: string;
  readonly owner: Principal;
  readonly driver: string | null;
  /** programmedBy: who may write Message Address/Data/Mask through config space (a guest's writes there are dropped unless 'owner'). */
  readonly msi: { readonly vectors: number; readonly perVectorMask: boolean; readonly programmedBy: 'host' | 'owner' } | null;
  readonly msix: { readonly vectors: number; readonly bar: number; readonly offset: number; readonly programmedBy: 'host' | 'owner' } | null;
  readonly ats: boolean;
  readonly barRegions: readonly BarRegionSpec[];
}

export interface MemorySpec {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly owner: Principal;
}

/** A hand-written interrupt-remapping table entry, as the interrupt layer installs it. */
export type IrteSpec = ExplicitIrte;

export interface MachineSpec extends HostSpec {
  readonly cpus: number;
  readonly iommu: IommuSpec;
  readonly msiController: 'x86' | 'gicv2m' | 'gicv3-its';
  readonly msiDoorbell: { readonly at: number; readonly beforeIommu: boolean } | null;
  readonly kernel: KernelHostSpec & {
    readonly acsOverride: readonly string[];
    readonly unsafeInterrupts: boolean;
    readonly vfioViability: 'enforced' | 'bypassed';
    readonly groups: 'classic' | 'per-bus';
  };
  readonly fabric: FabricConfig;
  /** Seeded arbitration among same-nanosecond arrivals, and per-hop jitter (ns); fifo / 0 by default. */
  readonly timing: { readonly arbitration: 'fifo' | 'seeded'; readonly jitterNs: number };
  readonly functions: readonly FunctionSpec[];
  readonly memory: readonly MemorySpec[];
  readonly irtes: readonly IrteSpec[];
  /** Posted Interrupt Descriptors of virtual CPUs (VT-d §9.12). */
  readonly postedDescriptors: readonly PostedDescriptorSpec[];
  /** xAPIC Destination Format model for logical destinations (SDM §11.6.2.2). */
  readonly apicLogicalModel: 'flat' | 'cluster';
}

export interface MappingSpec {
  readonly iova: number;
  /** A memory region by name, or a host-physical address. */
  readonly to: { readonly region: string } | { readonly address: number };
  readonly size: number;
  readonly perm: 'r' | 'w' | 'rw';
}

export interface DomainSpec {
  readonly name: string;
  readonly devices: readonly string[];
  readonly mode: 'identity' | 'paging' | 'blocked';
  readonly map: readonly MappingSpec[];
  readonly deviceTlb: boolean;
}

/** Where a device access goes: a 64-bit address (`exact` hex text when at or above 2^53), or a BAR and an offset. */
export type AccessTargetSpec =
  | { readonly address: number; readonly exact?: string | null }
  | { readonly bar: { readonly device: string; readonly index: number }; readonly offset: number };

/**
 * What a step may wait on instead of a time (`after:`): the step named by
 * `step` ran (`ran`), every TLP it put on the fabric ended with its
 * completion (`tlp-ended`), one of them faulted (`fault`) or delivered an
 * interrupt (`interrupt`); or the host's next unmap, map, invalidation or
 * IOTLB flush (`unmap`, `map`, `invalidate`, `iotlb-flush`; after `step`
 * ran when one is named), or the next TLP of the run that faults or
 * delivers an interrupt.
 */
export const STEP_EVENTS = ['ran', 'tlp-ended', 'fault', 'interrupt', 'unmap', 'map', 'invalidate', 'iotlb-flush'] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

export interface AfterSpec {
  /** The step it waits on (its index), or null: events from the start of the run. */
  readonly step: number | null;
  readonly event: StepEvent;
  /** ns after the event. */
  readonly delay: number;
}

interface StepBase {
  /** Index in attack.steps: for positions and evidence. */
  readonly index: number;
  /** When it runs; for a step that waits on an event (`after`), 0 (its time is known once it runs). */
  readonly at: number;
  /** The event it waits on instead of `at`; null or absent: it runs at `at`. */
  readonly after?: AfterSpec | null;
  readonly note: string | null;
}

interface DeviceStepBase extends StepBase {
  readonly from: string;
  /** Forged requester ID (`as:`), else null. */
  readonly as: number | null;
  readonly translated: boolean;
  readonly pasid: number | null;
}

export type StepSpec =
  | (DeviceStepBase & { readonly kind: 'write'; readonly target: AccessTargetSpec; readonly data: number; readonly size: number })
  | (DeviceStepBase & { readonly kind: 'read'; readonly target: AccessTargetSpec; readonly size: number })
  | (DeviceStepBase & { readonly kind: 'msi'; readonly vector: number | null; readonly irteOf: string | null; readonly irte: number | null })
  | (DeviceStepBase & { readonly kind: 'ats-translate'; readonly address: number })
  | (StepBase & { readonly kind: 'map'; readonly domain: string; readonly mapping: MappingSpec })
  | (StepBase & { readonly kind: 'unmap'; readonly domain: string; readonly iova: number; readonly size: number })
  | (StepBase & { readonly kind: 'invalidate'; readonly what: 'iotlb' | 'iec' | 'ats' })
  | (StepBase & { readonly kind: 'irte-write'; readonly irte: IrteSpec })
  | (StepBase & { readonly kind: 'config-write'; readonly device: string; readonly offset: number; readonly value: number; readonly size: 1 | 2 | 4; readonly by: Principal })
  | (StepBase & { readonly kind: 'mmio-write'; readonly target: Extract<AccessTargetSpec, { bar: unknown }>; readonly value: number; readonly size: number; readonly by: Principal })
  | (StepBase & { readonly kind: 'wait'; readonly duration: number })
  | OwnershipStep;

export type DeviceStep = Extract<StepSpec, { from: string }>;

/** One value per variant axis, keyed by the axis path as written. */
export type VariantAssignment = Readonly<Record<string, unknown>>;

/** A breach an expectation names: its kind, and the victim when stated. */
export interface BreachExpectation {
  readonly kind: string;
  readonly victim: string | null;
}

/** A stop an expectation names: its reason code or fault code (at least one), and where it was decided when stated. */
export interface StopExpectation {
  readonly reason: string | null;
  readonly fault: number | null;
  readonly at: string | null;
}

export const GATE_NAMES = ['vfio-viability', 'isolated-msi', 'rmrr'] as const;
export type GateName = (typeof GATE_NAMES)[number];

export interface ExpectRuleSpec {
  readonly when: VariantAssignment;
  readonly verdict: 'breached' | 'isolated';
  /** When stated, the run's distinct breaches (kind, victim) must be exactly these. */
  readonly breaches: readonly BreachExpectation[] | null;
  /** When stated, every stop must match one of these and each of these at least one stop. */
  readonly stopped: readonly StopExpectation[] | null;
  /** When stated, the run must have been refused by this Linux gate (`none`: by no gate). */
  readonly refusedBy: GateName | 'none' | null;
  readonly because: string | null;
}

export interface ScenarioSpec {
  readonly file: string;
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly sources: readonly string[];
  readonly machine: MachineSpec;
  readonly domains: readonly DomainSpec[];
  readonly attacker: Principal;
  readonly via: 'device' | 'vfio';
  readonly steps: readonly StepSpec[];
  /** Port modules the attacker put on links (attack.interposers); absent: none. */
  readonly interposers?: readonly InterposerSpec[];
}
