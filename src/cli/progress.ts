/**
 * The progress bar of long runs, on stderr (cli-progress). It appears only
 * once a run has lasted a second, so short runs never flash one, and the
 * caller decides whether it may appear at all (io.ts: a terminal, not CI,
 * no NO_COLOR, not --json).
 */
import type cliProgressModule from 'cli-progress';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

/** Loaded on first use: `--version` and piped runs never pay for it. */
const load = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;

export interface Progress {
  /** `done` of the total finished; `label` names what runs now. */
  update(done: number, label?: string): void;
  /** Erases the bar's line (before other output goes to the same terminal). */
  clear(): void;
  /** Draws it again after `clear()`. */
  redraw(): void;
  stop(): void;
}

/** Milliseconds before the bar appears. */
export const PROGRESS_DELAY_MS = 1000;

export function startProgress(stream: NodeJS.WriteStream, total: number, label: string, delayMs = PROGRESS_DELAY_MS): Progress {
  const started = performance.now();
  let bar: cliProgressModule.SingleBar | null = null;
  let current = label;
  const rate = (done: number) => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? Math.round(done / seconds).toLocaleString('en-US') : '–';
  };
  return {
    update(done, next) {
      if (next !== undefined) current = next;
      if (bar === null) {
        if (performance.now() - started < delayMs) return;
        const cliProgress = load();
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: '{bar} {value}/{total} runs | {rate} runs/s | ETA {eta_formatted} | {label}',
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            forceRedraw: true,
            linewrap: false,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { rate: rate(done), label: current });
      }
      bar.update(done, { rate: rate(done), label: current });
    },
    clear() {
      if (bar !== null) stream.write('\r\x1b[2K');
    },
    redraw() {
      bar?.render();
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
