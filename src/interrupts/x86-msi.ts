/**
 * x86 MSI address/data formats. Compatibility format: Intel SDM Vol. 3A
 * §11.11.1 "Message Address Register Format" and §11.11.2 "Message Data
 * Register Format". Remappable format: Intel VT-d spec §5.1.2.2 "Interrupt
 * Requests in Remappable Format" and §5.1.3 (interrupt_index).
 * Decoders write into caller-owned objects: they run once per interrupt TLP.
 */

/** VT-d §5.1.4 / SDM §11.11: DWORD writes to 0xFEEx_xxxx are interrupt requests. */
export const MSI_WINDOW = { base: 0xfee0_0000, size: 0x10_0000 } as const;

export function inMsiWindow(address: number): boolean {
  return address >= MSI_WINDOW.base && address < MSI_WINDOW.base + MSI_WINDOW.size;
}

/** SDM §11.11.2 Delivery Mode encodings (also the IRTE DLM field, VT-d §9.10). */
export const DELIVERY_MODES = ['fixed', 'lowest-priority', 'smi', 'reserved-3', 'nmi', 'init', 'reserved-6', 'extint'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
export const DeliveryModeCode = { fixed: 0, lowestPriority: 1, smi: 2, nmi: 4, init: 5, extint: 7 } as const;

export type DestinationMode = 'physical' | 'logical';
export type TriggerMode = 'edge' | 'level';

/** An interrupt's attributes: decoded from a compatibility-format request, or taken from an IRTE. */
export interface InterruptAttributes {
  destination: number;
  destinationMode: DestinationMode;
  redirectionHint: boolean;
  vector: number;
  deliveryMode: number;
  trigger: TriggerMode;
  /** Level for level-triggered messages: true = assert (SDM §11.11.2 bit 14). */
  assert: boolean;
}

export function newAttributes(): InterruptAttributes {
  return { destination: 0, destinationMode: 'physical', redirectionHint: false, vector: 0, deliveryMode: 0, trigger: 'edge', assert: true };
}

/**
 * SDM §11.11.1/§11.11.2: address bits 19:12 Destination ID, bit 3 RH, bit 2 DM;
 * data bits 7:0 vector, 10:8 delivery mode, 14 level, 15 trigger mode.
 */
export function decodeCompat(address: number, data: number, out: InterruptAttributes): InterruptAttributes {
  out.destination = (address >>> 12) & 0xff;
  out.redirectionHint = ((address >>> 3) & 1) === 1;
  out.destinationMode = ((address >>> 2) & 1) === 1 ? 'logical' : 'physical';
  out.vector = data & 0xff;
  out.deliveryMode = (data >>> 8) & 7;
  out.assert = ((data >>> 14) & 1) === 1;
  out.trigger = ((data >>> 15) & 1) === 1 ? 'level' : 'edge';
  return out;
}

export interface CompatFields {
  readonly destination: number;
  readonly vector: number;
  readonly destinationMode?: DestinationMode;
  readonly redirectionHint?: boolean;
  readonly deliveryMode?: number;
  readonly trigger?: TriggerMode;
  readonly assert?: boolean;
}

/**
 * Builds a compatibility-format message (the inverse of `decodeCompat`).
 * Level defaults to 0 as Linux's __irq_msi_compose_msg leaves it for edge MSIs.
 */
export function composeCompat(f: CompatFields): { address: number; data: number } {
  const address =
    MSI_WINDOW.base |
    ((f.destination & 0xff) << 12) |
    (f.redirectionHint ? 1 << 3 : 0) |
    (f.destinationMode === 'logical' ? 1 << 2 : 0);
  const data =
    (f.vector & 0xff) |
    (((f.deliveryMode ?? 0) & 7) << 8) |
    (f.assert ? 1 << 14 : 0) |
    (f.trigger === 'level' ? 1 << 15 : 0);
  return { address: address >>> 0, data };
}

/** VT-d §5.1.2.2: address bit 4 (Interrupt Format) = 1 marks the remappable format. */
export function isRemappable(address: number): boolean {
  return ((address >>> 4) & 1) === 1;
}

/** The fields of a remappable-format request (VT-d §5.1.2.2, Figure 5-15). */
export interface RemappableRequest {
  handle: number;
  shv: boolean;
  subhandle: number;
  /** VT-d §5.1.3: handle + (SHV ? subhandle : 0), not truncated to 16 bits. */
  index: number;
  /** Data bits 31:16 are reserved in the remappable format (checked for fault 0x20). */
  reservedSet: boolean;
}

export function newRemappableRequest(): RemappableRequest {
  return { handle: 0, shv: false, subhandle: 0, index: 0, reservedSet: false };
}

/** handle[14:0] = address 19:5, handle[15] = address bit 2, SHV = bit 3, subhandle = data 15:0. */
export function decodeRemappable(address: number, data: number, out: RemappableRequest): RemappableRequest {
  out.handle = ((address >>> 5) & 0x7fff) | (((address >>> 2) & 1) << 15);
  out.shv = ((address >>> 3) & 1) === 1;
  out.subhandle = data & 0xffff;
  out.index = out.shv ? out.handle + out.subhandle : out.handle;
  out.reservedSet = data >>> 16 !== 0;
  return out;
}

/**
 * A remappable-format message naming `handle`, as Linux builds it
 * (drivers/iommu/intel/irq_remapping.c fill_msi_msg: SHV always set,
 * subhandle in data[15:0]).
 */
export function composeRemappable(handle: number, subhandle = 0, shv = true): { address: number; data: number } {
  const address = MSI_WINDOW.base | ((handle & 0x7fff) << 5) | (1 << 4) | (shv ? 1 << 3 : 0) | (((handle >>> 15) & 1) << 2);
  return { address: address >>> 0, data: subhandle & 0xffff };
}
