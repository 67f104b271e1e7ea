/** The endings interrupt hardware decides: deliveries, remapping faults and aborts, doorbell misuse. */
import { defineReasons, type ReasonInfo } from '../pcie/reasons.ts';
import { VTD_IR_FAULTS, formatFaultCode } from './vtd-faults.ts';

const vtdFaults: Record<string, Omit<ReasonInfo, 'code'>> = Object.fromEntries(
  Object.entries(VTD_IR_FAULTS).map(([code, fault]) => [fault.reason, { outcome: 'faulted', title: fault.description, source: `VT-d 5.10 §5.1.4.1 Table 15 (${formatFaultCode(Number(code))})` }]),
);

export const INTERRUPT_REASONS = defineReasons({
  'interrupt.delivered': { outcome: 'delivered', title: 'interrupt accepted by at least one CPU', source: 'Intel SDM Vol. 3A §11.11; VT-d 5.10 §5.1; AMD-Vi §2.2.5; GICv2m; GICv3 IHI 0069 §5.2' },
  'interrupt.not-a-write': { outcome: 'unsupported-request', title: 'a request other than a write to the interrupt window', source: 'VT-d 5.10 §3.14; Intel SDM Vol. 3A §11.11' },
  'interrupt.not-dword': { outcome: 'unsupported-request', title: 'a write to the interrupt window that is not one DWORD', source: 'VT-d 5.10 §5.1.4' },
  'lapic.illegal-vector': { outcome: 'blocked', title: 'fixed or lowest-priority interrupt with a vector below 16 (Received Illegal Vector)', source: 'Intel SDM Vol. 3A §11.5.3' },
  'lapic.no-destination': { outcome: 'blocked', title: 'no local APIC matches the destination', source: 'Intel SDM Vol. 3A §11.6.2' },
  'amdvi.nmi-not-passed': { outcome: 'blocked', title: 'NMI target aborted: DTE NMIPass clear', source: 'AMD IOMMU 48882 §2.2.5' },
  'amdvi.init-not-passed': { outcome: 'blocked', title: 'INIT target aborted: DTE INITPass clear', source: 'AMD IOMMU 48882 §2.2.5' },
  'amdvi.extint-not-passed': { outcome: 'blocked', title: 'ExtINT target aborted: DTE EIntPass clear', source: 'AMD IOMMU 48882 §2.2.5' },
  'amdvi.smi-not-passed': { outcome: 'blocked', title: 'SMI target aborted: DTE SysMgt does not forward it', source: 'AMD IOMMU 48882 §2.2.2.1' },
  'amdvi.reserved-type': { outcome: 'blocked', title: 'reserved MSI delivery mode target aborted', source: 'AMD IOMMU 48882 §2.2.5' },
  'amdvi.intctl-abort': { outcome: 'blocked', title: 'fixed/arbitrated interrupt target aborted: DTE IntCtl = 00b', source: 'AMD IOMMU 48882 §2.2.2.1' },
  'amdvi.illegal-dte': { outcome: 'faulted', title: 'reserved IntCtl or IntTabLen in the device table entry (ILLEGAL_DEV_TABLE_ENTRY)', source: 'AMD IOMMU 48882 §2.2.2.1' },
  'amdvi.index-out-of-range': { outcome: 'faulted', title: 'MSI data names an entry beyond the device\'s interrupt table (IO_PAGE_FAULT)', source: 'AMD IOMMU 48882 §2.2.5.1' },
  'amdvi.remap-disabled': { outcome: 'faulted', title: 'IRTE RemapEn = 0 (IO_PAGE_FAULT)', source: 'AMD IOMMU 48882 §2.2.5.1' },
  'amdvi.reserved-irte': { outcome: 'faulted', title: 'reserved IRTE contents (IO_PAGE_FAULT)', source: 'AMD IOMMU 48882 §2.2.5.1' },
  'gicv2m.not-doorbell': { outcome: 'unsupported-request', title: 'device access to a GICv2m frame other than MSI_SETSPI_NS', source: 'Arm SBSA GICv2m' },
  'gicv2m.spi-out-of-range': { outcome: 'blocked', title: 'SPI outside the frame\'s MSI_TYPER range: write ignored', source: 'Arm SBSA GICv2m; QEMU hw/intc/arm_gicv2m.c' },
  'its.not-doorbell': { outcome: 'unsupported-request', title: 'device access to the ITS translation frame other than GITS_TRANSLATER', source: 'Arm GICv3 IHI 0069' },
  'its.device-out-of-range': { outcome: 'faulted', title: 'DeviceID beyond the ITS\'s DeviceID bits', source: 'Arm GICv3 IHI 0069 §5.3 (error 0x010301)' },
  'its.unmapped-device': { outcome: 'faulted', title: 'DeviceID with no device table entry', source: 'Arm GICv3 IHI 0069 §5.3 (error 0x010304)' },
  'its.event-out-of-range': { outcome: 'faulted', title: 'EventID beyond the device\'s ITT', source: 'Arm GICv3 IHI 0069 §5.3 (error 0x010305)' },
  'its.unmapped-interrupt': { outcome: 'faulted', title: 'EventID not mapped to an LPI', source: 'Arm GICv3 IHI 0069 §5.3 (error 0x010307)' },
  'its.unmapped-collection': { outcome: 'faulted', title: 'LPI\'s collection not mapped to a CPU', source: 'Arm GICv3 IHI 0069 §5.3 (error 0x010309)' },
  ...vtdFaults,
});
