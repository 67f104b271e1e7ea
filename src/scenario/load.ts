/**
 * Loading a scenario file: YAML with positions, the schema, the semantic
 * pass, then every variant of the matrix built and checked the same way
 * (an error that only a variant's value causes points at that value).
 */
import { readFileSync } from 'node:fs';
import { Checker } from './checker.ts';
import { ScenarioError, type Diagnostic } from './diagnostics.ts';
import type { ExpectRuleSpec, ScenarioSpec, VariantAssignment } from './model.ts';
import { normalizeScenario } from './normalize.ts';
import { SourceFile, type Path } from './source.ts';
import { applyAssignment, checkExpectations, combinations, matches, resolveAxes, type VariantAxis } from './variants.ts';
import type { Locate } from './validate.ts';

export interface ScenarioVariant {
  readonly assignment: VariantAssignment;
  readonly spec: ScenarioSpec;
  readonly expected: 'breached' | 'isolated';
  /** The expect rule that decided `expected` (first match), and its index. */
  readonly expectation: ExpectRuleSpec;
  readonly rule: number;
}

export interface LoadedScenario {
  readonly file: string;
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly sources: readonly string[];
  readonly axes: readonly VariantAxis[];
  readonly rules: readonly ExpectRuleSpec[];
  readonly variants: readonly ScenarioVariant[];
}

/** A machine built in code (audit, tests) as a variant with no expectation beyond "isolated". */
export function unexpectedVariant(spec: ScenarioSpec): ScenarioVariant {
  const expectation: ExpectRuleSpec = { when: {}, verdict: 'isolated', breaches: null, stopped: null, refusedBy: null, because: null };
  return { assignment: {}, spec, expected: 'isolated', expectation, rule: 0 };
}

export function loadScenarioFile(path: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ScenarioError([{ file: path, line: 1, column: 1, message: `cannot read scenario: ${reason}`, code: 'unreadable' }]);
  }
  return loadScenario(path, text);
}

export function loadScenario(file: string, text: string): LoadedScenario {
  const { source, data, diagnostics: yamlErrors } = SourceFile.parse(file, text);
  if (yamlErrors.length > 0) throw new ScenarioError(yamlErrors);
  const locate: Locate = (path, message, code, key) => source.diagnostic(path, message, code, key);
  const base = normalizeScenario(file, data, locate);
  if (!base.ok) throw new ScenarioError(sorted(base.diagnostics));

  const check = new Checker(locate);
  const axes = resolveAxes(base.file, data, check);
  const rules = check.failed ? [] : checkExpectations(base.file, axes, check);
  if (check.failed) throw new ScenarioError(sorted(check.diagnostics));

  const diagnostics: Diagnostic[] = [];
  const variants: ScenarioVariant[] = [];
  for (const { assignment, indices } of combinations(axes)) {
    const variantLocate: Locate = (path, message, code, key) => {
      const axis = axes.findIndex((a) => startsWith(path, a.path));
      if (axis < 0) return locate(path, message, code, key);
      return locate(['variants', axes[axis]!.name, indices[axis]!], `${message} (in variant ${axes[axis]!.name})`, code);
    };
    const result = axes.length === 0 ? base : normalizeScenario(file, applyAssignment(data, axes, assignment), variantLocate);
    if (!result.ok) {
      diagnostics.push(...result.diagnostics);
      continue;
    }
    const rule = rules.findIndex((r) => matches(r, assignment));
    variants.push({ assignment, spec: result.spec, expected: rules[rule]!.verdict, expectation: rules[rule]!, rule });
  }
  if (diagnostics.length > 0) throw new ScenarioError(sorted(diagnostics));
  const spec = base.spec;
  return { file, name: spec.name, title: spec.title, summary: spec.summary, sources: spec.sources, axes, rules, variants };
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
