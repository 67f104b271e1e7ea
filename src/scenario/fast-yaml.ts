/**
 * The fast path for a scenario's data: js-yaml builds plain values about ten
 * times faster than the `yaml` library builds its position-keeping document
 * (6 MB, 100 000 steps: ~0.4 s against ~5 s), and a valid file needs no
 * positions. Anything unusual — a syntax error, an alias, a tag, a
 * directive, nesting past the limit, several documents, a duplicate key —
 * returns undefined, and the caller takes the `yaml` path, which reports
 * it with its position (source.ts). Scalars resolve as the `yaml`
 * library's YAML 1.2 core schema does, integers exactly.
 */
import { CORE_SCHEMA, defineScalarTag, load, NOT_RESOLVED } from 'js-yaml';

/** Deepest nesting of mappings and lists a scenario may use (the reference example uses 5). */
export const MAX_DEPTH = 64;

/**
 * YAML 1.2 core integers (yaml's intDec, intOct, intHex; js-yaml's own also
 * takes 0b…): a safe integer as a number, anything larger as its source text
 * (units.ts reads it exactly, and refuses it when the simulator cannot hold
 * it), never a rounded float.
 */
const exactInt = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...'0123456789'],
  resolve(source) {
    let value: bigint;
    if (/^[-+]?[0-9]+$/.test(source)) value = BigInt(source.replace(/^\+/, ''));
    else if (/^0o[0-7]+$/.test(source) || /^0x[0-9a-fA-F]+$/.test(source)) value = BigInt(source);
    else return NOT_RESOLVED;
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : source;
  },
  identify: (data) => Number.isInteger(data),
});

const SCHEMA = CORE_SCHEMA.withTags(exactInt);

/** The document's data, or undefined when the position-keeping parser must look at it. */
export function fastData(text: string): unknown {
  // Aliases, tags and directives are left to the yaml library (its alias-expansion limit, its tag warnings).
  if (/(^|[\s[{,:-])[&*!]\S/.test(text) || /^%/m.test(text)) return undefined;
  try {
    return load(text, { schema: SCHEMA, maxAliases: 0, maxDepth: MAX_DEPTH - 1 }); // stricter than source.ts: near the limit, the yaml path decides
  } catch {
    return undefined;
  }
}
