/**
 * Output files are checked before any work starts: no command writes over
 * one of its inputs, a YAML file, or a file that exists and is not an
 * earlier tlplab output, unless --force; a directory is never a file.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './exit.ts';

/** Whether the head of a file is one of tlplab's own outputs (JSON, JUnit, HTML, Markdown). */
export function isTlplabOutput(head: string): boolean {
  return (
    /^\s*\{\s*"schema"\s*:\s*"tlplab\//.test(head) ||
    /<testsuites name="tlplab"/.test(head) ||
    /<title>tlplab\b/i.test(head) ||
    /^# tlplab\b/.test(head)
  );
}

function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const canonical = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

export interface OutputTarget {
  /** The flag that names it, for messages ("--junit"). */
  readonly flag: string;
  readonly path: string;
}

/** Throws a UsageError (exit 2) for the first output that would destroy something. */
export function checkOutputs(targets: readonly OutputTarget[], inputs: readonly string[], force: boolean): void {
  const inputPaths = new Set(inputs.map(canonical));
  const seen = new Map<string, string>();
  for (const { flag, path } of targets) {
    const where = canonical(path);
    const other = seen.get(where);
    if (other !== undefined) throw new UsageError(`${flag} ${path}: ${other} already writes that file; give each output its own file`, 'OUTPUT_PATH');
    seen.set(where, flag);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) throw new UsageError(`${flag} ${path}: that is a directory; give a file name, e.g. ${path.replace(/\/?$/, '/')}tlplab.out`, 'OUTPUT_PATH');
    if (force) continue;
    if (inputPaths.has(where)) throw new UsageError(`${flag} ${path}: that is one of the inputs; refusing to overwrite it (pass --force if you mean it)`, 'OUTPUT_PATH');
    if (/\.ya?ml$/i.test(path)) throw new UsageError(`${flag} ${path}: refusing to write over a YAML file (scenarios are YAML); name the output .json/.xml/.html/.md, or pass --force`, 'OUTPUT_PATH');
    if (stat?.isFile() && stat.size > 0 && !isTlplabOutput(readHead(path))) {
      throw new UsageError(`${flag} ${path}: the file exists and is not an earlier tlplab output; refusing to overwrite it (pass --force to replace it)`, 'OUTPUT_PATH');
    }
  }
}
