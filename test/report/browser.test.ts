/**
 * The library report in a real browser (Debian's chromium, driven by
 * playwright-core): open it from file://, pick a scenario, click a matrix
 * cell, and check that the run's TLP path appears on the picture, that
 * every evidence link names a hop on the page and jumps to it, and that
 * hostile scenario strings stay text. Screenshots go to out/browser/
 * (gitignored) for people to look at. Skipped, saying why, where no
 * Chromium can be had; .ci/run installs it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';

const root = join(import.meta.dirname, '../..');
const output = join(root, 'out/browser');
const CHROMIUM = process.env.TLPLAB_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set TLPLAB_CHROMIUM); .ci/run installs it`);

/** The launch flags the machine notes prescribe: no sandbox as root, and no background traffic on a closed network. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function report(paths: string[], file: string): Promise<string> {
  const io = memoryIo();
  const code = await main(['report', ...paths, '--html', file], io);
  if (code !== 0) throw new Error(`report exited ${code}: ${io.stderr}`);
  writeFileSync(file, io.files.get(file)!);
  return pathToFileURL(file).href;
}

describe.skipIf(!available)('the HTML report in Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  let library: string;
  let profile: string;
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(output, { recursive: true });
    library = await report([join(root, 'scenarios')], join(output, 'library.html'));
    profile = mkdtempSync(join(tmpdir(), 'tlplab-chromium-'));
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('request', (r) => void (r.url().startsWith('file:') || r.url().startsWith('data:') || requests.push(r.url())));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('opens on the contents, lists every scenario, and loads nothing from the network', async () => {
    await page.goto(library);
    await expect.poll(() => page.locator('#contents').isVisible()).toBe(true);
    expect(await page.locator('table.toc tbody tr').count()).toBe(discoverScenarios([join(root, 'scenarios')]).length);
    await page.screenshot({ path: join(output, 'contents.png') });
    expect(requests).toEqual([]);
  });

  it('clicking a matrix cell draws that run\'s TLP on the picture, hop by hop, stopped or landed where it ended', async () => {
    await page.goto(`${library}#contents`);
    await page.click('table.toc a:text-is("p2p-behind-switch")');
    const section = page.locator('section.scenario.current');
    await expect.poll(() => section.locator('h2').textContent()).toContain('PCIe switch');
    // sw-dp0 without ACS, classic groups, no override, hostile firmware: the write goes peer to peer (PCIe 6.0 §6.12).
    const breached = section.locator('table.matrix td.cell.breached').first();
    await breached.locator('a').click();
    const run = await breached.getAttribute('data-run');
    const detail = page.locator(`.run.current`);
    expect(await detail.getAttribute('id')).toBe(run);
    const svg = page.locator('section.scenario.current svg.topology.current');
    expect(await svg.isVisible()).toBe(true);
    const path = svg.locator(`g.run-path[data-run="${run}"]`);
    expect(await path.first().getAttribute('display')).toBe('inline');
    expect(await path.locator('g.tlp-line polyline').count()).toBeGreaterThan(0);
    expect(await path.locator('g.end-breach text').first().textContent()).toContain('breach: bar-write');
    // Every other run's path is hidden.
    expect(await svg.locator(`g.run-path[display="inline"]:not([data-run="${run}"])`).count()).toBe(0);
    // The hop list names the rule of each hop, including the one that let it through.
    expect(await detail.locator('table.hops').textContent()).toContain('no ACS capability: peer-to-peer routed directly');
    await page.screenshot({ path: join(output, 'p2p-behind-switch.png') });

    // A run the IOMMU stops: RR at the ingress port sends the write up, the IOMMU faults it.
    const isolated = section.locator('table.matrix td.cell.isolated').last();
    await isolated.locator('a').click();
    const stopped = svg.locator(`g.run-path[data-run="${await isolated.getAttribute('data-run')}"] g.end-stopped text`);
    expect(await stopped.first().textContent()).toMatch(/✕ faulted/);
  });

  it('every evidence link on the page names a hop that is on the page, and following one shows it', async () => {
    await page.goto(library);
    // Evaluated in the page (a string: the test's own types know no DOM).
    const broken = await page.evaluate<string[]>(`[...document.querySelectorAll('.evidence a')].map((a) => a.getAttribute('href').slice(1)).filter((id) => !document.getElementById(id)?.matches('.run tr[id]'))`);
    expect(broken).toEqual([]);
    expect(await page.locator('.evidence a').count()).toBeGreaterThan(100);
    await page.goto(`${library}#contents`);
    await page.click('table.toc a:text-is("spoofed-msi")');
    const link = page.locator('.run.current .evidence a').first();
    const target = (await link.getAttribute('href'))!.slice(1);
    await link.click();
    await expect.poll(() => page.evaluate<string>('location.hash.slice(1)')).toBe(target);
    expect(await page.locator(`[id="${target}"]`).isVisible()).toBe(true);
    await page.screenshot({ path: join(output, 'spoofed-msi-evidence.png') });
  });

  it('switches the IOMMU groups drawn between classic and per-bus', async () => {
    await page.goto(`${library}#contents`);
    await page.click('table.toc a:text-is("p2p-behind-switch")');
    const svg = page.locator('section.scenario.current svg.topology.current');
    await page.check('input[name="groups"][value="per-bus"]');
    expect(await svg.locator('g.g-per-bus').isVisible()).toBe(true);
    expect(await svg.locator('g.g-classic').isVisible()).toBe(false);
    await page.check('input[name="groups"][value="classic"]');
    expect(await svg.locator('g.g-classic').isVisible()).toBe(true);
    expect(await svg.locator('g.g-per-bus').isVisible()).toBe(false);
  });

  it('renders names with <script>, quotes and & as text and runs none of them', async () => {
    const hostile = await report([join(root, 'test/fixtures/scenarios/hostile-names.yaml')], join(output, 'hostile.html'));
    await page.goto(`${hostile}#s1-hostile-names`);
    expect(await page.evaluate<string>('typeof window.pwned')).toBe('undefined');
    expect(await page.locator('section.scenario.current h2').textContent()).toBe(`A <script>window.pwned = 'title'</script> & "quoted" 'title'`);
    expect(await page.locator('section.scenario.current svg.topology.current g[data-node] text.label').allTextContents()).toContain("<script>window.pwned='nic'</script>");
    await page.screenshot({ path: join(output, 'hostile-names.png') });
  });
});
