/**
 * Who owns each (CPU, vector) on an x86 host, and how Linux hands vectors
 * out (arch/x86/kernel/apic/vector.c on kernel/irq/matrix.c). Vectors
 * 0x00–0x1f are exceptions, 0x30–0x3f the legacy ISA IRQs
 * (ISA_IRQ_VECTOR(irq) = 0x30 + irq, assigned as system vectors on every
 * CPU), 0x80 IA32_SYSCALL_VECTOR and 0xec–0xff the system vectors from
 * LOCAL_TIMER_VECTOR up (arch/x86/include/asm/irq_vectors.h). Device vectors
 * come from [FIRST_EXTERNAL_VECTOR, FIRST_SYSTEM_VECTOR): the CPU with the
 * most free vectors (matrix_find_best_cpu), the lowest free vector there
 * (matrix_alloc_area). 0x20, IRQ_MOVE_CLEANUP_VECTOR in older kernels, is
 * left reserved.
 */

export const HOST = 'host';
const FIRST_DEVICE_VECTOR = 0x21;
const FIRST_SYSTEM_VECTOR = 0xec;

export interface VectorAssignment {
  readonly apicId: number;
  readonly vector: number;
}

export class VectorError extends Error {
  readonly code = 'VECTORS_EXHAUSTED';
}

export class VectorTable {
  private readonly owners: (string | null)[];
  private readonly devices: (string | null)[];
  private readonly allocated: number[];

  constructor(readonly cpus: number) {
    this.owners = new Array<string | null>(cpus * 256).fill(null);
    this.devices = new Array<string | null>(cpus * 256).fill(null);
    this.allocated = new Array<number>(cpus).fill(0);
    for (let cpu = 0; cpu < cpus; cpu++) {
      for (let v = 0; v < 0x21; v++) this.owners[cpu * 256 + v] = HOST;
      for (let v = 0x30; v <= 0x3f; v++) this.owners[cpu * 256 + v] = HOST;
      this.owners[cpu * 256 + 0x80] = HOST;
      for (let v = FIRST_SYSTEM_VECTOR; v <= 0xff; v++) this.owners[cpu * 256 + v] = HOST;
    }
  }

  /** The principal a vector on a CPU belongs to, or null when unassigned. */
  owner(apicId: number, vector: number): string | null {
    if (apicId < 0 || apicId >= this.cpus) return null;
    return this.owners[apicId * 256 + (vector & 0xff)]!;
  }

  /** The device whose interrupt the vector serves, if one was assigned. */
  device(apicId: number, vector: number): string | null {
    if (apicId < 0 || apicId >= this.cpus) return null;
    return this.devices[apicId * 256 + (vector & 0xff)]!;
  }

  /** Pins a vector to an owner (a scenario that names vectors). */
  assign(apicId: number, vector: number, owner: string, device: string | null = null): void {
    const at = apicId * 256 + (vector & 0xff);
    if (this.owners[at] === null) this.allocated[apicId]!++;
    this.owners[at] = owner;
    this.devices[at] = device;
  }

  /** Gives a device vector back (irq_matrix_free): nobody owns it until it is allocated again. */
  free(apicId: number, vector: number): void {
    const at = apicId * 256 + (vector & 0xff);
    if (apicId < 0 || apicId >= this.cpus || this.owners[at] === null) return;
    this.owners[at] = null;
    this.devices[at] = null;
    this.allocated[apicId]!--;
  }

  /** Allocates a device vector the way Linux's vector matrix does. */
  allocate(owner: string, device: string): VectorAssignment {
    let best = -1;
    for (let cpu = 0; cpu < this.cpus; cpu++) if (best < 0 || this.allocated[cpu]! < this.allocated[best]!) best = cpu;
    for (let v = FIRST_DEVICE_VECTOR; v < FIRST_SYSTEM_VECTOR; v++) {
      if (this.owners[best * 256 + v] !== null) continue;
      this.assign(best, v, owner, device);
      return { apicId: best, vector: v };
    }
    throw new VectorError(`no free device vector on CPU ${best}: every vector from 0x21 to 0xeb is taken`);
  }
}
