/**
 * What hunt and harden take: a scenario file (each selected variant is one
 * configuration) or an lspci dump (each endpoint in turn, or those named,
 * is the hostile device of one configuration). Either way a configuration
 * is a checked spec plus the scenario document it came from, so what is
 * found can be written back as a scenario.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { selectVariants } from '../scenario/suite.ts';
import { ScenarioError } from '../scenario/diagnostics.ts';
import { loadScenario, type LoadedScenario, type ScenarioVariant } from '../scenario/load.ts';
import { SourceFile } from '../scenario/source.ts';
import { applyAssignment } from '../scenario/variants.ts';
import type { Configuration } from './hunt.ts';
import { dumpMachine, principalOf, type DumpOptions, type Pins } from './dump-document.ts';
import { scenarioYaml } from './repro.ts';

export interface HuntInput {
  readonly file: string;
  readonly kind: 'scenario' | 'lspci';
  /** What the input could not say and was assumed (dumps). */
  readonly assumptions: readonly string[];
  readonly configurations: readonly Configuration[];
}

export class HuntInputError extends Error {
  readonly userFacing = true;
  readonly code = 'HUNT_INPUT';
}

export function isScenarioPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** The scenario's document with each selected variant's values written in. */
export function scenarioConfigurations(file: string, text: string, select: (loaded: LoadedScenario) => readonly ScenarioVariant[]): HuntInput {
  const loaded = loadScenario(file, text);
  const { data } = SourceFile.parse(file, text);
  const configurations = select(loaded).map((v) => ({
    scenario: loaded.name,
    file,
    variant: v.assignment,
    spec: v.spec,
    document: applyAssignment(data, loaded.axes, v.assignment) as Record<string, unknown>,
  }));
  return { file, kind: 'scenario', assumptions: [], configurations };
}

/** One configuration per hostile endpoint of the dump (all, or those named in `attackers`). */
export function dumpConfigurations(file: string, text: string, options: DumpOptions, attackers: readonly string[] | null): HuntInput {
  const machine = dumpMachine(text, options);
  const known = new Set(machine.endpoints);
  const chosen = attackers === null ? machine.endpoints : attackers.map((a) => resolveEndpoint(a, machine.endpoints, file));
  if (chosen.length === 0) throw new HuntInputError(`${file}: the dump shows no endpoint that could be hostile`);
  const stem = basename(file).replace(/\.[^.]*$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'machine';
  const assumptions = [...machine.assumptions];
  const configurations: Configuration[] = [];
  for (const attacker of chosen) {
    if (!known.has(attacker)) continue;
    const name = `${stem}-${principalOf(attacker).slice(4)}`.replace(/[^a-z0-9-]/g, '-');
    const loaded = loadPinned(file, (pins) => machine.document(attacker, name, pins), assumptions);
    const variant = loaded.variant;
    configurations.push({ scenario: name, file, variant: {}, spec: variant.spec, document: loaded.document });
  }
  return { file, kind: 'lspci', assumptions, configurations };
}

/** A BDF as the user typed it ("03:00.0") against the dump's ids ("0000:03:00.0"). */
function resolveEndpoint(name: string, endpoints: readonly string[], file: string): string {
  const found = endpoints.find((e) => e === name || e.endsWith(`:${name}`) || e === `0000:${name}`);
  if (found === undefined) throw new HuntInputError(`--attacker ${name}: not an endpoint of ${file} (endpoints: ${endpoints.join(', ')})`);
  return found;
}

/**
 * The document as a checked scenario, pinning what the scenario format can
 * hold: BDFs and BAR addresses, else BDFs only, else neither (the format
 * pins no bridge windows, so firmware's placement may not fit its packing).
 */
function loadPinned(file: string, documentFor: (pins: Pins) => Record<string, unknown>, assumptions: string[]): { variant: ScenarioVariant; document: Record<string, unknown> } {
  let first: ScenarioError | null = null;
  for (const pins of ['all', 'bdf', 'none'] as const) {
    const document = documentFor(pins);
    try {
      const loaded = loadScenario(`${file}.yaml`, scenarioYaml(document, ''));
      if (pins !== 'all') {
        const note = pins === 'bdf' ? 'BAR addresses assigned by enumeration (the scenario format cannot pin this machine\'s bridge windows)' : 'BDFs and BAR addresses assigned by enumeration (the scenario format cannot hold this machine\'s numbering)';
        if (!assumptions.includes(note)) assumptions.push(note);
      }
      return { variant: loaded.variants[0]!, document };
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      first ??= error;
    }
  }
  throw new HuntInputError(`${file}: this machine cannot be written as a scenario (${first!.diagnostics[0]?.message ?? first!.message}); hunt it from a scenario file instead`);
}

/** Everything needed to load an input again (in a worker thread). */
export interface InputSpec {
  readonly path: string;
  /** Scenario files: `--variant` filters (values as written on the command line). */
  readonly variants: Readonly<Record<string, string>>;
  /** lspci dumps: what the dump cannot show, and which endpoints are hostile (null: each in turn). */
  readonly dump: DumpOptions;
  readonly attackers: readonly string[] | null;
}

export function loadHuntInput(spec: InputSpec): HuntInput {
  let text: string;
  try {
    text = readFileSync(spec.path, 'utf8');
  } catch (error) {
    throw new HuntInputError(`cannot read '${spec.path}': ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (!isScenarioPath(spec.path)) return dumpConfigurations(spec.path, text, spec.dump, spec.attackers);
  return scenarioConfigurations(spec.path, text, (loaded) => {
    // The run command's selection: axis names as written or as the table spells them (iommu.x2apic); unknown ones are refused there.
    const selected = selectVariants(loaded, spec.variants);
    if (selected.length === 0) throw new HuntInputError(`no variant of ${spec.path} matches ${Object.entries(spec.variants).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    return selected;
  });
}
