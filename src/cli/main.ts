/**
 * The `tlplab` command line: one table of commands and options (cac), and
 * the single place where the process exit code is set (DESIGN.md §4).
 * Command modules load only when their command runs, so `tlplab --version`
 * starts without the simulator.
 */
import { cac, type CAC } from 'cac';
import { didYouMean } from '../scenario/diagnostics.ts';
import { preprocessArgv } from './argv.ts';
import { COMMAND_NAMES, registerCommands } from './commands.ts';
import { ExitCode, exitCodeFor, isUserError } from './exit.ts';
import { processIo, type Io } from './io.ts';
import { packageInfo } from './package-info.ts';

const EXIT_CODES = `  0  every expectation met
  1  an expectation failed (an isolation regression; explain/send: not as expected)
  2  usage or scenario-validation error (file:line:column: message)
  3  internal error (a bug in tlplab; TLPLAB_DEBUG=1 prints the stack)`;

/** Runs one command line; `io` defaults to the process streams (with --color / --no-color applied). */
export async function main(rawArgv: readonly string[], io?: Io): Promise<number> {
  const { argv, color, exact } = preprocessArgv(rawArgv);
  // --color / --no-color apply to an injected Io too (tests).
  const out = io === undefined ? processIo(color) : color === undefined ? io : { ...io, color };
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    out.out(`tlplab ${packageInfo().version}`);
    return ExitCode.ok;
  }
  const cli = cac('tlplab');
  let result: Promise<number> | number = ExitCode.ok;
  registerCommands(
    cli,
    out,
    (pending) => {
      result = pending;
    },
    exact,
  );
  cli.option('--color', 'Colour even when stdout is not a terminal; --no-color: none, and no progress bar (also NO_COLOR=1)');
  cli.option('-h, --help', 'Display this message');
  cli.option('-v, --version', 'Display the version');
  try {
    cli.parse(['node', 'tlplab', ...argv], { run: false });
    if (cli.options.help) {
      out.out(helpText(cli));
      return ExitCode.ok;
    }
    if (cli.matchedCommand === undefined) {
      if (cli.options.version) {
        out.out(`tlplab ${packageInfo().version}`);
        return ExitCode.ok;
      }
      const name = cli.args[0];
      if (name === undefined) {
        // No command: help on stdout, but not exit 0 — a CI line that lost its arguments must not pass.
        out.out(helpText(cli));
        return ExitCode.usage;
      }
      out.err(`tlplab: unknown command '${name}'${didYouMean(name, COMMAND_NAMES)} (commands: ${COMMAND_NAMES.join(', ')}; try \`tlplab --help\`)`);
      return ExitCode.usage;
    }
    await cli.runMatchedCommand();
    return await result;
  } catch (error) {
    return reportFailure(error, out);
  }
}

/** cac's help for the matched command (or the global one), with the exit codes, captured instead of printed. */
function helpText(cli: CAC): string {
  const lines: string[] = [];
  const info = console.info;
  console.info = (text: string) => void lines.push(text);
  try {
    cli.globalCommand.helpCallback = (sections) => [...sections, { title: 'Exit codes', body: EXIT_CODES }];
    cli.globalCommand.versionNumber = packageInfo().version;
    if (cli.matchedCommand) cli.matchedCommand.outputHelp();
    else cli.globalCommand.outputHelp();
  } finally {
    console.info = info;
  }
  return lines.join('\n');
}

function reportFailure(error: unknown, io: Io): number {
  const code = exitCodeFor(error);
  if (isUserError(error) || (error instanceof Error && error.name === 'CACError')) {
    const message = error.message.replace(/^Unknown option `(--?[\w-]+)`$/, (_, option: string) => unknownOption(option));
    io.err(`tlplab: ${message}`);
    return ExitCode.usage;
  }
  const detail = error instanceof Error ? (process.env.TLPLAB_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
  io.err(`tlplab: internal error: ${detail}\n(this is a bug in tlplab; rerun with TLPLAB_DEBUG=1 for the stack)`);
  return code;
}

function unknownOption(option: string): string {
  const known = ['--json', '--json-file', '--junit', '--variant', '--filter', '--seed', '--jobs', '--shard', '--bail', '--max-runs', '--html', '--markdown', '--verbose', '--force', '--expect', '--color', '--no-color', '--help'];
  return `unknown option '${option}'${didYouMean(option, known)} (see \`tlplab <command> --help\`)`;
}
