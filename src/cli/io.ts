/**
 * Where commands write: injectable so tests capture output without spawning
 * processes. Files are written whole to a temporary file beside the target
 * and renamed into place (an interrupted run leaves the old file whole);
 * missing directories are created; a closed stdout (EPIPE: `| head -1`)
 * makes further output a no-op instead of a crash.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './exit.ts';
import { startProgress, type Progress } from './progress.ts';

/** A file being written; nothing appears at its path until `close()`. */
export interface OutputFile {
  write(text: string): void;
  close(): void;
  /** Drops what was written; the old file, if any, stays. */
  abort(): void;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Resolves once stdout has taken what was written (back-pressure for long runs). */
  drain(): Promise<void>;
  writeFile(path: string, text: string): void;
  openFile(path: string): OutputFile;
  /** Whether stdout gets colour (a terminal without NO_COLOR, or --color). */
  readonly color: boolean;
  /** A progress bar on stderr, or null when stderr is not an interactive terminal (piped, NO_COLOR, CI). */
  progress(total: number, label: string): Progress | null;
}

/** Why a path cannot take an output file, or null. */
function directoryProblem(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return `'${path}' is a directory; give a file name, e.g. ${path.replace(/\/?$/, '/')}out`;
  } catch {
    return null;
  }
  return null;
}

/** Opens `path` for writing through a temporary file in the same directory. */
export function openOutputFile(path: string): OutputFile {
  const problem = directoryProblem(path);
  if (problem !== null) throw new UsageError(`cannot write ${problem}`, 'OUTPUT_PATH');
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new UsageError(`cannot create the directory of '${path}': ${(error as Error).message}`, 'OUTPUT_PATH');
  }
  const temporary = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, 'w');
  } catch (error) {
    throw new UsageError(`cannot write '${path}': ${(error as Error).message}`, 'OUTPUT_PATH');
  }
  let open = true;
  return {
    write(text) {
      writeSync(fd, text);
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
      renameSync(temporary, path);
    },
    abort() {
      if (!open) return;
      open = false;
      closeSync(fd);
      rmSync(temporary, { force: true });
    },
  };
}

const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** Environment facts that decide colour and progress. */
export interface Terminal {
  readonly stdoutTTY: boolean;
  readonly stderrTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Colour on stdout: --color / --no-color win, then NO_COLOR, then whether stdout is a terminal. */
export function colorFor(terminal: Terminal, flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  if (terminal.env.NO_COLOR !== undefined && terminal.env.NO_COLOR !== '') return false;
  return terminal.stdoutTTY;
}

/** A progress bar only where a person watches: stderr a terminal, not CI, no NO_COLOR, and not --no-color. */
export function progressAllowed(terminal: Terminal, colorFlag: boolean | undefined): boolean {
  const env = terminal.env;
  if (!terminal.stderrTTY || colorFlag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return false;
  return env.TERM !== 'dumb';
}

/** The real process streams. `colorFlag` is --color (true) / --no-color (false) / neither. */
export function processIo(colorFlag?: boolean): Io {
  const terminal: Terminal = { stdoutTTY: process.stdout.isTTY === true, stderrTTY: process.stderr.isTTY === true, env: process.env };
  let stdoutOpen = true;
  // EPIPE (the reader went away, e.g. `| head -1`): stop writing, keep the run's exit code.
  process.stdout.on('error', () => {
    stdoutOpen = false;
  });
  process.stderr.on('error', () => undefined);
  let active: Progress | null = null;
  const out = (text: string) => {
    if (!stdoutOpen) return;
    active?.clear();
    process.stdout.write(withNewline(text));
    active?.redraw();
  };
  return {
    out,
    err: (text) => {
      active?.clear();
      process.stderr.write(withNewline(text));
      active?.redraw();
    },
    drain: () =>
      new Promise<void>((resolve) => {
        if (!stdoutOpen || !process.stdout.writableNeedDrain) resolve();
        else {
          const done = () => {
            process.stdout.off('drain', done);
            process.stdout.off('error', done);
            resolve();
          };
          process.stdout.on('drain', done);
          process.stdout.on('error', done);
        }
      }),
    writeFile: (path, text) => {
      const file = openOutputFile(path);
      file.write(text);
      file.close();
    },
    openFile: openOutputFile,
    color: colorFor(terminal, colorFlag),
    progress(total, label) {
      if (!progressAllowed(terminal, colorFlag)) return null;
      const progress = startProgress(process.stderr, total, label);
      active = progress;
      const stop = progress.stop.bind(progress);
      progress.stop = () => {
        stop();
        active = null;
      };
      return progress;
    },
  };
}

/** An Io that records everything, for tests; with `disk`, files are also written for real (through openOutputFile). */
export function memoryIo(options: { disk?: boolean; color?: boolean } = {}): Io & { stdout: string; stderr: string; files: Map<string, string> } {
  const io = {
    stdout: '',
    stderr: '',
    files: new Map<string, string>(),
    color: options.color ?? false,
    out(text: string) {
      io.stdout += withNewline(text);
    },
    err(text: string) {
      io.stderr += withNewline(text);
    },
    drain: () => Promise.resolve(),
    writeFile(path: string, text: string) {
      const file = io.openFile(path);
      file.write(text);
      file.close();
    },
    openFile(path: string): OutputFile {
      const real = options.disk ? openOutputFile(path) : undefined;
      let text = '';
      return {
        write: (chunk) => {
          text += chunk;
          real?.write(chunk);
        },
        close: () => {
          real?.close();
          io.files.set(path, text);
        },
        abort: () => real?.abort(),
      };
    },
    progress: () => null,
  };
  return io;
}
