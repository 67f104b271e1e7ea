/**
 * Turns zod issues into positioned, friendly diagnostics: unknown keys with
 * a suggestion among the allowed ones, bad enum values with the closest
 * valid value, missing keys at their parent, unions explained by the branch
 * that came closest.
 */
import type { z } from 'zod';
import { didYouMean, type Diagnostic } from './diagnostics.ts';
import type { Path } from './source.ts';

export type Locate = (path: Path, message: string, code: string, key?: boolean) => Diagnostic;

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

export function zodDiagnostics(schema: AnySchema, issues: readonly Issue[], data: unknown, locate: Locate): Diagnostic[] {
  return issues.flatMap((issue) => describe(schema, issue, data, locate));
}

function describe(schema: AnySchema, issue: Issue, data: unknown, locate: Locate): Diagnostic[] {
  const path = issue.path as (string | number)[];
  const where = readablePath(path, data);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeys(schemaAt(schema, path));
      return issue.keys.map((key) =>
        locate([...path, key], `unknown key '${key}'${where ? ` in ${where}` : ''}${didYouMean(key, allowed)}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`, 'unknown-key', true),
      );
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const input = valueAt(data, path);
      if (input === undefined) return [missingKey(path, data, locate)];
      const shown = typeof input === 'string' ? `'${input}'` : JSON.stringify(input);
      return [locate(path, `invalid value ${shown} for ${where}: expected ${oneOf(values)}${typeof input === 'string' ? didYouMean(input, values) : ''}`, 'invalid-value')];
    }
    case 'invalid_type': {
      const input = valueAt(data, path);
      if (input === undefined) return [missingKey(path, data, locate)];
      return [locate(path, `${where} must be ${article(issue.expected)}, not ${kindOf(input)}`, 'invalid-type')];
    }
    case 'invalid_union': {
      const best = closestBranch(issue.errors);
      if (best) return best.map((inner) => describe(schema, { ...inner, path: [...path, ...inner.path] } as Issue, data, locate)).flat();
      const hint = unionHint(schemaAt(schema, path, false));
      return [locate(path, `${where} must be ${hint}, not ${kindOf(valueAt(data, path))}`, 'invalid-type')];
    }
    case 'too_small':
      return [locate(path, `${where} needs at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'entr' + (issue.minimum === 1 ? 'y' : 'ies') : 'character(s)'}`, 'too-small')];
    case 'invalid_format':
      return [locate(path, `${where} must be ${issue.message}`, 'invalid-format')];
    default:
      return [locate(path, `${where}: ${issue.message}`, 'invalid')];
  }
}

function missingKey(path: Path, data: unknown, locate: Locate): Diagnostic {
  const parent = path.slice(0, -1);
  return locate(parent, `missing required key '${String(path.at(-1))}'${parent.length > 0 ? ` in ${readablePath(parent, data)}` : ''}`, 'missing-key');
}

/** A union's branch whose failures are not just "wrong type at the top", if exactly one such branch exists. */
function closestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const deep = branches.filter((issues) => issues.some((i) => i.path.length > 0 || (i.code !== 'invalid_type' && i.code !== 'invalid_value')));
  return deep.length === 1 ? deep[0] : undefined;
}

function def(schema: AnySchema): Record<string, unknown> {
  return (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
}

/**
 * The schema that validates the value at `path`: optionals unwrapped, unions
 * resolved to their object branch on the way (and at the end when `resolveUnion`).
 */
export function schemaAt(schema: AnySchema, path: Path, resolveUnion = true): AnySchema | undefined {
  let current: AnySchema | undefined = schema;
  for (const segment of path) {
    current = unwrap(current);
    if (current === undefined) return undefined;
    const d = def(current);
    if (d.type === 'object') current = (d.shape as Record<string, AnySchema>)[String(segment)];
    else if (d.type === 'array') current = d.element as AnySchema;
    else if (d.type === 'record') current = d.valueType as AnySchema;
    else return undefined;
  }
  return resolveUnion ? unwrap(current) : stripOptional(current);
}

function stripOptional(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  while (current !== undefined && ['optional', 'default', 'nullable'].includes(String(def(current).type))) current = def(current).innerType as AnySchema;
  return current;
}

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (let guard = 0; current !== undefined && guard < 8; guard++) {
    const d = def(current);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'nullable') current = d.innerType as AnySchema;
    else if (d.type === 'union') {
      const options = d.options as AnySchema[];
      current = options.find((o) => ['object', 'array', 'record'].includes(String(def(unwrap(o) ?? o).type))) ?? options[0];
      if (current === undefined || ['object', 'array', 'record'].includes(String(def(current).type))) return current;
    } else return current;
  }
  return current;
}

/** True for a z.record: any key may name an entry. */
export function isRecordSchema(schema: AnySchema | undefined): boolean {
  return schema !== undefined && def(schema).type === 'record';
}

/** The keys a strict object schema allows (none for other schemas). */
export function objectKeys(schema: AnySchema | undefined): string[] {
  if (schema === undefined) return [];
  const d = def(schema);
  return d.type === 'object' ? Object.keys(d.shape as object) : [];
}

function unionHint(schema: AnySchema | undefined): string {
  const description = schema === undefined ? undefined : (schema as unknown as { description?: string }).description;
  return description ?? 'of another kind';
}

function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** "machine.devices.nic.bars.0" — list entries with an id are named by it. */
export function readablePath(path: Path, data: unknown): string {
  const parts: string[] = [];
  let current = data;
  for (const segment of path) {
    const next = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
    const id = Array.isArray(current) && next !== null && typeof next === 'object' ? (next as { id?: unknown }).id : undefined;
    parts.push(typeof id === 'string' ? id : String(segment));
    current = next;
  }
  return parts.join('.');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value}'`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };
  return names[type] ?? type;
}

function oneOf(values: readonly string[]): string {
  return values.length === 1 ? `'${values[0]}'` : `one of ${values.join(', ')}`;
}
