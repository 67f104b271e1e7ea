/**
 * A scenario's YAML with source positions (the `yaml` library keeps node
 * ranges; a LineCounter turns offsets into line:column), so every error
 * can point at the key or value it is about.
 */
import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode, type YAMLError } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { fastData, MAX_DEPTH } from './fast-yaml.ts';

export type Path = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

export class SourceFile {
  private doc: Document | undefined;
  private lines: LineCounter | undefined;

  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  /** The position-keeping document, built on first use: a valid file parsed by the fast path never needs it. */
  private document(): { doc: Document; lines: LineCounter } {
    if (this.doc === undefined || this.lines === undefined) {
      this.lines = new LineCounter();
      this.doc = parseDocument(this.text, { lineCounter: this.lines, uniqueKeys: true, version: '1.2' });
    }
    return { doc: this.doc, lines: this.lines };
  }

  /**
   * Parses YAML text; YAML errors, and the yaml library's resource limits
   * (alias expansion, nesting), come back as positioned diagnostics.
   */
  static parse(file: string, text: string): { source: SourceFile; data: unknown; diagnostics: Diagnostic[] } {
    const fast = fastData(text);
    if (fast !== undefined) return { source: new SourceFile(file, text), data: fast, diagnostics: [] };
    return SourceFile.parseWithPositions(file, text);
  }

  /** The `yaml` library's path alone (tests compare the fast path with it). */
  static parseWithPositions(file: string, text: string): { source: SourceFile; data: unknown; diagnostics: Diagnostic[] } {
    const source = new SourceFile(file, text);
    const { doc, lines } = source.document();
    const at = (offset: number) => {
      const p = lines.linePos(offset);
      return { file, line: p.line, column: p.col };
    };
    const diagnostics: Diagnostic[] = [...doc.errors, ...doc.warnings].map((error) => ({ ...at(error.pos[0]), message: `YAML: ${yamlMessage(error)}`, code: 'yaml' }));
    if (diagnostics.length === 0) diagnostics.push(...limits(doc, at));
    if (diagnostics.length > 0) return { source, data: undefined, diagnostics };
    exactIntegers(doc);
    try {
      return { source, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), diagnostics };
    } catch (error) {
      // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" document).
      let first = 0;
      visit(doc, {
        Alias(_key, node) {
          first = node.range?.[0] ?? 0;
          return visit.BREAK;
        },
      });
      const message = `YAML: aliases expand too far (${(error as Error).message.toLowerCase()}; limit ${MAX_ALIAS_COUNT}): scenario files need no anchors and aliases like these — write the values out`;
      return { source, data: undefined, diagnostics: [{ ...at(first), message, code: 'yaml-alias-limit' }] };
    }
  }

  /**
   * Position of the node at `path` (its key when `key` is set). When the
   * path leads past what the file holds (a missing key), the deepest node
   * that exists is used.
   */
  positionOf(path: Path, key = false): Position {
    const { doc, lines } = this.document();
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        keyNode = undefined;
        node = node.items[segment];
      } else {
        break;
      }
    }
    const target = (key && keyNode !== undefined ? keyNode : (node ?? keyNode)) as YamlNode | undefined;
    const offset = target?.range?.[0] ?? 0;
    const at = lines.linePos(offset);
    return { line: at.line, column: at.col };
  }

  /** A diagnostic located at `path`. */
  diagnostic(path: Path, message: string, code: string, key = false): Diagnostic {
    const at = this.positionOf(path, key);
    return { file: this.file, line: at.line, column: at.column, message, code };
  }
}

/** Alias expansions `toJS` allows before calling it resource exhaustion (the yaml library's default). */
export const MAX_ALIAS_COUNT = 100;
export { MAX_DEPTH };

/** The yaml library's message, first line, without its own position, in words a scenario author acts on. */
function yamlMessage(error: YAMLError): string {
  if (error.code === 'MULTIPLE_DOCS') return 'a second document starts here (---): a scenario file holds one YAML document; put each scenario in its own file';
  if (error.code === 'RESOURCE_EXHAUSTION') return `nesting too deep for the parser (${error.message.split(' at line')[0]}): scenario files nest a few levels, at most ${MAX_DEPTH}`;
  return error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Nesting past MAX_DEPTH, found without recursion (the document may be deeper than the stack). */
function limits(doc: Document, at: (offset: number) => Omit<Diagnostic, 'message' | 'code'>): Diagnostic[] {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) {
      return [{ ...at(node.range?.[0] ?? 0), message: `YAML: nested ${MAX_DEPTH + 1} levels deep here, past the limit of ${MAX_DEPTH}: scenario files nest a few levels (the reference example, 5)`, code: 'yaml-depth' }];
    }
    for (const item of node.items) stack.push({ node: isPair(item) ? item.value : item, depth: depth + 1 });
  }
  return [];
}

/**
 * Integer literals the yaml library would turn into rounded floats (2^53 and
 * up) are kept as their source text, which units.ts reads exactly (and
 * refuses when the simulator cannot hold them).
 */
function exactIntegers(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && Number.isInteger(node.value) && !Number.isSafeInteger(node.value) && node.source !== undefined) node.value = node.source;
    },
  });
}
