/**
 * VT-d interrupt-remapping fault reasons 20h–26h (VT-d spec §5.1.4.1
 * "Interrupt Remapping Fault Conditions"; the same codes as QEMU's
 * VTD_FR_IR_* and VirtualBox's VTDIRFAULT_*, described as Linux's
 * drivers/iommu/intel/dmar.c irq_remap_fault_reasons[] prints them).
 * "Qualified" faults are the ones an IRTE's FPD bit can silence; the others
 * are recorded whatever the entry says (VirtualBox vtdIrFaultIsQualified).
 */

export const VtdIrFault = {
  /** Reserved fields set in a remappable-format request. */
  reservedRequest: 0x20,
  /** interrupt_index beyond the table size programmed in IRTA.S. */
  indexOutOfRange: 0x21,
  /** IRTE Present bit clear. */
  notPresent: 0x22,
  /** The IRT read through IRTA failed. */
  tableAccess: 0x23,
  /** Reserved (or wrongly programmed conditionally reserved) IRTE fields with P set. */
  reservedIrte: 0x24,
  /** Compatibility-format request blocked: EIME set or CFIS clear. */
  compatBlocked: 0x25,
  /** Source-ID check against SID/SQ/SVT failed. */
  sourceId: 0x26,
} as const;

export type VtdIrFaultCode = (typeof VtdIrFault)[keyof typeof VtdIrFault];

export interface FaultReason {
  /** Stable reason code used as the TLP's ending reason. */
  readonly reason: string;
  readonly qualified: boolean;
  readonly description: string;
}

export const VTD_IR_FAULTS: Readonly<Record<VtdIrFaultCode, FaultReason>> = {
  0x20: { reason: 'ir.reserved-request', qualified: false, description: 'Detected reserved fields in the decoded interrupt-remapped request' },
  0x21: { reason: 'ir.index-out-of-range', qualified: false, description: 'Interrupt index exceeded the interrupt-remapping table size' },
  0x22: { reason: 'ir.not-present', qualified: true, description: 'Present field in the IRTE entry is clear' },
  0x23: { reason: 'ir.table-access', qualified: false, description: 'Error accessing interrupt-remapping table pointed by IRTA_REG' },
  0x24: { reason: 'ir.reserved-irte', qualified: true, description: 'Detected reserved fields in the IRTE entry' },
  0x25: { reason: 'ir.compat-blocked', qualified: false, description: 'Blocked a compatibility format interrupt request' },
  0x26: { reason: 'ir.source-id', qualified: true, description: 'Blocked an interrupt request due to source-id verification failure' },
};

export function formatFaultCode(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

export interface IrFaultRecord {
  readonly code: VtdIrFaultCode;
  readonly reason: string;
  /** Source-id of the request (the requester ID on the wire). */
  readonly requesterId: number;
  /** interrupt_index, when the fault was found after computing it. */
  readonly index: number | null;
  readonly time: number;
  readonly tlp: number;
}

/**
 * The fault log (VT-d §7: fault recording registers). Unbounded here: the
 * hardware's fault-overflow behaviour (FSTS.PFO) is not modelled.
 */
export class IrFaultLog {
  readonly records: IrFaultRecord[] = [];
  /** Qualified faults not recorded because the IRTE had FPD set. */
  suppressed = 0;

  /** Records the fault unless it is qualified and FPD is set; returns whether it was recorded. */
  report(code: VtdIrFaultCode, requesterId: number, index: number | null, time: number, tlp: number, fpd: boolean): boolean {
    const fault = VTD_IR_FAULTS[code];
    if (fault.qualified && fpd) {
      this.suppressed++;
      return false;
    }
    this.records.push({ code, reason: fault.reason, requesterId, index, time, tlp });
    return true;
  }
}
