/**
 * The `tlplab` command line: one table of commands and options (cac), and
 * the single place where the process exit code is set (DESIGN.md §4).
 */
import { cac } from 'cac';
import { ExitCode, exitCodeFor, isUserError } from './exit.ts';
import { processIo, type Io } from './io.ts';
import { registerCommands } from './commands.ts';

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const cli = cac('tlplab');
  let result: Promise<number> | number = ExitCode.ok;
  registerCommands(cli, io, (pending) => {
    result = pending;
  });
  cli.help();
  cli.version('0.1.0');
  try {
    cli.parse(['node', 'tlplab', ...keepVersionsAsText(argv)], { run: false });
    if (cli.matchedCommand === undefined) {
      if (cli.options.help || cli.options.version) return ExitCode.ok;
      const name = cli.args[0];
      io.err(name === undefined ? 'tlplab: no command given (try `tlplab --help`)' : `tlplab: unknown command '${name}' (try \`tlplab --help\`)`);
      return ExitCode.usage;
    }
    await cli.runMatchedCommand();
    return await result;
  } catch (error) {
    return reportFailure(error, io);
  }
}

/** Options whose values are Linux versions: "5.10" must not become the number 5.1 (cac's parser reads numbers). */
const VERSION_OPTIONS = new Set(['--kernel', '--diff-kernel']);

function keepVersionsAsText(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const eq = /^(--[a-z-]+)=(\d.*)$/.exec(arg);
    if (eq && VERSION_OPTIONS.has(eq[1]!)) return `${eq[1]}=v${eq[2]}`;
    return /^\d+\.\d+/.test(arg) && i > 0 && VERSION_OPTIONS.has(argv[i - 1]!) ? `v${arg}` : arg;
  });
}

function reportFailure(error: unknown, io: Io): number {
  const code = exitCodeFor(error);
  if (isUserError(error) || (error instanceof Error && error.name === 'CACError')) {
    io.err(`tlplab: ${error.message}`);
    return ExitCode.usage;
  }
  const detail = error instanceof Error ? (process.env.TLPLAB_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
  io.err(`tlplab: internal error: ${detail}\n(this is a bug in tlplab; rerun with TLPLAB_DEBUG=1 for the stack)`);
  return code;
}
