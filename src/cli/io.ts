/** Where commands write: injectable so tests capture output without spawning processes. */
import { mkdirSync, writeFileSync } from 'node:fs';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  writeFile(path: string, text: string): void;
  /** Creates a directory and its parents (no error when it exists). */
  makeDir(path: string): void;
  /** Whether stdout is a colour terminal. */
  readonly color: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  writeFile: (path, text) => writeFileSync(path, text),
  makeDir: (path) => void mkdirSync(path, { recursive: true }),
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
};

/** An Io that records everything, for tests. */
export function memoryIo(): Io & { stdout: string; stderr: string; files: Map<string, string> } {
  const io = {
    stdout: '',
    stderr: '',
    files: new Map<string, string>(),
    color: false,
    out(text: string) {
      io.stdout += text.endsWith('\n') ? text : `${text}\n`;
    },
    err(text: string) {
      io.stderr += text.endsWith('\n') ? text : `${text}\n`;
    },
    writeFile(path: string, text: string) {
      io.files.set(path, text);
    },
    makeDir() {},
  };
  return io;
}
