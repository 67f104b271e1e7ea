/**
 * `tlplab groups <lspci dump>`: IOMMU groups as Linux would form them, in the
 * kernel's sysfs layout, by the classic and/or the per-bus algorithm, and
 * optionally compared with a real kernel listing (`--compare`).
 */
import { readFileSync } from 'node:fs';
import { parseGroupListing, listingPartition, type GroupListing } from '../../import/groups/listing.ts';
import { topologyFromLspci } from '../../import/lspci/to-topology.ts';
import { readSysfs } from '../../import/sysfs/read.ts';
import { diffPartitions, isSamePartition, type PartitionDiff } from '../../policy/group-diff.ts';
import type { GroupResult } from '../../policy/group-result.ts';
import { classicGroups } from '../../policy/groups-classic.ts';
import { perBusGroups } from '../../policy/groups-per-bus.ts';
import { applyConfigAcs, parseAcsOverride, parseConfigAcs, type KernelModel } from '../../policy/kernel-options.ts';
import { appliedQuirks, explainClassicGroups } from '../../policy/group-why.ts';
import { diffKernels, type KernelDiff } from '../../policy/kernel-diff.ts';
import { parseKernelVersion } from '../../policy/kernel-version.ts';
import type { PciTopology } from '../../policy/pci-topology.ts';
import { scenarioTopology } from '../../scenario/group-input.ts';
import { acsOverrideOf, inFile, readMachine } from './audit.ts';
import { ExitCode, UsageError } from '../exit.ts';
import { variantFilter } from '../options.ts';
import type { Io } from '../io.ts';
import { jsonTarget } from './explain.ts';

export interface GroupsOptions {
  readonly path?: string;
  /** A second version after --diff-kernel A (groups --diff-kernel A B). */
  readonly rest?: readonly string[];
  readonly sysfs?: unknown;
  readonly why?: boolean;
  readonly kernel?: unknown;
  readonly diffKernel?: unknown;
  readonly algorithm?: unknown;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
  readonly force?: unknown;
  readonly compare?: unknown;
  readonly acsOverride?: unknown;
  readonly variant?: unknown;
  readonly configAcs?: unknown;
}

const ALGORITHMS = ['classic', 'per-bus', 'both'] as const;

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} '${path}': ${(error as Error).message}`, 'FILE');
  }
}

const partitionOf = (r: GroupResult) => r.groups.map((g) => [...g.devices]);

interface GroupInput {
  readonly topology: PciTopology;
  readonly acsOverride: string | undefined;
  /** The running kernel's groups (sysfs input). */
  readonly live: GroupListing | null;
  readonly release: string | undefined;
}

function groupInput(io: Io, options: GroupsOptions, json: boolean): GroupInput {
  const acsOverride = options.acsOverride === undefined ? undefined : String(options.acsOverride);
  if (options.sysfs !== undefined && options.sysfs !== false) {
    const root = typeof options.sysfs === 'string' ? options.sysfs : (options.path ?? '/sys');
    const live = inFile(root, () => readSysfs(root));
    return { topology: topologyFromLspci(live.dump).topology, acsOverride: acsOverride ?? acsOverrideOf(live.cmdline), live: live.groups.size > 0 ? live.groups : null, release: live.release ?? undefined };
  }
  if (options.path === undefined) throw new UsageError('give a scenario, an lspci dump, or --sysfs [/sys]');
  if (/\.ya?ml$/i.test(options.path)) {
    const scenario = scenarioTopology(options.path, variantFilter(options.variant));
    if (!json) io.out(`# ${options.path}, variant ${scenario.variant}`);
    return { topology: scenario.topology, acsOverride: acsOverride ?? (scenario.acsOverride || undefined), live: null, release: undefined };
  }
  return { topology: topologyFromLspci(readMachine(options.path, undefined).dump).topology, acsOverride, live: null, release: undefined };
}

/** --kernel VERSION, else (sysfs) the running release, else the newest table. */
function kernelOf(options: GroupsOptions, input: GroupInput): KernelModel {
  const version = options.kernel !== undefined ? String(options.kernel) : input.release;
  return {
    ...(input.acsOverride === undefined ? {} : { acsOverride: parseAcsOverride(input.acsOverride) }),
    ...(version === undefined ? {} : { version: parseKernelVersion(version) }),
  };
}

export function runGroups(io: Io, options: GroupsOptions): number {
  const algorithm = String(options.algorithm ?? 'classic');
  if (!(ALGORITHMS as readonly string[]).includes(algorithm)) throw new UsageError(`--algorithm must be classic, per-bus or both, got '${algorithm}'`);
  const json = jsonTarget(io, options, [...(options.path === undefined ? [] : [options.path]), ...(options.compare === undefined ? [] : [String(options.compare)])]);
  const input = groupInput(io, options, json !== null);
  let topology = input.topology;
  const kernel = kernelOf(options, input);
  if (options.configAcs !== undefined) topology = applyConfigAcs(topology, parseConfigAcs(String(options.configAcs)));
  if (options.diffKernel !== undefined) return runDiffKernel(io, options, topology, kernel, json);

  const results: GroupResult[] = [];
  if (algorithm !== 'per-bus') results.push(classicGroups(topology, kernel));
  if (algorithm !== 'classic') results.push(perBusGroups(topology, kernel));
  const algorithmDiff = results.length === 2 ? diffPartitions(partitionOf(results[0]!), partitionOf(results[1]!)) : undefined;
  const classic = results.find((r) => r.algorithm === 'classic');
  const why = options.why && classic ? explainClassicGroups(topology, kernel, classic) : [];
  const quirks = options.why ? appliedQuirks(topology, kernel) : [];

  let comparisons: { algorithm: string; diff: PartitionDiff }[] = [];
  const listing = options.compare !== undefined ? inFile(String(options.compare), () => parseGroupListing(readInput(String(options.compare), 'group listing'))) : input.live;
  if (listing !== null) comparisons = results.map((r) => ({ algorithm: r.algorithm, diff: diffPartitions(partitionOf(r), listingPartition(listing)) }));

  if (json) {
    const [first] = results;
    json({
      schema: 'tlplab/groups-v1',
      algorithm,
      kernel: kernel.version?.text ?? null,
      groups: first!.groups,
      unknown: first!.unknown,
      ...(results.length === 2 ? { perBus: { groups: results[1]!.groups, unknown: results[1]!.unknown }, diff: algorithmDiff } : {}),
      ...(comparisons.length > 0 ? { compare: comparisons } : {}),
      ...(options.why ? { why, quirks } : {}),
    });
  } else {
    for (const result of results) printResult(io, result, result.algorithm === 'classic' ? why : []);
    if (quirks.length > 0) io.out(['# quirks that decided ACS on this machine:', ...quirks.map((q) => `#   ${q}`)].join('\n'));
    if (algorithmDiff) printAlgorithmDiff(io, algorithmDiff);
    for (const c of comparisons) printComparison(io, c.algorithm, c.diff);
  }
  return comparisons.some((c) => !isSamePartition(c.diff)) ? ExitCode.expectationFailed : ExitCode.ok;
}

function runDiffKernel(io: Io, options: GroupsOptions, topology: PciTopology, kernel: KernelModel, json: ((document: unknown) => void) | null): number {
  const text = String(options.diffKernel);
  const [a, b] = text.includes(',') ? text.split(',') : text.includes('..') ? text.split('..') : [text, options.rest?.[0]];
  if (a === undefined || b === undefined || a === '' || b === '') throw new UsageError('--diff-kernel needs two versions: --diff-kernel 5.8 5.9 (or 5.8,5.9)');
  const diff = diffKernels(topology, { ...kernel, version: parseKernelVersion(a) }, { ...kernel, version: parseKernelVersion(b) });
  if (json) json({ schema: 'tlplab/groups-kernel-diff-v1', ...diff });
  else printKernelDiff(io, diff);
  return ExitCode.ok;
}

function printKernelDiff(io: Io, diff: KernelDiff): void {
  if (diff.changes.length === 0) io.out(`# Linux ${diff.a} and ${diff.b} form the same groups on this machine`);
  else io.out(`# Linux ${diff.a} → ${diff.b}: ${diff.changes.length} change(s)`);
  for (const c of diff.changes) {
    io.out(`#   ${c.before.map((g) => `{${g.join(' ')}}`).join(' ')} → ${c.after.map((g) => `{${g.join(' ')}}`).join(' ')}`);
    for (const r of c.reasons) io.out(`#     because ${r}`);
    if (c.reasons.length === 0) io.out('#     (no ACS answer differs on their paths: the change follows from the groups around them)');
  }
  for (const u of diff.unknown) io.out(`#   unknown: ${u.device}: ${u.reason}`);
}

function printResult(io: Io, result: GroupResult, why: readonly { id: number; why: readonly string[] }[]): void {
  io.out(`# ${result.algorithm === 'classic' ? 'classic pci_device_group() (every release, 3.6 to 6.19)' : 'per-bus isolation ("Fix incorrect iommu_groups with PCIe ACS", 2025; in no release up to 6.19)'}`);
  const whyOf = new Map(why.map((w) => [w.id, w.why]));
  for (const group of result.groups) {
    for (const device of group.devices) io.out(`/sys/kernel/iommu_groups/${group.id}/devices/${device}`);
    for (const fact of whyOf.get(group.id) ?? []) io.out(`#   why: ${fact}`);
  }
  if (result.unknown.length > 0) {
    io.out(`# unknown: ${result.unknown.length} device(s) whose group depends on facts the dump does not show (lspci without root prints 'Capabilities: <access denied>')`);
    for (const u of result.unknown) io.out(`#   ${u.device}: ${u.reason}`);
  }
}

function printAlgorithmDiff(io: Io, diff: PartitionDiff): void {
  if (isSamePartition(diff)) {
    io.out(`# classic and per-bus agree on all ${diff.compared} compared devices`);
    return;
  }
  io.out('# classic vs per-bus:');
  for (const g of diff.onlyRight) {
    const from = diff.onlyLeft.filter((l) => l.some((d) => g.includes(d)));
    io.out(`#   per-bus group {${g.join(' ')}} <- classic ${from.map((l) => `{${l.join(' ')}}`).join(' ')}`);
  }
}

function printComparison(io: Io, algorithm: string, diff: PartitionDiff): void {
  io.out(`# compare ${algorithm} with kernel listing: ${diff.compared} devices compared, ${diff.matching.length} groups match, ${diff.onlyLeft.length + diff.onlyRight.length} differ`);
  for (const g of diff.matching) io.out(`#   match    {${g.join(' ')}}`);
  for (const g of diff.onlyLeft) io.out(`#   ours     {${g.join(' ')}}`);
  for (const g of diff.onlyRight) io.out(`#   kernel   {${g.join(' ')}}`);
  if (diff.missingRight.length > 0) io.out(`#   not in the kernel listing: ${diff.missingRight.join(' ')}`);
  if (diff.missingLeft.length > 0) io.out(`#   only in the kernel listing: ${diff.missingLeft.join(' ')}`);
}
