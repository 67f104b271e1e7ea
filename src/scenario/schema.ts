/**
 * The scenario file format v1 (DESIGN.md §5) as zod schemas. Every object
 * is strict: an unknown key is an error, never silently ignored. The schema
 * is structural only — units, references and cross-field rules are checked
 * by the semantic pass, with positions — so the generated JSON Schema
 * (schemas/tlplab-v1.schema.json) describes exactly what a file may hold.
 */
import { z } from 'zod';
import { BREACH_KINDS } from '../policy/verdict.ts';
import { GATE_NAMES, STEP_EVENTS } from './model.ts';
import { InterposerEntry } from './interposers.ts';
import { DEVICE_OWNERSHIP_KEYS, FUNCTION_OWNERSHIP_KEYS, KERNEL_OWNERSHIP_KEYS, MACHINE_OWNERSHIP_KEYS, OWNERSHIP_STEP_KEYS } from './schema-ownership.ts';

// zod compiles each object schema with new Function on first use; a CLI that
// checks a few documents per process is faster interpreting them.
z.config({ jitless: true });

/** on / off, or true / false. */
const Toggle = z.union([z.boolean(), z.enum(['on', 'off'])]).describe('on | off');
/** A byte count or address: an integer (0x… allowed) or a string with a binary unit, e.g. "64K", "2G". */
const Quantity = z.union([z.number().int().nonnegative(), z.string()]).describe('integer, 0x…, or size with unit K/M/G/T');
/** A duration: integer nanoseconds or a string with a unit, e.g. "100ns", "1us", "10ms". */
const Duration = z.union([z.number().int().nonnegative(), z.string()]).describe('ns, or a string with ns/us/ms/s');
const Name = z.string().min(1);

export const ACS_FLAG_NAMES = ['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT'] as const;
const AcsFlag = z.enum(ACS_FLAG_NAMES);

/** ACS Enhanced (PCIe 6.3 §6.12.4): present = the capability bit is set; each control defaults to off / direct. */
const MemoryTarget = z.enum(['direct', 'block', 'redirect']).describe('Memory Target Access Control: 00b direct, 01b block, 10b redirect');
const AcsEnhanced = z.strictObject({
  'io-request-blocking': Toggle.optional(),
  'dsp-memory-target': MemoryTarget.optional(),
  'usp-memory-target': MemoryTarget.optional(),
  'unclaimed-request-redirect': Toggle.optional(),
});

/**
 * List form: the capability with every applicable control implemented, these enabled.
 * Object form: cap and ctl apart, the Egress Control Vector (a bit mask, or the list of
 * Port/Function Numbers whose bit is set) and its size in bits (1..256), and ACS Enhanced.
 */
const Acs = z.union([
  z.array(AcsFlag),
  z.strictObject({
    cap: z.array(AcsFlag),
    ctl: z.array(AcsFlag),
    'egress-vector': z.union([Quantity, z.array(z.number().int())]).optional(),
    'egress-vector-size': z.number().int().optional(),
    enhanced: AcsEnhanced.optional(),
  }),
  z.literal('none'),
]);

const BarRegion = z.strictObject({ name: Name.optional(), offset: Quantity, size: Quantity, owner: Name });

const Bar = z.union([
  Quantity,
  z.strictObject({
    size: Quantity,
    at: Quantity.optional(),
    prefetch: z.boolean().optional(),
    bits: z.union([z.literal(32), z.literal(64)]).optional(),
    /** Sub-ranges owned by another principal (e.g. the host driver's migration registers). */
    regions: z.array(BarRegion).optional(),
  }),
]);

const Msi = z.union([
  z.number().int(),
  z.strictObject({
    vectors: z.number().int(),
    'per-vector-mask': z.boolean().optional(),
    /**
     * Who may write Message Address, Data and Mask in config space: the host only
     * (a guest's writes there are dropped; it may still flip Message Control's
     * Enable bit), or the device's owner too (Xen pciback permissive mode).
     */
    'programmed-by': z.enum(['host', 'owner']).optional(),
  }),
]);

const Msix = z.union([
  z.number().int(),
  z.strictObject({
    vectors: z.number().int(),
    /** BAR index holding the table, and the table's offset in it. */
    bar: z.number().int().optional(),
    offset: Quantity.optional(),
    /** Who may write the table: the host only, or the device's owner (table mapped to the guest). */
    'programmed-by': z.enum(['host', 'owner']).optional(),
  }),
]);

/** A Virtual Function's own keys (its BARs are the PF's vf-bars; its ACS is the PF's). */
const VirtualFunction = z.strictObject({
  id: Name.optional(),
  owner: Name.optional(),
  driver: Name.optional(),
  msi: Msi.optional(),
  msix: Msix.optional(),
  ats: z.boolean().optional(),
});

/** An SR-IOV Physical Function with its VFs enabled (SR-IOV 1.1 §3.3). */
const Sriov = z.strictObject({
  /** NumVFs. */
  vfs: z.number().int(),
  /** First VF Offset and VF Stride, in Routing IDs. */
  offset: Quantity,
  stride: Quantity,
  /** Each VF's BARs: the PF reserves NumVFs slices of each. */
  'vf-bars': z.array(Bar).optional(),
  /** "vendor:device" of the VFs (VF Device ID). */
  'vf-ids': z.string().optional(),
  /** ARI Capable Hierarchy (default on): 8-bit Function Numbers. */
  ari: Toggle.optional(),
  /** Per-VF keys, VF 0 first; ids default to PF-vfN. */
  functions: z.array(VirtualFunction).optional(),
});

/** Keys a PCI function may carry, whether it is a whole device or one of `functions:`. */
const functionKeys = {
  id: Name,
  owner: Name.optional(),
  /** Kernel driver bound to it (DMA ownership: kernel), e.g. "nvme", "vfio-pci". */
  driver: Name.optional(),
  bars: z.array(Bar).optional(),
  msi: Msi.optional(),
  msix: Msix.optional(),
  acs: Acs.optional(),
  ats: z.boolean().optional(),
  /** "vendor:device" in hex, e.g. "8086:a110": the identity that selects Linux's ACS quirk and the silicon's behaviour. */
  ids: z.string().optional(),
  /** Revision ID (the class code is `class`, as a 24-bit number). */
  revision: z.number().int().optional(),
  /**
   * What the hardware really does. `honours-quirk: false` — the silicon does not isolate the way the
   * vendor told Linux (the quirk its ids select): the kernel still believes it, the fabric does not.
   */
  hardware: z.strictObject({ 'honours-quirk': Toggle.optional() }).optional(),
  sriov: Sriov.optional(),
};

const PciFunction = z.strictObject({ ...functionKeys, ...FUNCTION_OWNERSHIP_KEYS, fn: z.number().int().optional() });

export const DEVICE_TYPES = ['root-port', 'switch-upstream', 'switch-downstream', 'pcie-pci-bridge', 'pci-device', 'endpoint', 'rciep'] as const;

const Device = z.strictObject({
  ...functionKeys,
  type: z.enum(DEVICE_TYPES),
  parent: Name.optional(),
  /** Pinned "BB:DD.F" or "DDDD:BB:DD.F"; otherwise assigned by enumeration. */
  bdf: z.string().optional(),
  /** The functions of a multifunction device (each addressable by its own id). */
  functions: z.array(PciFunction).optional(),
  /** Link latency to the parent. */
  latency: Duration.optional(),
  /** ACS egress-vector index of a downstream port (default: its device number). */
  'port-number': z.number().int().optional(),
  ...DEVICE_OWNERSHIP_KEYS,
});

const Memory = z.strictObject({ name: Name, base: Quantity, size: Quantity, owner: Name });

const Iommu = z.strictObject({
  model: z.enum(['vtd', 'amd-vi', 'smmuv3', 'none']).optional(),
  'dma-remapping': Toggle.optional(),
  'interrupt-remapping': Toggle.optional(),
  /** off = Linux intremap=nosid (SVT=00). */
  'source-id-validation': Toggle.optional(),
  /** allowed = CFI set. */
  'compat-format': z.enum(['blocked', 'allowed']).optional(),
  /** EIME. */
  x2apic: Toggle.optional(),
  invalidation: z.enum(['strict', 'deferred']).optional(),
  'flush-timeout': Duration.optional(),
  'flush-queue': z.number().int().optional(),
  'iotlb-entries': z.number().int().optional(),
  /** Which entry a full IOTLB gives up: least recently used, or a seeded random one (VT-d leaves it open). */
  'iotlb-replacement': z.enum(['lru', 'random']).optional(),
  /** Interrupt remapping table entries (IRTA.S); default 65536 as Linux. */
  'ir-table-size': z.number().int().optional(),
  /** CAP_REG.PI: posted-format IRTEs are supported (VT-d §5.2). */
  'posted-interrupts': Toggle.optional(),
});

/** An interrupt-remapping table entry written by hand (VT-d §9.10), over or beside the automatic ones. */
const Irte = z.strictObject({
  index: z.number().int(),
  present: z.boolean().optional(),
  vector: z.number().int().optional(),
  destination: z.number().int().optional(),
  svt: z.number().int().optional(),
  sq: z.number().int().optional(),
  sid: z.union([z.string(), z.number().int()]).optional(),
  fpd: z.boolean().optional(),
  owner: Name.optional(),
  /** Posted format (IM=1, VT-d §9.11): `vector` is the guest vector, the descriptor (a posted-descriptors name or its address) is the vCPU's. */
  posted: z.strictObject({ descriptor: z.union([Name, Quantity]), urgent: z.boolean().optional() }).optional(),
});

/** A Posted Interrupt Descriptor the host set up for one virtual CPU (VT-d §9.12; KVM's struct pi_desc). */
const PostedDescriptor = z.strictObject({
  name: Name,
  at: Quantity,
  /** Whose vCPU it is: the principal a posted interrupt is delivered to. */
  owner: Name,
  /** NDST: the physical CPU notified. */
  cpu: z.number().int().optional(),
  /** SN: notifications suppressed (the vCPU is not running). */
  suppressed: z.boolean().optional(),
});

const Kernel = z.strictObject({
  /** The out-of-tree pcie_acs_override= patch: downstream, multifunction, id:vvvv:dddd. */
  'acs-override': z.array(z.string()).optional(),
  /** vfio_iommu_type1 allow_unsafe_interrupts. */
  'unsafe-interrupts': Toggle.optional(),
  /** VFIO's group viability check: enforced (Linux) or bypassed (what an attacker with root could do). */
  'vfio-viability': z.enum(['enforced', 'bypassed']).optional(),
  /** How the kernel forms IOMMU groups: classic pci_device_group, or the 2025 per-bus isolation series. */
  groups: z.enum(['classic', 'per-bus']).optional(),
  ...KERNEL_OWNERSHIP_KEYS,
});

const Machine = z.strictObject({
  cpus: z.number().int().optional(),
  iommu: Iommu.optional(),
  'msi-controller': z.enum(['x86', 'gicv2m', 'gicv3-its']).optional(),
  'msi-doorbell': z.strictObject({ at: Quantity, 'before-iommu': Toggle.optional() }).optional(),
  kernel: Kernel.optional(),
  'hop-latency': Duration.optional(),
  /**
   * Seeded timing where PCIe leaves the order open: arbitration among TLPs reaching a
   * port in the same ns over different links, and extra per-hop latency (links never reorder).
   */
  fabric: z.strictObject({ arbitration: z.enum(['fifo', 'seeded']).optional(), jitter: Duration.optional() }).optional(),
  memory: z.array(Memory),
  devices: z.array(Device),
  irtes: z.array(Irte).optional(),
  'posted-descriptors': z.array(PostedDescriptor).optional(),
  /** The xAPIC Destination Format model the LAPICs use for logical destinations (SDM §11.6.2.2). */
  'apic-logical-model': z.enum(['flat', 'cluster']).optional(),
  ...MACHINE_OWNERSHIP_KEYS,
});

const Mapping = z.strictObject({ iova: Quantity, to: z.union([z.string(), z.number().int().nonnegative()]), size: Quantity, perm: z.enum(['r', 'w', 'rw']) });

const Domain = z.strictObject({
  devices: z.array(Name),
  mode: z.enum(['identity', 'paging', 'blocked']).optional(),
  map: z.array(Mapping).optional(),
  /** Whether the context lets the devices use ATS translated requests (VT-d TT=01). */
  'device-tlb': z.enum(['allowed', 'denied']).optional(),
});

/** Where a device access goes: an address, or a BAR of a device plus an offset. */
const AccessTarget = z.union([Quantity, z.strictObject({ bar: z.string(), offset: Quantity.optional() })]);

const Step = z.strictObject({
  /** When the step runs; or `after:` an event instead. */
  at: Duration.optional(),
  /**
   * Wait on an event instead of a time: `step` (an index into steps) and/or `event`
   * (ran | tlp-ended | fault | interrupt | unmap | map | invalidate | iotlb-flush), then `delay`.
   */
  after: z.strictObject({ step: z.number().int().optional(), event: z.enum(STEP_EVENTS).optional(), delay: Duration.optional() }).optional(),
  from: Name.optional(),
  write: AccessTarget.optional(),
  read: AccessTarget.optional(),
  data: Quantity.optional(),
  size: z.number().int().optional(),
  msi: z.strictObject({ vector: z.number().int().optional(), 'irte-of': Name.optional(), irte: z.number().int().optional() }).optional(),
  'ats-translate': Quantity.optional(),
  /** Modifiers: a forged requester ID, an AT=translated request, a PASID prefix. */
  as: z.string().optional(),
  translated: z.boolean().optional(),
  pasid: z.number().int().optional(),
  map: z.strictObject({ domain: Name, iova: Quantity, to: z.union([z.string(), z.number().int().nonnegative()]), size: Quantity, perm: z.enum(['r', 'w', 'rw']) }).optional(),
  unmap: z.strictObject({ domain: Name, iova: Quantity, size: Quantity }).optional(),
  invalidate: z.enum(['iotlb', 'iec', 'ats']).optional(),
  /**
   * The host writes an interrupt-remapping table entry in memory (VT-d §9.10/§9.11), without the
   * IEC invalidation Linux's modify_irte follows it with: a cached copy stays in use until `invalidate: iec`.
   */
  'irte-write': Irte.optional(),
  'config-write': z
    .strictObject({ device: Name, offset: Quantity, value: Quantity, size: z.number().int().optional(), by: Name.optional() })
    .optional(),
  /** A CPU store by a principal into a BAR mapped to it (e.g. a guest programming its MSI-X table). */
  'mmio-write': z
    .strictObject({ bar: z.string(), offset: Quantity.optional(), value: Quantity, size: z.number().int().optional(), by: Name.optional() })
    .optional(),
  wait: Duration.optional(),
  ...OWNERSHIP_STEP_KEYS,
  note: z.string().optional(),
});

const BreachKind = z.enum(BREACH_KINDS);

const ExpectRule = z.strictObject({
  when: z.record(z.string(), z.unknown()).optional(),
  verdict: z.enum(['breached', 'isolated']),
  /** The run's distinct breaches, exactly: each { kind, victim? }. */
  breaches: z.array(z.strictObject({ kind: BreachKind, victim: z.string().optional() })).optional(),
  /** The run's stopped attempts, exactly: each { reason | fault, at? } (a reason code, a fault code like 0x26, where it was decided). */
  stopped: z.array(z.strictObject({ reason: z.string().optional(), fault: z.union([z.string(), z.number().int().nonnegative()]).optional(), at: z.string().optional() })).optional(),
  /** The Linux gate that refused the assignment (attack.via: vfio), or none. */
  'refused-by': z.enum([...GATE_NAMES, 'none']).optional(),
  because: z.string().optional(),
});

export const ScenarioSchema = z.strictObject({
  schema: z.literal('tlplab/v1'),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lowercase name of letters, digits and dashes'),
  title: z.string(),
  summary: z.string(),
  sources: z.array(z.string()),
  machine: Machine,
  domains: z.record(z.string(), Domain).optional(),
  attack: z.strictObject({
    attacker: Name,
    /**
     * How the attacker holds its devices: `device` — it controls the hardware
     * (malicious device or firmware; no host check applies); `vfio` — they were
     * assigned through VFIO, so Linux's group-viability and isolated-MSI checks
     * must pass first, or the attack never starts.
     */
    via: z.enum(['device', 'vfio']).optional(),
    steps: z.array(Step),
    /** Port modules the attacker plugs into links: a hostile switch, a replaying interposer (interposers.ts). */
    interposers: z.array(InterposerEntry).optional(),
  }),
  variants: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  expect: z.array(ExpectRule).min(1),
});

export type ScenarioFile = z.infer<typeof ScenarioSchema>;
export type DeviceEntry = z.infer<typeof Device>;
export type FunctionEntry = z.infer<typeof PciFunction>;
export type StepEntry = z.infer<typeof Step>;
export type BarEntry = z.infer<typeof Bar>;
export type AcsEntry = z.infer<typeof Acs>;
export type IrteEntry = z.infer<typeof Irte>;
export type SriovEntry = z.infer<typeof Sriov>;

/** JSON Schema for editors, generated from the zod schema (kept in schemas/, checked by a test). */
export function scenarioJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://tlplab.dev/schemas/tlplab-v1.schema.json',
    title: 'tlplab scenario v1',
  };
}
