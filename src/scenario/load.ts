/**
 * Loading a scenario file, once: YAML with positions, the schema, the
 * semantic pass. Variants are derived from the validated value — each axis
 * value is checked against the schema once, then a variant is the validated
 * base with its values written in, through the semantic pass only — and
 * never held all at once: `variantAt(i)` builds one on demand, so memory
 * does not grow with the matrix. An error that only a variant's value
 * causes points at that value.
 */
import { readFileSync } from 'node:fs';
import { Checker } from './checker.ts';
import { ScenarioError, type Diagnostic } from './diagnostics.ts';
import type { ExpectRuleSpec, ScenarioSpec, VariantAssignment } from './model.ts';
import type { ScenarioInfo } from './results.ts';
import { normalizeEntry, type NormalizeResult } from './normalize.ts';
import type { ScenarioFile } from './schema.ts';
import { validateShape } from './shape.ts';
import { SourceFile, type Path } from './source.ts';
import { applyAssignment, assignmentAt, checkAxesDisjoint, checkExpectations, combinationCount, matches, resolveAxes, type VariantAxis } from './variants.ts';
import type { Locate } from './validate.ts';

export interface ScenarioVariant {
  readonly assignment: VariantAssignment;
  readonly spec: ScenarioSpec;
  readonly expected: 'breached' | 'isolated';
  /** The expect rule that decided `expected` (first match), and its index. */
  readonly expectation: ExpectRuleSpec;
  readonly rule: number;
}

/**
 * What it takes to derive any variant of a checked scenario: plain data
 * (structured-cloneable), so worker threads get it without re-reading files.
 */
export interface ScenarioPlan {
  readonly file: string;
  /** The base document as the schema accepted it. */
  readonly entry: ScenarioFile;
  /** Axes with their values as the schema accepted them. */
  readonly axes: readonly VariantAxis[];
  readonly rules: readonly ExpectRuleSpec[];
}

export interface LoadedScenario {
  readonly file: string;
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly sources: readonly string[];
  readonly axes: readonly VariantAxis[];
  readonly rules: readonly ExpectRuleSpec[];
  readonly plan: ScenarioPlan;
  /** Number of variants (the product of the axes' lengths). */
  readonly count: number;
  /** Variant `index` (first axis slowest), built now. */
  variantAt(index: number): ScenarioVariant;
  /** Every variant, built on first use: for small matrices (explain, tests); sweeps use variantAt. */
  readonly variants: readonly ScenarioVariant[];
}

/** A file parsed and its base validated; its variants not yet checked. */
export interface OpenedScenario {
  readonly file: string;
  readonly name: string;
  /** What reports say about the file beside its runs. */
  readonly info: ScenarioInfo;
  readonly axes: readonly VariantAxis[];
  readonly count: number;
  /** What derives any variant (workers get it; positions stay here). */
  readonly plan: ScenarioPlan;
  /** Variant `index` derived with positions: throws VariantCheckError with positioned diagnostics. */
  variantAt(index: number): ScenarioVariant;
  /** Checks every variant (the semantic pass on each); throws ScenarioError. */
  check(): LoadedScenario;
}

/** A machine built in code (audit, tests) as a variant with no expectation beyond "isolated". */
export function unexpectedVariant(spec: ScenarioSpec): ScenarioVariant {
  const expectation: ExpectRuleSpec = { when: {}, verdict: 'isolated', breaches: null, stopped: null, refusedBy: null, because: null };
  return { assignment: {}, spec, expected: 'isolated', expectation, rule: 0 };
}

export class MatrixTooLargeError extends Error {
  readonly userFacing = true;
  readonly code = 'MATRIX_TOO_LARGE';
}

export function readScenarioText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new ScenarioError([{ file: path, line: 1, column: 1, message: `cannot read scenario: ${reason}`, code: 'unreadable' }]);
  }
  return decodeUtf8(path, bytes);
}

/** UTF-8 text, or a positioned error at the first byte that is not UTF-8 (never U+FFFD substituted silently). */
export function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // The lossy decoding is exact up to its first substituted U+FFFD (a U+FFFD written in the file is EF BF BD: skip those).
    const lossy = new TextDecoder('utf-8').decode(bytes);
    let at = lossy.indexOf('\ufffd');
    let offset = Buffer.byteLength(lossy.slice(0, at));
    while (at >= 0 && bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) {
      at = lossy.indexOf('\ufffd', at + 1);
      offset = Buffer.byteLength(lossy.slice(0, at));
    }
    const lines = lossy.slice(0, Math.max(0, at)).split('\n');
    throw new ScenarioError([
      {
        file,
        line: lines.length,
        column: [...lines.at(-1)!].length + 1,
        message: `byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} is not UTF-8: scenario files are UTF-8 text (convert it, e.g. iconv -f latin1 -t utf-8 FILE)`,
        code: 'not-utf8',
      },
    ]);
  }
}

export function loadScenarioFile(path: string): LoadedScenario {
  return loadScenario(path, readScenarioText(path));
}

export function loadScenario(file: string, text: string): LoadedScenario {
  return openScenario(file, text).check();
}

export function openScenarioFile(path: string, limits: { maxVariants?: number } = {}): OpenedScenario {
  return openScenario(path, readScenarioText(path), limits);
}

/** Parses and validates the base document and the axes; refuses a matrix over `maxVariants` before enumerating it. */
export function openScenario(file: string, text: string, limits: { maxVariants?: number } = {}): OpenedScenario {
  const { source, data, diagnostics: yamlErrors } = SourceFile.parse(file, text);
  if (yamlErrors.length > 0) throw new ScenarioError(yamlErrors);
  const locate: Locate = (path, message, code, key) => source.diagnostic(path, message, code, key);
  const shape = validateShape(data, locate);
  if (!shape.ok) throw new ScenarioError(sorted(shape.diagnostics));
  const base = normalizeEntry(file, shape.entry, locate);
  if (!base.ok) throw new ScenarioError(sorted(base.diagnostics));

  const check = new Checker(locate);
  const axes = resolveAxes(shape.entry, data, check);
  checkAxesDisjoint(axes, check);
  if (check.failed) throw new ScenarioError(sorted(check.diagnostics));
  const count = combinationCount(axes);
  if (limits.maxVariants !== undefined && count > limits.maxVariants) {
    const at = source.positionOf(['variants'], true);
    throw new MatrixTooLargeError(
      `${file}:${at.line}:${at.column}: the variant matrix has ${count.toLocaleString('en-US')} combinations (${axes.map((a) => a.values.length).join(' × ')}), over the limit of ${limits.maxVariants.toLocaleString('en-US')} runs: narrow it with --variant, or raise --max-runs`,
    );
  }
  const validAxes = validateAxisValues(data, axes, locate);
  const rules = checkExpectations(shape.entry, validAxes, check);
  if (check.failed) throw new ScenarioError(sorted(check.diagnostics));
  const plan: ScenarioPlan = { file, entry: shape.entry, axes: validAxes, rules };

  const { title, summary, sources } = shape.entry;
  return {
    file,
    name: shape.entry.name,
    info: { file, name: shape.entry.name, title, summary, sources, axes: validAxes.map((a) => a.name), rules },
    axes: validAxes,
    count,
    plan,
    variantAt: (index) => variantOf(plan, index, locate),
    check() {
      if (validAxes.length > 0) {
        const diagnostics: Diagnostic[] = [];
        for (let index = 0; index < count; index++) {
          const { indices } = assignmentAt(validAxes, index);
          const result = deriveSpec(plan, indices, variantLocate(locate, validAxes, indices));
          if (!result.ok) diagnostics.push(...result.diagnostics);
        }
        if (diagnostics.length > 0) throw new ScenarioError(sorted(diagnostics));
      }
      return loaded(plan, base.spec, count);
    },
  };
}

/** Each axis value against the schema, once: the base with only that value written in must pass. */
function validateAxisValues(data: unknown, axes: readonly VariantAxis[], locate: Locate): VariantAxis[] {
  const diagnostics: Diagnostic[] = [];
  const valid = axes.map((axis, a) => ({
    ...axis,
    values: axis.values.map((value, i) => {
      const indices = axes.map((_, b) => (b === a ? i : -1));
      const shape = validateShape(applyAssignment(data, [axis], { [axis.name]: value }), variantLocate(locate, axes, indices));
      if (!shape.ok) {
        diagnostics.push(...shape.diagnostics);
        return value;
      }
      return valueAt(shape.entry, axis.path);
    }),
  }));
  if (diagnostics.length > 0) throw new ScenarioError(sorted(diagnostics));
  return valid;
}

/** Diagnostics about a path under an axis point at that axis's value in `variants:`. */
function variantLocate(locate: Locate, axes: readonly VariantAxis[], indices: readonly number[]): Locate {
  return (path, message, code, key) => {
    const axis = axes.findIndex((a, i) => indices[i]! >= 0 && startsWith(path, a.path));
    if (axis < 0) return locate(path, message, code, key);
    return locate(['variants', axes[axis]!.name, indices[axis]!], `${message} (in variant ${axes[axis]!.name})`, code);
  };
}

/** The semantic pass on the validated base with the variant's validated values written in. */
function deriveSpec(plan: ScenarioPlan, indices: readonly number[], locate: Locate): NormalizeResult {
  if (plan.axes.length === 0) return normalizeEntry(plan.file, plan.entry, locate);
  const assignment: Record<string, unknown> = {};
  plan.axes.forEach((axis, a) => (assignment[axis.name] = axis.values[indices[a]!]));
  return normalizeEntry(plan.file, applyAssignment(plan.entry, plan.axes, assignment) as ScenarioFile, locate);
}

const unpositioned: Locate = (_path, message, code) => ({ file: '', line: 0, column: 0, message, code });

/** A variant that fails the checks its file's other variants passed (the file is then invalid). */
export class VariantCheckError extends Error {
  readonly code = 'VARIANT_CHECK';
  constructor(
    readonly index: number,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(`variant ${index} fails its checks: ${diagnostics.map((d) => d.message).join('; ')}`);
  }
}

/** Variant `index`, derived now; throws VariantCheckError when it fails the semantic pass. */
export function variantOf(plan: ScenarioPlan, index: number, locate: Locate = unpositioned): ScenarioVariant {
  const { assignment, indices } = assignmentAt(plan.axes, index);
  const result = deriveSpec(plan, indices, locate === unpositioned ? locate : variantLocate(locate, plan.axes, indices));
  if (!result.ok) throw new VariantCheckError(index, result.diagnostics);
  const rule = plan.rules.findIndex((r) => matches(r, assignment));
  return { assignment, spec: result.spec, expected: plan.rules[rule]!.verdict, expectation: plan.rules[rule]!, rule };
}

function loaded(plan: ScenarioPlan, base: ScenarioSpec, count: number): LoadedScenario {
  let all: ScenarioVariant[] | undefined;
  const variantAt = (index: number) => variantOf(plan, index);
  return {
    file: plan.file,
    name: base.name,
    title: base.title,
    summary: base.summary,
    sources: base.sources,
    axes: plan.axes,
    rules: plan.rules,
    plan,
    count,
    variantAt,
    get variants() {
      all ??= Array.from({ length: count }, (_, i) => variantAt(i));
      return all;
    },
  };
}

function valueAt(data: unknown, path: Path): unknown {
  let node = data;
  for (const segment of path) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string | number, unknown>)[segment];
  return node;
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => String(segment) === String(path[i]));
}

/** By position, without repeats (the same fault in several variants is reported once). */
function sorted(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...diagnostics]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .filter((d) => {
      const key = `${d.line}:${d.column}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
