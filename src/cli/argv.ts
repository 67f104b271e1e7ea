/**
 * Argument spellings cac cannot tell apart, settled before it parses.
 *
 * `--json` never takes a separate value: `tlplab run --json my.yaml` runs
 * my.yaml and prints JSON (an optional value would swallow the scenario and
 * the JSON would overwrite it — issue 18). A file is named with `--json=FILE`
 * or `--json-file FILE`; the old `--json FILE` keeps working only where it
 * cannot be a scenario: FILE ends in `.json`.
 *
 * `--color` / `--no-color` are read here so that "neither" stays distinct
 * from both (cac defaults a negatable flag to true).
 */
export interface ParsedArgv {
  readonly argv: string[];
  /** --color (true), --no-color (false), or neither. */
  readonly color: boolean | undefined;
  /**
   * Address and data flags as typed: cac turns "0x10000000000000000" into a
   * rounded number before a command sees it, and addresses are read exactly.
   */
  readonly exact: Readonly<Record<string, string>>;
}

/**
 * Flags whose values are Linux versions: cac would read "5.10" as the number
 * 5.1; a leading "v" (which parseKernelVersion accepts) keeps them text.
 */
const VERSION_FLAGS = new Set(['--kernel', '--diff-kernel']);

/** Flags whose values are addresses or data (camel-cased as cac names them). */
const EXACT_FLAGS: Record<string, string> = { '--write': 'write', '--read': 'read', '--data': 'data' };

export function preprocessArgv(input: readonly string[]): ParsedArgv {
  const argv: string[] = [];
  const exact: Record<string, string> = {};
  let color: boolean | undefined;
  for (let i = 0; i < input.length; i++) {
    const arg = input[i]!;
    if (arg === '--') {
      argv.push(...input.slice(i));
      break;
    }
    if (arg === '--color' || arg === '--no-color') {
      color = arg === '--color';
      continue;
    }
    if (arg.startsWith('--json=')) {
      argv.push('--json-file', arg.slice('--json='.length));
      continue;
    }
    const next = input[i + 1];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (EXACT_FLAGS[flag] !== undefined && (inline !== undefined || next !== undefined)) exact[EXACT_FLAGS[flag]!] = inline ?? next!;
    if (VERSION_FLAGS.has(flag) && inline !== undefined && /^\d/.test(inline)) {
      argv.push(`${flag}=v${inline}`);
      continue;
    }
    if (VERSION_FLAGS.has(flag) && inline === undefined && next !== undefined && /^\d/.test(next)) {
      argv.push(arg, `v${next}`);
      i++;
      continue;
    }
    if (arg === '--json' && next !== undefined && !next.startsWith('-') && /\.json$/i.test(next)) {
      argv.push('--json-file', next);
      i++;
      continue;
    }
    argv.push(arg);
  }
  return { argv, color, exact };
}
