/**
 * Turns a pasted lspci dump into logical lines: quote prefixes ("> ")
 * removed when the whole paste is quoted, NBSP indentation (Thunderbird,
 * Outlook) made plain, config-space hex dumps (`lspci -x`) set apart, and
 * mail-client wraps re-joined: a line that is neither a device header nor
 * starts with a "Key:" field continues the line before it.
 */

export interface LogicalLine {
  /** 1-based line number in the input where the logical line starts. */
  readonly line: number;
  /** Text without indentation or quote prefix; wrapped parts joined with a space. */
  text: string;
  /** Leading whitespace width (tabs count 8) of the first physical line. */
  readonly indent: number;
}

export interface HexLine {
  readonly line: number;
  readonly offset: number;
  readonly bytes: readonly number[];
}

export type DumpLine = ({ kind: 'text' } & LogicalLine) | ({ kind: 'hex' } & HexLine) | { kind: 'blank'; line: number };

/** A device header: [domain:]bus:dev.fn, optionally a -PP path of BDFs, then "Class: description". */
export const HEADER =
  /^(?:([0-9a-fA-F]{4,5}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{2})\.([0-7])((?:\/[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])*)\s+(\S.*)$/;

const HEX_DUMP = /^([0-9a-fA-F]{2,3}):((?:\s[0-9a-fA-F]{2}){16})\s*$/;
/** "Key:" (followed by space or end), or a -v style BAR line. */
const FIELD = /^(?:[A-Za-z][A-Za-z0-9 /#.&()_+-]{0,40}:(?:\s|$)|Memory at |I\/O ports at |Expansion ROM at |\[virtual\] )/;
const QUOTE = /^(?:>[ \t]?)+/;

export function splitDump(text: string): DumpLine[] {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  const nonEmpty = raw.filter((l) => l.trim() !== '');
  const quoted = nonEmpty.length > 0 && nonEmpty.filter((l) => QUOTE.test(l)).length * 2 > nonEmpty.length;
  const out: DumpLine[] = [];
  let previous: (LogicalLine & { kind: 'text' }) | undefined;
  raw.forEach((original, index) => {
    const line = index + 1;
    let body = original.replace(/\u00a0/g, ' ');
    if (quoted) body = body.replace(QUOTE, '');
    const stripped = body.replace(/^[ \t]+/, '');
    if (stripped.trim() === '') {
      out.push({ kind: 'blank', line });
      previous = undefined;
      return;
    }
    const indentText = body.slice(0, body.length - stripped.length);
    const indent = [...indentText].reduce((n, ch) => n + (ch === '\t' ? 8 : 1), 0);
    const textLine = stripped.replace(/\s+$/, '');
    const hex = HEX_DUMP.exec(textLine);
    if (hex) {
      out.push({ kind: 'hex', line, offset: parseInt(hex[1]!, 16), bytes: hex[2]!.trim().split(/\s+/).map((b) => parseInt(b, 16)) });
      previous = undefined;
      return;
    }
    const isHeader = indent === 0 && HEADER.test(textLine) && /:\s/.test(HEADER.exec(textLine)![6]!);
    if (!isHeader && previous && !FIELD.test(textLine)) {
      previous.text += ` ${textLine}`;
      return;
    }
    previous = { kind: 'text', line, text: textLine, indent };
    out.push(previous);
  });
  return out;
}
