/** The IOMMU layer's public surface. */
export { Iommu, attachDevice, type AttachOptions, type IommuContext } from './iommu.ts';
export {
  AMD_HT_RESERVED,
  DEFAULT_IOMMU,
  INTERRUPT_WINDOW,
  IOMMU_MODELS,
  IommuError,
  MSI_IOVA_BASE,
  PAGE_SIZE,
  resolveIommuConfig,
  type IommuConfig,
  type IommuConfigInput,
  type IommuModel,
  type InvalidationPolicy,
} from './config.ts';
export { DOMAIN_MODES, Domain, pageSpan, type DomainMode, type DomainOptions, type MappedBuffer, type PageMapping, type Perm } from './domain.ts';
export { faultSpec, type FaultCondition, type FaultRecord, type FaultSpec, type IommuAccess } from './faults.ts';
export { Atc, isAtsCompletion, isAtsInvalidate, requestTranslation, type AtcEntry, type AtsInvalidateRequest, type AtsTranslationCompletion } from './ats.ts';
export { Iotlb, type IotlbEntry } from './iotlb.ts';
export { FlushQueue, type FlushTrigger } from './flush-queue.ts';
export { PROFILES, type ModelProfile } from './models.ts';
export type { IommuEvent, TranslationSource } from './events.ts';
export { dmaAliases, arrivingRequesterId } from '../fabric/aliases.ts';
