/**
 * Semantic pass over hand-written interrupt state: IRTEs (`machine.irtes`,
 * and the `irte-write` step) in remapped or posted format (VT-d §9.10,
 * §9.11), and the Posted Interrupt Descriptors of virtual CPUs (§9.12).
 */
import { requesterId } from '../pcie/bdf.ts';
import type { PostedDescriptorSpec } from '../interrupts/vtd-posted.ts';
import type { Checker } from './checker.ts';
import type { IrteSpec } from './model.ts';
import type { IrteEntry, ScenarioFile } from './schema.ts';
import type { Path } from './source.ts';

export interface IrteContext {
  /** Entries in the table (IRTA.S). */
  readonly tableSize: number;
  readonly descriptors: readonly PostedDescriptorSpec[];
}

export function normalizePostedDescriptors(entry: ScenarioFile['machine'], check: Checker, principals: Set<string>): PostedDescriptorSpec[] {
  return (entry['posted-descriptors'] ?? []).map((d, i) => {
    const path: Path = ['machine', 'posted-descriptors', i];
    const address = check.quantity(d.at, [...path, 'at'], 'descriptor address');
    if (address % 64 !== 0) check.error([...path, 'at'], `a Posted Interrupt Descriptor is 64-byte aligned (VT-d §9.12), not at 0x${address.toString(16)}`, 'bad-descriptor');
    principals.add(d.owner);
    return {
      address,
      name: d.name,
      owner: d.owner,
      ...(d.cpu === undefined ? {} : { notifyDestination: d.cpu }),
      ...(d.suppressed === undefined ? {} : { suppressed: d.suppressed }),
    };
  });
}

export function normalizeIrte(irte: IrteEntry, path: Path, ctx: IrteContext, check: Checker, principals: Set<string> | ReadonlySet<string>): IrteSpec {
  const tableSize = ctx.tableSize;
  if (irte.index < 0 || irte.index >= tableSize) check.error([...path, 'index'], `IRTE index ${irte.index} lies outside the ${tableSize}-entry table`, 'bad-irte');
  if (irte.svt !== undefined && (irte.svt < 0 || irte.svt > 3)) check.error([...path, 'svt'], `SVT is a 2-bit field (0..3), not ${irte.svt}`, 'bad-irte');
  if (irte.sq !== undefined && (irte.sq < 0 || irte.sq > 3)) check.error([...path, 'sq'], `SQ is a 2-bit field (0..3), not ${irte.sq}`, 'bad-irte');
  let sid: number | null = null;
  if (typeof irte.sid === 'number') sid = irte.sid;
  else if (irte.sid !== undefined) {
    const bdf = check.bdf(irte.sid, [...path, 'sid']);
    sid = bdf === undefined ? null : requesterId(bdf.bus, bdf.device, bdf.fn);
  }
  if (irte.owner !== undefined) {
    if (principals instanceof Set) principals.add(irte.owner);
    else check.known(irte.owner, principals, [...path, 'owner'], 'principal');
  }
  let posted: IrteSpec['posted'] = null;
  if (irte.posted !== undefined) {
    const named = typeof irte.posted.descriptor === 'string' ? ctx.descriptors.find((d) => d.name === irte.posted!.descriptor) : undefined;
    const descriptor = named?.address ?? check.quantity(irte.posted.descriptor, [...path, 'posted', 'descriptor'], 'descriptor (a posted-descriptors name or an address)');
    if (descriptor % 64 !== 0) check.error([...path, 'posted', 'descriptor'], `the PDA is 64-byte aligned (VT-d §9.11), not 0x${descriptor.toString(16)}`, 'bad-irte');
    if (irte.destination !== undefined) check.error([...path, 'destination'], `a posted-format IRTE has no destination: the descriptor's NDST is notified (VT-d §9.11)`, 'bad-irte');
    posted = { descriptor, urgent: irte.posted.urgent ?? false };
  }
  return {
    index: irte.index,
    present: irte.present ?? true,
    vector: irte.vector ?? 0,
    destination: irte.destination ?? 0,
    svt: irte.svt ?? null,
    sq: irte.sq ?? null,
    sid,
    fpd: irte.fpd ?? false,
    owner: irte.owner ?? null,
    posted,
  };
}
