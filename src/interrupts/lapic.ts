/**
 * CPUs and their local APICs (Intel SDM Vol. 3A ch. 11), as far as MSI
 * delivery needs them: which APICs a message's destination selects, and
 * what each APIC records. Destination decode: §11.6.2 (physical and logical
 * mode), §11.12.10 (x2APIC logical IDs), §11.11.1 (RH/DM in MSI addresses).
 */
import type { InterruptAttributes } from './x86-msi.ts';
import { DeliveryModeCode } from './x86-msi.ts';

export interface ReceivedInterrupt {
  readonly vector: number;
  readonly deliveryMode: number;
  readonly level: boolean;
  readonly requesterId: number;
  readonly time: number;
  /** Trace id of the TLP that carried it. */
  readonly tlp: number;
}

export interface ApicError {
  /** SDM §11.5.3: ESR bit 6, Received Illegal Vector. */
  readonly kind: 'received-illegal-vector';
  readonly vector: number;
  readonly time: number;
  readonly tlp: number;
}

export class LocalApic {
  readonly received: ReceivedInterrupt[] = [];
  readonly errors: ApicError[] = [];

  constructor(
    /** Physical APIC ID (x2APIC ID in x2APIC mode). */
    readonly apicId: number,
  ) {}

  /**
   * xAPIC flat-model logical ID (LDR bits 31:24): Linux's flat APIC driver
   * gives CPU n the bit 1 << n (arch/x86/kernel/apic/apic_flat_64.c), only
   * for the first eight CPUs.
   */
  get flatLogicalId(): number {
    return this.apicId < 8 ? 1 << this.apicId : 0;
  }

  /**
   * xAPIC cluster-model logical ID (SDM §11.6.2.2, DFR model 0000b): cluster
   * address in LDR bits 31:28 (MDA 7:4), one of four APICs in bits 27:24 (MDA
   * 3:0); here APIC ID n is in cluster n >> 2 as bit n & 3, fifteen clusters.
   */
  get clusterLogicalId(): number {
    return this.apicId < 60 ? ((this.apicId >>> 2) << 4) | (1 << (this.apicId & 3)) : 0;
  }

  /** x2APIC logical ID (SDM §11.12.10.2): cluster ID[19:4] in bits 31:16, 1 << ID[3:0] in bits 15:0. */
  get x2apicLogicalId(): number {
    return ((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf));
  }
}

export class Cpus {
  readonly apics: LocalApic[];

  constructor(
    count: number,
    /** x2APIC mode: 32-bit destinations and cluster logical IDs. */
    public x2apic = false,
    /** xAPIC Destination Format Register model (SDM §11.6.2.2): flat (Linux apic_flat) or cluster. */
    public logicalModel: 'flat' | 'cluster' = 'flat',
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a machine needs at least one CPU, got ${count}`);
    this.apics = Array.from({ length: count }, (_, id) => new LocalApic(id));
  }

  get count(): number {
    return this.apics.length;
  }

  /**
   * Clears `out` and fills it with the APIC IDs the interrupt selects:
   * physical (the APIC with that ID; all-ones broadcasts, §11.6.2.1 and
   * §11.12.9), logical flat (the bitmap of LDRs), logical cluster (cluster
   * address and bitmap; cluster Fh broadcasts, §11.6.2.2), x2APIC logical
   * (cluster in 31:16, bitmap in 15:0; all-ones broadcasts, §11.12.10.2).
   * Lowest-priority delivery, and RH=1 with logical destination mode
   * (§11.11.1), pick one APIC of the set: with every TPR equal we take the
   * lowest APIC ID, a fixed choice where hardware arbitrates.
   */
  resolve(attrs: InterruptAttributes, out: number[]): number[] {
    out.length = 0;
    const dest = attrs.destination >>> 0;
    const broadcast = this.x2apic ? 0xffff_ffff : 0xff;
    for (const apic of this.apics) {
      let hit: boolean;
      if (dest === broadcast) hit = true;
      else if (attrs.destinationMode === 'physical') hit = apic.apicId === dest;
      else if (this.x2apic) hit = dest >>> 16 === apic.x2apicLogicalId >>> 16 && (dest & apic.x2apicLogicalId & 0xffff) !== 0;
      else if (this.logicalModel === 'cluster') {
        const ldr = apic.clusterLogicalId;
        hit = ((dest >>> 4) === 0xf || dest >>> 4 === ldr >>> 4) && (dest & ldr & 0xf) !== 0;
      } else hit = (dest & apic.flatLogicalId) !== 0;
      if (hit) out.push(apic.apicId);
    }
    const single = attrs.deliveryMode === DeliveryModeCode.lowestPriority || (attrs.redirectionHint && attrs.destinationMode === 'logical');
    if (single && out.length > 1) out.length = 1;
    return out;
  }

  /**
   * Delivers to the selected APICs; returns the APIC IDs that accepted it.
   * SDM §11.5.3: a fixed or lowest-priority message with a vector below 16
   * is refused (Received Illegal Vector) and recorded as an APIC error.
   */
  deliver(attrs: InterruptAttributes, requesterId: number, time: number, tlp: number, scratch: number[]): number[] {
    this.resolve(attrs, scratch);
    const fixedLike = attrs.deliveryMode === DeliveryModeCode.fixed || attrs.deliveryMode === DeliveryModeCode.lowestPriority;
    const accepted: number[] = [];
    for (const id of scratch) {
      const apic = this.apics[id]!;
      if (fixedLike && attrs.vector < 16) {
        apic.errors.push({ kind: 'received-illegal-vector', vector: attrs.vector, time, tlp });
        continue;
      }
      apic.received.push({ vector: attrs.vector, deliveryMode: attrs.deliveryMode, level: attrs.trigger === 'level', requesterId, time, tlp });
      accepted.push(id);
    }
    return accepted;
  }
}
