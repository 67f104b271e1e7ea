/**
 * An ARM GICv3 Interrupt Translation Service (GICv3/v4 architecture spec,
 * IHI 0069, ch. 5 "LPIs and the ITS"). Writes to GITS_TRANSLATER (offset
 * 0x0040 of the translation frame at ITS_base + 0x10000) are translated: the
 * DeviceID comes out of band from the requester ID (the root complex's
 * RID → DeviceID map, identity here, IORT-style), the EventID is the data
 * written. Device table (MAPD) → that device's ITT (MAPTI: EventID → LPI,
 * collection) → collection table (MAPC: target PE). A device can only reach
 * events of its own ITT.
 *
 * A translation that fails (DeviceID out of range or unmapped, EventID
 * beyond the ITT or unmapped, collection unmapped) raises no LPI: the write
 * is dropped and at most reported as an IMPLEMENTATION DEFINED SError
 * (GITS_TYPER.SEIS). We end the TLP `faulted` with the command-error
 * encoding of the equivalent INT command, 0x01_03_xx (command 03h, INT),
 * error numbers as the spec's error table and Linux's E_ITS_* constants use
 * them: 01 DeviceID out of range, 04 unmapped device, 05 EventID out of
 * range, 07 unmapped interrupt (E_ITS_INT_UNMAPPED_INTERRUPT = 0x010307,
 * what KVM's vgic_its_trigger_msi returns for such an MSI), 09 unmapped
 * collection. QEMU (hw/intc/arm_gicv3_its.c) likewise ignores the write.
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { AddressTarget, RootComplex } from '../fabric/root-complex.ts';
import './reasons.ts';
import { interruptDelivery, type InterruptDelivery } from './delivery.ts';
import type { InterruptEvent } from './events.ts';

export const ITS_SIZE = 0x2_0000;
export const GITS_TRANSLATER = 0x1_0040;
/** LPI INTIDs start at 8192 (IHI 0069 §5.1). */
export const FIRST_LPI = 8192;

export const ItsError = {
  deviceOutOfRange: 0x01_03_01,
  unmappedDevice: 0x01_03_04,
  eventOutOfRange: 0x01_03_05,
  unmappedInterrupt: 0x01_03_07,
  unmappedCollection: 0x01_03_09,
} as const;

export interface ItsConfig {
  readonly name: string;
  readonly base: number;
  /** GITS_TYPER.Devbits + 1: DeviceIDs the ITS accepts. */
  readonly deviceIdBits?: number;
  /** The root complex's RID → DeviceID map (IORT); identity by default. */
  readonly deviceIdOf?: (requesterId: number) => number;
}

interface ItsEventEntry {
  readonly lpi: number;
  readonly collection: number;
  readonly owner: string;
}

interface ItsDevice {
  /** EventIDs 0 .. 2^(Size+1) - 1 (MAPD Size field). */
  readonly events: number;
  readonly owner: string;
  readonly itt: Map<number, ItsEventEntry>;
}

export class ItsUsageError extends Error {
  readonly code = 'ITS_USAGE';
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

const RULE = {
  translated: 'GICv3 IHI 0069 §5.2: GITS_TRANSLATER write translated through the writer\'s DeviceID and its ITT',
  error: 'GICv3 IHI 0069 §5.2/§5.3: a GITS_TRANSLATER write that does not translate raises no LPI (dropped; reported only as an IMPLEMENTATION DEFINED SError)',
  notDoorbell: 'GICv3 IHI 0069: only GITS_TRANSLATER takes device writes in the translation frame; other accesses are Unsupported Requests',
} as const;

export class Gicv3Its implements AddressTarget {
  readonly name: string;
  readonly deliveries: InterruptDelivery[] = [];
  private readonly devices = new Map<number, ItsDevice>();
  private readonly collections = new Map<number, number>();
  private readonly deviceIdBits: number;
  private readonly deviceIdOf: (requesterId: number) => number;

  constructor(
    readonly config: ItsConfig,
    private readonly clock: { readonly now: number },
    private readonly trace: TraceWriter<InterruptEvent> = NO_TRACE,
  ) {
    this.name = config.name;
    this.deviceIdBits = config.deviceIdBits ?? 16;
    this.deviceIdOf = config.deviceIdOf ?? ((rid) => rid);
  }

  install(root: RootComplex): this {
    root.platform.add({ base: this.config.base, size: ITS_SIZE }, this);
    return this;
  }

  /** MAPD: gives a DeviceID an ITT of 2^(size+1) EventIDs. */
  mapDevice(deviceId: number, size: number, owner: string): void {
    if (deviceId >= 2 ** this.deviceIdBits) throw new ItsUsageError(`DeviceID ${deviceId} needs more than ${this.deviceIdBits} bits`);
    this.devices.set(deviceId, { events: 2 ** (size + 1), owner, itt: new Map() });
  }

  /** MAPTI: EventID → LPI in a collection. */
  mapEvent(deviceId: number, eventId: number, lpi: number, collection: number, owner?: string): void {
    const device = this.devices.get(deviceId);
    if (device === undefined) throw new ItsUsageError(`MAPTI for unmapped DeviceID ${deviceId}: issue MAPD first`);
    if (eventId >= device.events) throw new ItsUsageError(`EventID ${eventId} beyond the ITT of ${device.events}`);
    if (lpi < FIRST_LPI) throw new ItsUsageError(`LPI INTIDs start at ${FIRST_LPI}, got ${lpi}`);
    device.itt.set(eventId, { lpi, collection, owner: owner ?? device.owner });
  }

  /** MAPC: a collection's target PE. */
  mapCollection(collection: number, targetCpu: number): void {
    this.collections.set(collection, targetCpu);
  }

  accept(tlp: Tlp, address: number, root: RootComplex): void {
    if (tlp.type !== 'MemWr' || address !== this.config.base + GITS_TRANSLATER || (tlp.length !== 4 && tlp.length !== 2)) {
      return root.finish(tlp, 'unsupported-request', 'its.not-doorbell', RULE.notDoorbell);
    }
    const deviceId = this.deviceIdOf(tlp.requesterId);
    const eventId = tlp.length === 2 ? tlp.data & 0xffff : tlp.data >>> 0;
    if (deviceId >= 2 ** this.deviceIdBits) return this.fail(tlp, root, deviceId, eventId, ItsError.deviceOutOfRange, 'its.device-out-of-range', null);
    const device = this.devices.get(deviceId);
    if (device === undefined) return this.fail(tlp, root, deviceId, eventId, ItsError.unmappedDevice, 'its.unmapped-device', null);
    if (eventId >= device.events) return this.fail(tlp, root, deviceId, eventId, ItsError.eventOutOfRange, 'its.event-out-of-range', device.owner);
    const entry = device.itt.get(eventId);
    if (entry === undefined) return this.fail(tlp, root, deviceId, eventId, ItsError.unmappedInterrupt, 'its.unmapped-interrupt', device.owner);
    const cpu = this.collections.get(entry.collection);
    if (cpu === undefined) return this.fail(tlp, root, deviceId, eventId, ItsError.unmappedCollection, 'its.unmapped-collection', entry.owner);
    const record = interruptDelivery(tlp, this.clock.now, {
      controller: 'gicv3-its',
      path: 'lpi',
      vector: entry.lpi,
      destination: cpu,
      destinationMode: 'physical',
      deliveryMode: 'lpi',
      trigger: 'edge',
      irte: eventId,
      deviceId,
      postedDescriptor: null,
      entryOwner: entry.owner,
      receivers: [{ cpu, vector: entry.lpi, vectorOwner: entry.owner }],
      cpus: [cpu],
      stale: false,
    });
    this.deliveries.push(record);
    if (this.trace.enabled) {
      root.note(tlp, 'remap', RULE.translated, record.name);
      this.trace.emit({ type: 'its.translated', tlp: tlp.id, its: this.name, deviceId, eventId, lpi: entry.lpi, owner: entry.owner, code: null, reason: 'lpi' });
    }
    root.finish(tlp, 'delivered', 'interrupt.delivered', RULE.translated, record);
  }

  private fail(tlp: Tlp, root: RootComplex, deviceId: number, eventId: number, code: number, reason: string, owner: string | null): void {
    if (this.trace.enabled) {
      root.note(tlp, 'remap', RULE.error, `DeviceID ${formatRid(deviceId & 0xffff)} EventID ${eventId}: error 0x${code.toString(16).padStart(6, '0')}`);
      this.trace.emit({ type: 'its.error', tlp: tlp.id, its: this.name, deviceId, eventId, lpi: null, owner, code, reason });
    }
    root.finish(tlp, 'faulted', reason, RULE.error, null, code);
  }
}
