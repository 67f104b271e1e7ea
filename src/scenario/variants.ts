/**
 * The variant matrix: the cartesian product of the listed axes, each axis a
 * dotted path into the file (list entries named by their id), and the
 * expectation rules, first match wins. Rules that can never match, and
 * variants no rule covers, are errors: a scenario states what it expects of
 * every combination.
 */
import { produce } from 'immer';
import type { Checker } from './checker.ts';
import { didYouMean } from './diagnostics.ts';
import { expectRule } from './expectations.ts';
import type { ExpectRuleSpec, VariantAssignment } from './model.ts';
import { ScenarioSchema, type ScenarioFile } from './schema.ts';
import type { Path } from './source.ts';
import { isRecordSchema, objectKeys, schemaAt } from './validate.ts';

export interface VariantAxis {
  /** As written, e.g. "machine.devices.sw-dp0.acs". */
  readonly name: string;
  /** Where it lands in the parsed document, e.g. ["machine", "devices", 3, "acs"]. */
  readonly path: Path;
  readonly values: readonly unknown[];
}

/** Resolves each axis against the document; unknown paths are reported. */
export function resolveAxes(file: ScenarioFile, data: unknown, check: Checker): VariantAxis[] {
  return Object.entries(file.variants ?? {}).flatMap(([name, values]) => {
    const path = resolvePath(name, data, check, ['variants', name]);
    return path === null ? [] : [{ name, path, values }];
  });
}

function resolvePath(name: string, data: unknown, check: Checker, where: Path): Path | null {
  const segments = name.split('.');
  const path: (string | number)[] = [];
  let node: unknown = data;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (Array.isArray(node)) {
      // Match an entry by id (ids may contain dots: take the longest match), else by index.
      let found = -1;
      let used = 1;
      for (let take = segments.length - i; take >= 1 && found < 0; take--) {
        const id = segments.slice(i, i + take).join('.');
        found = node.findIndex((e) => e !== null && typeof e === 'object' && (e as { id?: unknown }).id === id);
        used = take;
      }
      if (found < 0 && /^\d+$/.test(segment) && Number(segment) < node.length) found = Number(segment);
      if (found < 0) {
        const ids = node.flatMap((e) => (e !== null && typeof e === 'object' && typeof (e as { id?: unknown }).id === 'string' ? [(e as { id: string }).id] : []));
        check.error(where, `variant path '${name}' does not exist: no entry '${segment}' in ${path.join('.')}${didYouMean(segment, ids)}`, 'unknown-variant-path', true);
        return null;
      }
      path.push(found);
      node = node[found];
      i += used - 1;
      continue;
    }
    const schema = schemaAt(ScenarioSchema, path);
    const keys = objectKeys(schema);
    const isRecord = isRecordSchema(schema);
    const present = node !== null && typeof node === 'object' && segment in (node as object);
    if (!present && !keys.includes(segment)) {
      const known = isRecord ? Object.keys((node ?? {}) as object) : keys;
      check.error(where, `variant path '${name}' does not exist: '${segment}' is not a key of ${path.join('.') || 'the file'}${didYouMean(segment, known)}`, 'unknown-variant-path', true);
      return null;
    }
    path.push(segment);
    node = present ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}

/** How many combinations the axes make (1 without axes). */
export function combinationCount(axes: readonly Pick<VariantAxis, 'values'>[]): number {
  return axes.reduce((n, axis) => n * axis.values.length, 1);
}

/** The axis value indices of combination `index`, the first axis varying slowest (mixed radix). */
export function indicesAt(axes: readonly Pick<VariantAxis, 'values'>[], index: number): number[] {
  const indices = new Array<number>(axes.length);
  let rest = index;
  for (let a = axes.length - 1; a >= 0; a--) {
    const size = axes[a]!.values.length;
    indices[a] = rest % size;
    rest = Math.floor(rest / size);
  }
  return indices;
}

/** The assignment of combination `index`. */
export function assignmentAt(axes: readonly VariantAxis[], index: number): { assignment: VariantAssignment; indices: number[] } {
  const indices = indicesAt(axes, index);
  const assignment: Record<string, unknown> = {};
  axes.forEach((axis, a) => (assignment[axis.name] = axis.values[indices[a]!]));
  return { assignment, indices };
}

/** Every combination of axis values, the first axis varying slowest; generated one at a time. */
export function* combinations(axes: readonly VariantAxis[]): Generator<{ assignment: VariantAssignment; indices: number[] }> {
  const count = combinationCount(axes);
  for (let index = 0; index < count; index++) yield assignmentAt(axes, index);
}

/** Axes whose paths lie one inside the other cannot be varied independently. */
export function checkAxesDisjoint(axes: readonly VariantAxis[], check: Checker): void {
  axes.forEach((a, i) => {
    for (const b of axes.slice(0, i)) {
      const [inner, outer] = a.path.length >= b.path.length ? [a, b] : [b, a];
      if (outer.path.every((segment, k) => String(segment) === String(inner.path[k]))) {
        check.error(['variants', a.name], `variant axes '${b.name}' and '${a.name}' overlap: one lies inside the other, so their values cannot be combined; vary the outer one only`, 'overlapping-axes', true);
      }
    }
  });
}

/** The document with the assignment's values written in. */
export function applyAssignment(data: unknown, axes: readonly VariantAxis[], assignment: VariantAssignment): unknown {
  return produce(data, (draft: unknown) => {
    for (const axis of axes) {
      let node = draft as Record<string | number, unknown>;
      for (const segment of axis.path.slice(0, -1)) {
        node[segment] ??= {};
        node = node[segment] as Record<string | number, unknown>;
      }
      node[axis.path.at(-1)!] = assignment[axis.name] as never;
    }
  });
}

/** on/true and off/false are the same value when comparing a rule with a variant. */
export function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === 'on' ? true : v === 'off' ? false : v);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

export function matches(rule: ExpectRuleSpec, assignment: VariantAssignment): boolean {
  return Object.entries(rule.when).every(([axis, value]) => sameValue(assignment[axis], value));
}

/** Checks the rules against the axes; returns them with the index of the rule each combination takes. */
export function checkExpectations(file: ScenarioFile, axes: readonly VariantAxis[], check: Checker): ExpectRuleSpec[] {
  const rules: ExpectRuleSpec[] = file.expect.map((rule, r) => expectRule(file, rule, r, check));
  rules.forEach((rule, r) => {
    for (const [name, value] of Object.entries(rule.when)) {
      const axis = axes.find((a) => a.name === name);
      if (axis === undefined) {
        check.error(['expect', r, 'when', name], `this rule can never match: '${name}' is not a variant axis${didYouMean(name, axes.map((a) => a.name))}`, 'never-matches', true);
      } else if (!axis.values.some((v) => sameValue(v, value))) {
        check.error(['expect', r, 'when', name], `this rule can never match: '${name}' takes ${axis.values.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}`, 'never-matches');
      }
    }
  });
  if (check.failed) return rules;
  const used = new Set<number>();
  for (const { assignment } of combinations(axes)) {
    const r = rules.findIndex((rule) => matches(rule, assignment));
    if (r < 0) {
      check.error(['expect'], `no expect rule matches the variant ${describeAssignment(assignment)}: add a final rule without when:`, 'uncovered-variant', true);
      return rules;
    }
    used.add(r);
  }
  rules.forEach((_rule, r) => {
    if (!used.has(r)) check.error(['expect', r], `this rule can never match: earlier rules take every variant it covers`, 'unreachable-rule');
  });
  return rules;
}

export function describeAssignment(assignment: VariantAssignment): string {
  const parts = Object.entries(assignment).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? '(base)' : parts.join(', ');
}
