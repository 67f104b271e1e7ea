/**
 * Hunt's figures (issue 16): `hunt` over every configuration of the attack
 * library, and on a 1 000-function generated machine (the groups
 * benchmark's generator, one PCI segment: switches with mixed ACS,
 * multifunction endpoints, PCIe-to-PCI bridges), each endpoint a principal
 * of its own with a BAR, an MSI and a paging domain; one endpoint is the
 * attacker. Runs per second (simulation runs: exploring, minimizing,
 * checking reproducers), time to the first confirmed finding, findings;
 * the large machine also with `--jobs 2` (shards of its batches).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { enumerate } from '../fabric/enumerate.ts';
import type { FabricConfig, FunctionConfig } from '../fabric/topology.ts';
import { fabricMachine } from '../hunt/dump-document.ts';
import { exploreConfiguration, finishConfiguration, huntConfiguration, HuntLedger, mergeExplorations, type Configuration } from '../hunt/hunt.ts';
import { scenarioConfigurations } from '../hunt/input.ts';
import { DEFAULT_HUNT, type HuntOptions } from '../hunt/model.ts';
import { loadScenarioDocument } from '../scenario/load.ts';
import { BUILT_IN_LIBRARY, discoverScenarios } from '../scenario/suite.ts';
import { generateSegment } from './groups-machine.ts';

export interface HuntFigure {
  readonly configurations: number;
  readonly probes: number;
  readonly runs: number;
  readonly ms: number;
  readonly runsPerSecond: number;
  readonly firstFindingMs: number | null;
  readonly findings: number;
}

export interface HuntFigures {
  readonly budget: number;
  readonly library: HuntFigure;
  readonly large: HuntFigure & { readonly functions: number; readonly attacker: string; readonly buildMs: number };
  /** The large machine explored in 2 shards, one after the other (what --jobs 2 spreads on two threads): the same findings. */
  readonly largeShards: { readonly sameFindings: boolean; readonly slowestShardMs: number };
}

export const HUNT_BENCH_BUDGET = 100;

function figure(configs: readonly Configuration[], options: HuntOptions): HuntFigure {
  const ledger = new HuntLedger(() => performance.now());
  const started = performance.now();
  let probes = 0;
  let findings = 0;
  for (const c of configs) {
    const t = huntConfiguration(c, options, ledger);
    probes += t.probes.systematic + t.probes.random;
    findings += t.findings.length;
  }
  const ms = performance.now() - started;
  return { configurations: configs.length, probes, runs: ledger.runs, ms: Math.round(ms), runsPerSecond: Math.round((ledger.runs / ms) * 1000), firstFindingMs: ledger.firstFindingMs === null ? null : Math.round(ledger.firstFindingMs), findings };
}

/** The generated machine as a hunt configuration: BDFs from enumeration, a 16 KiB BAR and one MSI per endpoint. */
export function largeConfiguration(functions: number): { config: Configuration; attacker: string } {
  const base = generateSegment(functions);
  const enumeration = enumerate(base);
  const withBdf: FunctionConfig[] = base.functions.map((f) => {
    const e = enumeration.byId.get(f.id)!;
    const device = f.kind === 'endpoint' || f.kind === 'pci-device' || f.kind === 'rciep';
    return { ...f, bdf: { bus: e.bus, device: e.device, fn: e.fn }, ...(device ? { bars: [{ size: 0x4000 }] } : {}) };
  });
  const config: FabricConfig = { ...base, functions: withBdf };
  const machine = fabricMachine(config, [], { cpus: 16, iommu: 'vtd', interruptRemapping: true, sourceIdValidation: true }, (f) => (f.kind === 'endpoint' || f.kind === 'pci-device' ? { msi: 1 } : {}));
  // An endpoint in the middle of the machine: a function of a multifunction endpoint behind a second switch level.
  const attacker = machine.endpoints[Math.floor(machine.endpoints.length / 2)]!;
  const document = machine.document(attacker, 'generated', 'bdf');
  const loaded = loadScenarioDocument('generated.yaml', document);
  return { config: { scenario: 'generated', file: 'generated.yaml', variant: {}, spec: loaded.variants[0]!.spec, document }, attacker };
}

export function benchHunt(functions = 1000, budget = HUNT_BENCH_BUDGET): HuntFigures {
  const options: HuntOptions = { ...DEFAULT_HUNT, budget };
  const library = discoverScenarios([BUILT_IN_LIBRARY]).flatMap((file) => scenarioConfigurations(file, readFileSync(file, 'utf8'), (l) => l.variants).configurations);
  const libraryFigure = figure(library, options);
  const built = performance.now();
  const { config, attacker } = largeConfiguration(functions);
  const buildMs = Math.round(performance.now() - built);
  const large = figure([config], options);
  // Two shards, each timed alone: on two threads the wall time is about the slower one's.
  const times: number[] = [];
  const parts = [0, 1].map((index) => {
    const t = performance.now();
    const part = exploreConfiguration(config, options, { index, count: 2 });
    times.push(performance.now() - t);
    return part;
  });
  const merged = finishConfiguration(config, mergeExplorations(parts), options, new HuntLedger(undefined));
  return {
    budget,
    library: libraryFigure,
    large: { ...large, functions: config.spec.machine.functions.length, attacker, buildMs },
    largeShards: { sameFindings: merged.findings.length === large.findings, slowestShardMs: Math.round(Math.max(...times)) },
  };
}
