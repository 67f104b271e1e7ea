/**
 * VT-d posted interrupts (VT-d spec §5.2, §9.11 IRTE for Posted Interrupts,
 * §9.12 Posted Interrupt Descriptor): an IRTE in posted format (IM=1) names
 * a 64-byte Posted Interrupt Descriptor (PDA) owned by one virtual CPU; the
 * hardware sets the vector's bit in the descriptor's Posted Interrupt
 * Requests (PIR) and, when Outstanding Notification (ON) was clear and
 * notifications are not suppressed (SN clear, or the IRTE is urgent),
 * sets ON and sends the Notification Vector (NV) to the physical CPU in
 * NDST (§5.2.3 "Interrupt-Posting Hardware Operation"). The interrupt is
 * the descriptor owner's: KVM allocates one descriptor per vCPU
 * (vmx/posted_intr.c, struct pi_desc) and Linux programs IM=1 IRTEs for
 * assigned devices (intel_ir_set_vcpu_affinity → modify_irte).
 */

/** Linux POSTED_INTR_VECTOR (arch/x86/include/asm/irq_vectors.h): the host's notification vector. */
export const POSTED_INTR_VECTOR = 0xf2;

export interface PostedDescriptorSpec {
  /** 64-byte aligned host-physical address (§9.12). */
  readonly address: number;
  readonly name: string;
  /** The principal whose virtual CPU the descriptor serves. */
  readonly owner: string;
  /** NDST: the physical CPU notified (APIC ID). */
  readonly notifyDestination?: number;
  /** NV: the notification vector; default Linux's POSTED_INTR_VECTOR. */
  readonly notificationVector?: number;
  /** SN: notifications suppressed (the vCPU is not running). */
  readonly suppressed?: boolean;
}

export interface PostedDescriptor extends Required<PostedDescriptorSpec> {
  /** PIR bits set, by vector. */
  readonly pir: Set<number>;
  /** ON: a notification is outstanding. */
  on: boolean;
}

/** What posting did: the descriptor (null when the PDA names none) and the notification it sent, if any. */
export interface PostingResult {
  readonly descriptor: PostedDescriptor | null;
  readonly notified: { readonly vector: number; readonly destination: number } | null;
}

export class PostedDescriptors {
  private readonly byAddress = new Map<number, PostedDescriptor>();

  add(spec: PostedDescriptorSpec): PostedDescriptor {
    if (spec.address % 64 !== 0) throw new RangeError(`a Posted Interrupt Descriptor is 64-byte aligned (VT-d §9.12), not at 0x${spec.address.toString(16)}`);
    const descriptor: PostedDescriptor = {
      notifyDestination: 0,
      notificationVector: POSTED_INTR_VECTOR,
      suppressed: false,
      ...spec,
      pir: new Set(),
      on: false,
    };
    this.byAddress.set(spec.address, descriptor);
    return descriptor;
  }

  at(address: number): PostedDescriptor | undefined {
    return this.byAddress.get(address);
  }

  /** §5.2.3: record `vector` in the descriptor at `address`; notify unless ON was set or SN suppresses a non-urgent one. */
  post(address: number, vector: number, urgent: boolean): PostingResult {
    const descriptor = this.byAddress.get(address) ?? null;
    if (descriptor === null) return { descriptor, notified: null };
    descriptor.pir.add(vector);
    if (descriptor.on || (descriptor.suppressed && !urgent)) return { descriptor, notified: null };
    descriptor.on = true;
    return { descriptor, notified: { vector: descriptor.notificationVector, destination: descriptor.notifyDestination } };
  }
}
