/**
 * Which variants run: `--variant axis=value` filters and `-t PATTERN`. A
 * filter that can match nothing is an error, never a silent "ran nothing"
 * or "ran everything": an axis no scenario has, or a value the axis never
 * takes, is refused with a suggestion. An axis may be named as the table
 * header shows it, without the leading `machine.`.
 */
import { parse } from 'yaml';
import { didYouMean } from './diagnostics.ts';
import { assignmentAt, describeAssignment, sameValue, type VariantAxis } from './variants.ts';

/** `--variant` as given: axis → value text (read as YAML: on, [SV, RR], 0x10). */
export type VariantFilter = Readonly<Record<string, string>>;

export class SelectionError extends Error {
  readonly userFacing = true;
  readonly code = 'NO_MATCH';
}

/** The table header's spelling of an axis: without the leading "machine.". */
export function shortAxisName(axis: string): string {
  return axis.replace(/^machine\./, '');
}

export function flowValue(text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch {
    return text;
  }
}

interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly axes: readonly VariantAxis[];
  readonly count: number;
}

/** Per scenario: the value indices each axis may take, or null when the filter excludes the scenario. */
export type AxisChoices = readonly (readonly number[])[] | null;

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Resolves the filter against every scenario; throws SelectionError when an axis or value matches none. */
export function resolveFilter(filter: VariantFilter, scenarios: readonly Scenario[]): AxisChoices[] {
  const wanted = Object.entries(filter).map(([key, text]) => ({ key, text, value: flowValue(text) }));
  for (const { key, text, value } of wanted) {
    const axes = scenarios.flatMap((s) => s.axes.filter((a) => a.name === key || shortAxisName(a.name) === key));
    if (axes.length === 0) {
      const names = [...new Set(scenarios.flatMap((s) => s.axes.flatMap((a) => [a.name, shortAxisName(a.name)])))];
      const listed = [...new Set(scenarios.flatMap((s) => s.axes.map((a) => shortAxisName(a.name))))];
      const where = scenarios.length === 1 ? scenarios[0]!.file : `any of the ${scenarios.length} scenarios`;
      throw new SelectionError(
        `--variant ${key}: not a variant axis of ${where}${didYouMean(key, names)} (axes: ${listed.slice(0, 12).join(', ') || 'none'}${listed.length > 12 ? ', …' : ''})`,
      );
    }
    if (!axes.some((a) => a.values.some((v) => sameValue(v, value)))) {
      const values = [...new Set(axes.flatMap((a) => a.values.map(shown)))];
      throw new SelectionError(`--variant ${key}=${text}: no variant takes this value; ${shortAxisName(axes[0]!.name)} takes ${values.join(', ')}${didYouMean(text, values)}`);
    }
  }
  return scenarios.map((scenario) => {
    const choices = scenario.axes.map((axis) => axis.values.map((_, i) => i));
    for (const { key, value } of wanted) {
      const a = scenario.axes.findIndex((axis) => axis.name === key || shortAxisName(axis.name) === key);
      if (a < 0) return null;
      choices[a] = choices[a]!.filter((i) => sameValue(scenario.axes[a]!.values[i], value));
      if (choices[a]!.length === 0) return null;
    }
    return choices;
  });
}

/** The number of variants the choices select. */
export function choiceCount(choices: AxisChoices): number {
  return choices === null ? 0 : choices.reduce((n, c) => n * c.length, 1);
}

/** `-t PATTERN` as a regular expression; a malformed one is a usage error. */
export function namePattern(text: string | undefined): RegExp | null {
  if (text === undefined) return null;
  try {
    return new RegExp(text);
  } catch (error) {
    throw new SelectionError(`-t/--filter '${text}' is not a regular expression: ${(error as Error).message}`);
  }
}

/** Names a pattern is tried against: the JUnit spelling, "scenario [axis=value, …]", with full and short axes. */
export function variantNames(scenario: string, axes: readonly VariantAxis[], index: number): string[] {
  const { assignment } = assignmentAt(axes, index);
  const full = describeAssignment(assignment);
  const short = Object.entries(assignment)
    .map(([k, v]) => `${shortAxisName(k)}=${shown(v)}`)
    .join(', ');
  return [`${scenario} [${full}]`, `${scenario} [${short}]`];
}

/**
 * Variant indices of `scenario` that the choices and the pattern select, in
 * matrix order. `limit` stops the enumeration early (the caller refuses more).
 */
export function selectIndices(scenario: Scenario, choices: AxisChoices, pattern: RegExp | null, limit = Infinity): number[] {
  if (choices === null) return [];
  const count = choiceCount(choices);
  const selected: number[] = [];
  const nameMatches = pattern === null || pattern.test(scenario.name);
  for (let k = 0; k < count && selected.length < limit; k++) {
    // k enumerates the chosen values (mixed radix over the choices); map it to the full matrix index.
    let rest = k;
    let index = 0;
    let scale = 1;
    for (let a = scenario.axes.length - 1; a >= 0; a--) {
      const c = choices[a]!;
      index += c[rest % c.length]! * scale;
      rest = Math.floor(rest / c.length);
      scale *= scenario.axes[a]!.values.length;
    }
    if (nameMatches || variantNames(scenario.name, scenario.axes, index).some((n) => pattern!.test(n))) selected.push(index);
  }
  return selected;
}
