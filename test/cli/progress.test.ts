/** The progress bar appears only where a person watches (issue 13 part 3), and says count, rate and ETA. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { colorFor, progressAllowed, type Terminal } from '../../src/cli/io.ts';
import { startProgress } from '../../src/cli/progress.ts';

const tty = (env: Record<string, string | undefined> = {}, stderrTTY = true): Terminal => ({ stdoutTTY: true, stderrTTY, env });

describe('where the bar may appear', () => {
  it.each([
    ['a terminal', tty(), undefined, true],
    ['stderr piped', tty({}, false), undefined, false],
    ['NO_COLOR=1', tty({ NO_COLOR: '1' }), undefined, false],
    ['CI=true', tty({ CI: 'true' }), undefined, false],
    ['CI=false', tty({ CI: 'false' }), undefined, true],
    ['TERM=dumb', tty({ TERM: 'dumb' }), undefined, false],
    ['--no-color', tty(), false, false],
  ])('%s: %s', (_name, terminal, flag, allowed) => expect(progressAllowed(terminal, flag)).toBe(allowed));
});

describe('colour', () => {
  it.each([
    [tty(), undefined, true],
    [{ ...tty(), stdoutTTY: false }, undefined, false],
    [{ ...tty(), stdoutTTY: false }, true, true],
    [tty({ NO_COLOR: '1' }), undefined, false],
    [tty({ NO_COLOR: '1' }), true, true],
    [tty(), false, false],
  ])('%j with flag %s: %s', (terminal, flag, color) => expect(colorFor(terminal, flag)).toBe(color));
});

describe('the bar', () => {
  function stream() {
    const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo: () => boolean; clearLine: () => boolean };
    s.isTTY = true;
    s.columns = 120;
    let text = '';
    s.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { s, text: () => text };
  }

  it('draws count, rate and ETA once the run is long enough, and erases itself at the end', () => {
    const { s, text } = stream();
    const bar = startProgress(s as unknown as NodeJS.WriteStream, 200, 'spoofed-msi', 0);
    bar.update(50, 'spoofed-msi');
    bar.stop();
    expect(text()).toMatch(/50\/200 runs \| [\d,–]+ runs\/s \| ETA \S+ \| spoofed-msi/);
  });

  it('draws nothing before its delay: short runs never flash a bar', () => {
    const { s, text } = stream();
    const bar = startProgress(s as unknown as NodeJS.WriteStream, 200, 'x', 60_000);
    bar.update(199);
    bar.stop();
    expect(text()).toBe('');
  });
});
