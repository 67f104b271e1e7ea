/**
 * The HTML and Markdown reports as text (no browser): self-contained, every
 * in-page link resolves, every breach's evidence is a hop row, scenario
 * strings are escaped everywhere (src/report/escape.ts).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';
import { esc, linkify, md, slug } from '../../src/report/escape.ts';
import { splitAxes } from '../../src/report/html-matrix.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';

const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/scenarios');

async function report(...paths: string[]): Promise<{ html: string; markdown: string; code: number }> {
  const io = memoryIo();
  const code = await main(['report', ...paths, '--html', 'r.html', '--markdown', 'r.md'], io);
  return { html: io.files.get('r.html')!, markdown: io.files.get('r.md')!, code };
}

const ids = (html: string) => new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
const hrefs = (html: string) => [...html.matchAll(/href="#([^"]*)"/g)].map((m) => m[1]!);

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    [`"quoted" & 'single'`, '&quot;quoted&quot; &amp; &#39;single&#39;'],
  ])('esc(%s)', (text, escaped) => expect(esc(text)).toBe(escaped));

  it('links http(s) URLs and escapes everything around and inside them', () => {
    expect(linkify('see https://x.org/a?b=1&c=2. <b>')).toBe('see <a href="https://x.org/a?b=1&amp;c=2" rel="noreferrer">https://x.org/a?b=1&amp;c=2</a>. &lt;b&gt;');
  });

  it('keeps Markdown table cells and inline HTML inert', () => {
    expect(md('a|b <script> & `x`')).toBe('a\\|b &lt;script&gt; &amp; \\`x\\`');
  });

  it('makes ids of anything', () => expect(slug('a<b>"c')).toMatch(/^[A-Za-z0-9_-]+$/));
});

describe('a scenario with <script>, quotes and & in its names', () => {
  let html: string;
  let markdown: string;
  beforeAll(async () => ({ html, markdown } = await report(join(fixtures, 'hostile-names.yaml'))));

  it('carries exactly one script, the page\'s own, and no unescaped scenario markup', () => {
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>tags');
    expect(html).toContain('&lt;script&gt;window.pwned=&#39;nic&#39;&lt;/script&gt;');
    expect(html).toContain('A &lt;script&gt;window.pwned = &#39;title&#39;&lt;/script&gt; &amp; &quot;quoted&quot; &#39;title&#39;');
    expect(html).toContain('<a href="https://example.org/x?a=1&amp;b=2" rel="noreferrer">');
  });

  it('escapes the Markdown too', () => {
    expect(markdown).not.toMatch(/<script|<img/);
    expect(markdown).toContain('&lt;script&gt;');
  });
});

describe('the library report', () => {
  const library = discoverScenarios([join(root, 'scenarios')]).map((f) => loadScenarioFile(f));
  let html: string;
  let code: number;
  beforeAll(async () => ({ html, code } = await report(join(root, 'scenarios'))), 60_000);

  it('is one self-contained file: no external scripts, styles, fonts or images', () => {
    expect(code).toBe(0);
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\s|@import|url\(|<img|@font-face/);
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('has a contents table, a section per scenario, and a link for every in-page reference', () => {
    const anchors = ids(html);
    expect(html.match(/<section class="scenario[" ]/g)).toHaveLength(library.length + 1);
    expect(html.match(/<table class="toc">[^]*?<\/table>/)![0].match(/<tr><td>\d+<\/td>/g)).toHaveLength(library.length);
    const missing = hrefs(html).filter((id) => id !== 'contents' && !anchors.has(id));
    expect(missing).toEqual([]);
  });

  it('turns every breach\'s evidence into links to hop rows of the same run', () => {
    const evidence = [...html.matchAll(/<a href="#(r\d+)-h(\d+)">#(\d+)<\/a>/g)];
    expect(evidence.length).toBeGreaterThan(100);
    for (const [, run, record, shown] of evidence) {
      expect(record).toBe(shown);
      expect(html).toContain(`<tr id="${run}-h${record}">`);
    }
  });

  it('draws one picture per distinct machine, each run\'s path on its picture', () => {
    const runs = [...html.matchAll(/<div class="run" id="(r\d+)" data-picture="([^"]+)"/g)];
    expect(runs).toHaveLength(library.reduce((n, s) => n + s.variants.length, 0));
    for (const [, run, picture] of runs) expect(html).toMatch(new RegExp(`<svg [^>]*id="${picture}"[^]*?data-run="${run}"`));
  });
});

describe('the Markdown report', () => {
  it('shows, for a run that missed its expectation, why it was expected, what landed and each TLP\'s path', async () => {
    const { markdown, code } = await report(join(fixtures, 'wrong-expectation.yaml'));
    expect(code).toBe(1);
    expect(markdown).toContain('# tlplab isolation matrix ❌');
    expect(markdown).toContain('### ✗ base: expected isolated, got breached');
    expect(markdown).toContain('Expected because: deliberately wrong &lt;for&gt; the "JUnit" &amp; exit-code tests');
    expect(markdown).toMatch(/- \*\*interrupt-injection\*\* \(vm1 → host\): .* — trace records \d+/);
    expect(markdown).toContain('<details><summary>TLP paths</summary>');
    expect(markdown).toMatch(/\| #\d+ \| 0ns \| nic \| issue \|/);
  });
});

describe('matrix layout', () => {
  it.each([
    [[4], 1],
    [[2, 2], 1],
    [[2, 2, 2], 2],
    [[3, 2, 2, 2], 2],
    [[2, 8], 2],
    [[2, 2, 8, 8], 4],
  ])('axes of sizes %j: %d down, the rest across (at most 6 columns)', (sizes, down) => expect(splitAxes(sizes)).toBe(down));
});
