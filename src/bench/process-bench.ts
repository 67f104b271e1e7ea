/**
 * Figure 6: start-up as a user meets it — whole processes of the shipped
 * CLI (bin/tlplab.js, which runs the bundle in dist/), timed from spawn to
 * exit, the median of the runs after a warm-up (issue 13). Targets:
 * `tlplab --version` < 150 ms, `tlplab run scenarios/spoofed-msi.yaml`
 * < 300 ms, `npm start` (the whole library) < 1 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../package-root.ts';
import { median, type MeasureOptions } from './measure.ts';

export interface ProcessFigure {
  readonly label: string;
  /** As a user types it. */
  readonly command: string;
  readonly medianMs: number | null;
  readonly runsMs: readonly number[];
  readonly targetMs: number;
  /** null when not measured (see note). */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface ProcessCommand {
  readonly label: string;
  readonly command: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly targetMs: number;
  readonly env?: Readonly<Record<string, string>>;
}

export function cliCommand(label: string, args: readonly string[], targetMs: number, env?: Readonly<Record<string, string>>): ProcessCommand {
  return { label, command: `tlplab ${args.join(' ')}`, file: process.execPath, args: [join(packageRoot(), 'bin', 'tlplab.js'), ...args], targetMs, ...(env ? { env } : {}) };
}

export const STARTUP_COMMANDS = (): ProcessCommand[] => [
  cliCommand('version', ['--version'], 150),
  cliCommand('one scenario', ['run', 'scenarios/spoofed-msi.yaml'], 300),
  { label: 'npm start', command: 'npm start', file: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: ['start', '--silent'], targetMs: 1000 },
];

/** Wall time of one whole process, ms; output is read and dropped. Throws when it does not exit 0 or 1. */
export function timeProcess(command: ProcessCommand): number {
  const start = performance.now();
  const result = spawnSync(command.file, command.args, { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', ...command.env } });
  const ms = performance.now() - start;
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0 && result.status !== 1) throw new Error(`exit ${result.status}: ${result.stderr.toString().trim().split('\n')[0]}`);
  return ms;
}

/** Why whole-process figures cannot be taken here, or null. */
export function builtCliMissing(): string | null {
  return existsSync(join(packageRoot(), 'dist', 'tlplab.js')) ? null : 'not measured: dist/ is not built (npm run build)';
}

export function benchProcesses(commands: readonly ProcessCommand[], timing: MeasureOptions): ProcessFigure[] {
  const missing = builtCliMissing();
  return commands.map((c) => {
    const base = { label: c.label, command: c.command, targetMs: c.targetMs };
    if (missing !== null) return { ...base, medianMs: null, runsMs: [], met: null, note: missing };
    try {
      for (let i = 0; i < Math.min(1, timing.warmups ?? 1); i++) timeProcess(c);
      const runsMs = Array.from({ length: timing.runs ?? 5 }, () => timeProcess(c));
      const medianMs = median(runsMs);
      return { ...base, medianMs, runsMs, met: medianMs < c.targetMs };
    } catch (error) {
      return { ...base, medianMs: null, runsMs: [], met: null, note: `not measured: ${(error as Error).message}` };
    }
  });
}
