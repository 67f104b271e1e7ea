/**
 * A scenario's YAML with source positions (the `yaml` library keeps node
 * ranges; a LineCounter turns offsets into line:column), so every error
 * can point at the key or value it is about.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';

export type Path = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

export class SourceFile {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses YAML text; YAML syntax errors come back as diagnostics. */
  static parse(file: string, text: string): { source: SourceFile; data: unknown; diagnostics: Diagnostic[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, version: '1.2' });
    const source = new SourceFile(file, doc, lines);
    const diagnostics = [...doc.errors, ...doc.warnings].map((error) => {
      const at = lines.linePos(error.pos[0]);
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { file, line: at.line, column: at.col, message: `YAML: ${message}`, code: 'yaml' };
    });
    return { source, data: diagnostics.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined, diagnostics };
  }

  /**
   * Position of the node at `path` (its key when `key` is set). When the
   * path leads past what the file holds (a missing key), the deepest node
   * that exists is used.
   */
  positionOf(path: Path, key = false): Position {
    let node: unknown = this.doc.contents;
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
    const at = this.lines.linePos(offset);
    return { line: at.line, column: at.col };
  }

  /** A diagnostic located at `path`. */
  diagnostic(path: Path, message: string, code: string, key = false): Diagnostic {
    const at = this.positionOf(path, key);
    return { file: this.file, line: at.line, column: at.column, message, code };
  }
}
