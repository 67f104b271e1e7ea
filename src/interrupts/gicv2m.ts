/**
 * An ARM GICv2m MSI frame (Arm Server Base System Architecture, DEN0029,
 * GICv2m appendix; Linux drivers/irqchip/irq-gic-v2m.c): a 4 KiB frame whose
 * MSI_TYPER (0x008) gives the frame's first SPI (bits 25:16) and count
 * (bits 9:0), and whose doorbell MSI_SETSPI_NS (0x040) raises the SPI whose
 * INTID is written. The frame sees no device identity, so any writer can
 * raise any SPI of the frame: isolation needs one frame per security domain,
 * and VFIO treats MSI through it as unsafe (allow_unsafe_interrupts; Eric
 * Auger, "KVM PCIe/MSI Passthrough on ARM/ARM64", Linaro, 2016).
 */
import { formatRid } from '../pcie/bdf.ts';
import type { Tlp } from '../pcie/tlp.ts';
import type { TraceWriter } from '../fabric/events.ts';
import type { AddressTarget, RootComplex } from '../fabric/root-complex.ts';
import './reasons.ts';
import { interruptDelivery, type InterruptDelivery } from './delivery.ts';
import type { InterruptEvent } from './events.ts';

export const GICV2M_FRAME_SIZE = 0x1000;
export const MSI_TYPER = 0x008;
export const MSI_SETSPI_NS = 0x040;

export interface Gicv2mFrameConfig {
  readonly name: string;
  readonly base: number;
  /** First SPI INTID of the frame (MSI_TYPER bits 25:16; SPIs are INTIDs 32–1019). */
  readonly spiBase: number;
  /** SPIs in the frame (MSI_TYPER bits 9:0). */
  readonly spiCount: number;
}

interface SpiAssignment {
  readonly owner: string;
  readonly device: string | null;
  readonly targetCpu: number;
}

export class Gicv2mError extends Error {
  readonly code = 'GICV2M_USAGE';
}

const NO_TRACE: TraceWriter<InterruptEvent> = { enabled: false, emit: () => 0 };

const RULE = {
  spi: 'SBSA GICv2m: a write of an SPI number to MSI_SETSPI_NS raises that SPI; the frame does not see who wrote it',
  outOfRange: 'SBSA GICv2m: the SPI written is not one of the frame\'s MSI_TYPER range; the write is ignored (QEMU hw/intc/arm_gicv2m.c)',
  notDoorbell: 'SBSA GICv2m: only MSI_SETSPI_NS takes MSI writes; other accesses to the frame from a device are Unsupported Requests',
} as const;

export class Gicv2mFrame implements AddressTarget {
  readonly name: string;
  readonly deliveries: InterruptDelivery[] = [];
  private readonly spis = new Map<number, SpiAssignment>();

  constructor(
    readonly config: Gicv2mFrameConfig,
    private readonly clock: { readonly now: number },
    private readonly trace: TraceWriter<InterruptEvent> = NO_TRACE,
  ) {
    const last = config.spiBase + config.spiCount - 1;
    if (config.spiCount < 1 || config.spiCount > 0x3ff || config.spiBase < 32 || last > 1019) {
      throw new Gicv2mError(`GICv2m frame '${config.name}': SPIs ${config.spiBase}..${last} must lie within INTIDs 32..1019`);
    }
    this.name = config.name;
  }

  /** MSI_TYPER as software reads it. */
  get typer(): number {
    return ((this.config.spiBase & 0x3ff) << 16) | (this.config.spiCount & 0x3ff);
  }

  install(root: RootComplex): this {
    root.platform.add({ base: this.config.base, size: GICV2M_FRAME_SIZE }, this);
    return this;
  }

  /** Gives an SPI of the frame to a device (Linux gicv2m_irq_domain_alloc hands them out first-fit). */
  assignSpi(spi: number, owner: string, device: string | null = null, targetCpu = 0): void {
    if (!this.inRange(spi)) throw new Gicv2mError(`SPI ${spi} is not in frame '${this.name}'`);
    this.spis.set(spi, { owner, device, targetCpu });
  }

  /**
   * The first free aligned block of `count` SPIs (a power of two, for
   * multi-message MSI), as Linux gicv2m_irq_domain_alloc takes it with
   * bitmap_find_free_region; the MSI is (frame + MSI_SETSPI_NS, first INTID).
   */
  allocateSpis(count: number, owner: string, device: string): { spi: number; address: number; data: number } {
    const block = count <= 1 ? 1 : 2 ** Math.ceil(Math.log2(count));
    for (let offset = 0; offset + block <= this.config.spiCount; offset += block) {
      const first = this.config.spiBase + offset;
      let free = true;
      for (let spi = first; spi < first + block && free; spi++) free = !this.spis.has(spi);
      if (!free) continue;
      for (let spi = first; spi < first + block; spi++) this.assignSpi(spi, owner, device);
      return { spi: first, address: this.config.base + MSI_SETSPI_NS, data: first };
    }
    throw new Gicv2mError(`GICv2m frame '${this.name}' has no free block of ${block} SPIs`);
  }

  allocateSpi(owner: string, device: string): { spi: number; address: number; data: number } {
    return this.allocateSpis(1, owner, device);
  }

  owner(spi: number): string | null {
    return this.spis.get(spi)?.owner ?? null;
  }

  accept(tlp: Tlp, address: number, root: RootComplex): void {
    if (tlp.type !== 'MemWr' || address !== this.config.base + MSI_SETSPI_NS || (tlp.length !== 4 && tlp.length !== 2)) {
      return root.finish(tlp, 'unsupported-request', 'gicv2m.not-doorbell', RULE.notDoorbell);
    }
    const spi = tlp.data & 0x3ff;
    const assignment = this.spis.get(spi);
    const owner = assignment?.owner ?? null;
    if (!this.inRange(spi)) {
      if (this.trace.enabled) this.trace.emit({ type: 'gicv2m.dropped', tlp: tlp.id, frame: this.name, spi, owner: null, requester: formatRid(tlp.requesterId) });
      return root.finish(tlp, 'blocked', 'gicv2m.spi-out-of-range', RULE.outOfRange);
    }
    const cpu = assignment?.targetCpu ?? 0;
    const record = interruptDelivery(tlp, this.clock.now, {
      controller: 'gicv2m',
      path: 'spi',
      vector: spi,
      destination: cpu,
      destinationMode: 'physical',
      deliveryMode: 'spi',
      trigger: 'edge',
      irte: null,
      deviceId: null,
      postedDescriptor: null,
      entryOwner: owner,
      receivers: [{ cpu, vector: spi, vectorOwner: owner }],
      cpus: [cpu],
      stale: false,
    });
    this.deliveries.push(record);
    if (this.trace.enabled) {
      root.note(tlp, 'remap', RULE.spi, record.name);
      this.trace.emit({ type: 'gicv2m.spi', tlp: tlp.id, frame: this.name, spi, owner, requester: formatRid(tlp.requesterId) });
    }
    root.finish(tlp, 'delivered', 'interrupt.delivered', RULE.spi, record);
  }

  private inRange(spi: number): boolean {
    return spi >= this.config.spiBase && spi < this.config.spiBase + this.config.spiCount;
  }
}
