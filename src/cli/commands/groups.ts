/**
 * `tlplab groups <lspci dump>`: IOMMU groups as Linux would form them, in the
 * kernel's sysfs layout, by the classic and/or the per-bus algorithm, and
 * optionally compared with a real kernel listing (`--compare`).
 */
import { readFileSync } from 'node:fs';
import { parseGroupListing, listingPartition } from '../../import/groups/listing.ts';
import { parseLspci } from '../../import/lspci/parse.ts';
import { topologyFromLspci } from '../../import/lspci/to-topology.ts';
import { diffPartitions, isSamePartition, type PartitionDiff } from '../../policy/group-diff.ts';
import type { GroupResult } from '../../policy/group-result.ts';
import { classicGroups } from '../../policy/groups-classic.ts';
import { perBusGroups } from '../../policy/groups-per-bus.ts';
import { applyConfigAcs, parseAcsOverride, parseConfigAcs, type KernelModel } from '../../policy/kernel-options.ts';
import { scenarioTopology } from '../../scenario/group-input.ts';
import { ExitCode, UsageError } from '../exit.ts';
import { variantFilter } from '../options.ts';
import type { Io } from '../io.ts';
import { jsonTarget } from './explain.ts';

export interface GroupsOptions {
  readonly path: string;
  readonly algorithm?: unknown;
  readonly json?: boolean;
  readonly jsonFile?: unknown;
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

/** Re-throws input errors with the file name in front (file:line). */
function inFile<T>(path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Error && (error as { userFacing?: boolean }).userFacing) {
      throw new UsageError(`${path}:${error.message.replace(/^line (\d+): /, '$1: ')}`, (error as { code?: string }).code ?? 'INPUT');
    }
    throw error;
  }
}

const partitionOf = (r: GroupResult) => r.groups.map((g) => [...g.devices]);

export function runGroups(io: Io, options: GroupsOptions): number {
  const algorithm = String(options.algorithm ?? 'classic');
  if (!(ALGORITHMS as readonly string[]).includes(algorithm)) throw new UsageError(`--algorithm must be classic, per-bus or both, got '${algorithm}'`);
  const json = jsonTarget(io, options, [options.path, ...(options.compare === undefined ? [] : [String(options.compare)])]);
  let topology;
  let acsOverride = options.acsOverride === undefined ? undefined : String(options.acsOverride);
  if (/\.ya?ml$/i.test(options.path)) {
    const scenario = scenarioTopology(options.path, variantFilter(options.variant));
    topology = scenario.topology;
    acsOverride ??= scenario.acsOverride || undefined;
    if (!json) io.out(`# ${options.path}, variant ${scenario.variant}`);
  } else {
    const text = readInput(options.path, 'lspci dump');
    topology = inFile(options.path, () => topologyFromLspci(parseLspci(text))).topology;
  }
  const kernel: KernelModel = acsOverride === undefined ? {} : { acsOverride: parseAcsOverride(acsOverride) };
  if (options.configAcs !== undefined) topology = applyConfigAcs(topology, parseConfigAcs(String(options.configAcs)));

  const results: GroupResult[] = [];
  if (algorithm !== 'per-bus') results.push(classicGroups(topology, kernel));
  if (algorithm !== 'classic') results.push(perBusGroups(topology, kernel));
  const algorithmDiff = results.length === 2 ? diffPartitions(partitionOf(results[0]!), partitionOf(results[1]!)) : undefined;

  let comparisons: { algorithm: string; diff: PartitionDiff }[] = [];
  if (options.compare !== undefined) {
    const file = String(options.compare);
    const listing = inFile(file, () => parseGroupListing(readInput(file, 'group listing')));
    comparisons = results.map((r) => ({ algorithm: r.algorithm, diff: diffPartitions(partitionOf(r), listingPartition(listing)) }));
  }

  if (json) {
    const [first] = results;
    json({
      schema: 'tlplab/groups-v1',
      algorithm,
      groups: first!.groups,
      unknown: first!.unknown,
      ...(results.length === 2 ? { perBus: { groups: results[1]!.groups, unknown: results[1]!.unknown }, diff: algorithmDiff } : {}),
      ...(comparisons.length > 0 ? { compare: comparisons } : {}),
    });
  } else {
    for (const result of results) printResult(io, result);
    if (algorithmDiff) printAlgorithmDiff(io, algorithmDiff);
    for (const c of comparisons) printComparison(io, c.algorithm, c.diff);
  }
  return comparisons.some((c) => !isSamePartition(c.diff)) ? ExitCode.expectationFailed : ExitCode.ok;
}

function printResult(io: Io, result: GroupResult): void {
  io.out(`# ${result.algorithm === 'classic' ? 'classic pci_device_group() (Linux up to 6.17)' : 'per-bus isolation ("Fix incorrect iommu_groups with PCIe ACS", 2025)'}`);
  for (const group of result.groups) for (const device of group.devices) io.out(`/sys/kernel/iommu_groups/${group.id}/devices/${device}`);
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
