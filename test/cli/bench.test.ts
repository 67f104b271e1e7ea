/** `tlplab bench`: every figure slot of issue 8 with its target, as text and JSON (sizes kept tiny; nothing here is timed). */
import { describe, expect, it } from 'vitest';
import { formatBench } from '../../src/bench/format.ts';
import { missedTargets, type BenchReport } from '../../src/bench/suite.ts';
import { LIBRARY_DIR } from '../../src/bench/scenario-bench.ts';
import { discoverScenarios } from '../../src/scenario/suite.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { benchMatrix, matrixScenario, runMatrixOnce, writeMatrix } from '../../src/bench/matrix-bench.ts';
import { benchLong, benchShards, longScenario } from '../../src/bench/sweep-bench.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { tlplab } from './harness.ts';

// The whole-process and matrix figures (6–8) take a minute: tested below at small sizes.
const TINY = ['--only', 'kernel,flood,scenarios,groups,memory', '--endpoints', '4', '--tlps', '100', '--devices', '200', '--in-flight', '640', '--runs', '1', '--warmups', '0', '--events', '1000'];

describe('tlplab bench', () => {
  it('--json prints all five figures with targets', async () => {
    const { code, stdout } = await tlplab('bench', '--json', ...TINY);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as BenchReport;
    expect(report.schema).toBe('tlplab/bench-v1');
    expect(report.flood).toMatchObject({ endpoints: 4, tlpsPerEndpoint: 100, delivered: 252, faulted: 148, hops: 1600, target: 0.5 });
    const library = discoverScenarios([LIBRARY_DIR]);
    const runs = library.reduce((n, file) => n + loadScenarioFile(file).variants.length, 0);
    expect(report.scenarios).toMatchObject({ measured: true, scenarios: library.length, runs, targetMs: 2000 });
    expect(report.groups).toMatchObject({ functions: 200, targetMs: 200 });
    expect(report.memory).toMatchObject({ inFlight: 640, gcForced: true, targetBytes: 1e9 });
    expect(report.machine.node).toBe(process.version);
  }, 60_000);

  it('prints each figure with its target as text', async () => {
    const { code, stdout } = await tlplab('bench', ...TINY);
    expect(code).toBe(0);
    for (const line of ['1. flood', '2. bare binary-heap loop', '3. scenario library: ', '4. IOMMU groups', '5. memory, 640 TLPs in flight']) {
      expect(stdout).toContain(line);
    }
    expect(stdout).toMatch(/ratio tlplab\/bare = [\d.]+ {3}target ≥ 0\.50/);
  }, 60_000);

  it('rejects a bad size as a usage error (exit 2)', async () => {
    const { code, stderr } = await tlplab('bench', '--tlps', 'many');
    expect(code).toBe(2);
    expect(stderr).toContain('--tlps needs a positive integer');
  });
});

describe('matrix and start-up figures (issue 13)', () => {
  it('the generated matrix has 4^k variants, all as expected', async () => {
    for (const k of [1, 3]) {
      const { file, remove } = writeMatrix(k);
      try {
        expect(loadScenarioFile(file).count).toBe(4 ** k);
        expect(await runMatrixOnce(file)).toBe(4 ** k);
      } finally {
        remove();
      }
    }
    expect(() => matrixScenario(8)).toThrow(RangeError);
  });

  it('reports the cost per variant of each size and their spread', async () => {
    const figures = await benchMatrix({ runs: 1, warmups: 0 }, [1, 2]);
    expect(figures.sizes.map((s) => s.variants)).toEqual([4, 16]);
    expect(figures.spread).toBeGreaterThanOrEqual(1);
    expect(figures.target).toBe(2);
    // Not a timing check: the figures' shape. A loaded CI machine may take long over them.
  }, 60_000);

  it('prints figures 6–8 and counts a missed start-up target', () => {
    const report = {
      schema: 'tlplab/bench-v1',
      machine: { node: 'v20', cpu: 'cpu', cores: 2, platform: 'linux-x64' },
      runs: 5,
      warmups: 2,
      startup: [
        { label: 'version', command: 'tlplab --version', medianMs: 90, runsMs: [90], targetMs: 150, met: true },
        { label: 'npm start', command: 'npm start', medianMs: 1200, runsMs: [1200], targetMs: 1000, met: false },
      ],
      matrix: { sizes: [{ variants: 16, totalMs: 8, usPerVariant: 500, runsPerSecond: 2000 }], spread: 1.2, target: 2, met: true },
      jobs: { measured: true, poolMinRuns: 16000, pairs: [{ label: 'library', runs: 123, jobs1Ms: 600, jobs2Ms: 700, speedup: 0.86 }] },
    } as BenchReport;
    const text = formatBench(report).join('\n');
    expect(text).toContain('6. start-up, whole processes');
    expect(text).toMatch(/tlplab --version\s+90 ms {3}target < 150 ms {3}met/);
    expect(text).toContain('cost per variant, largest / smallest = 1.20   target ≤ 2.00   met');
    expect(text).toContain('library (123 runs): --jobs 1 600 ms, --jobs 2 700 ms, speed-up 0.86×');
    expect(missedTargets(report)).toEqual(['startup (npm start)']);
  });

  it('rejects an unknown --only figure with a suggestion', async () => {
    const { code, stderr } = await tlplab('bench', '--only', 'startpu');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown figure 'startpu' — did you mean 'startup'?");
  });
});

describe('sweep figures (issue 18)', () => {
  it('shards of the library, and of the library with a 1024-variant file, are within one run of each other', () => {
    const [library, big] = benchShards([2, 3, 5]);
    expect(library!.runs).toBeGreaterThan(100);
    expect(big!.runs).toBe(library!.runs + 1024);
    for (const b of [library!, big!]) {
      expect(b.met).toBe(true);
      for (const s of b.shards) expect(s.max - s.min).toBeLessThanOrEqual(1);
    }
  });

  it('a long scenario has one step per write, in time order, and is isolated', () => {
    const loaded = loadScenario('long.yaml', longScenario(50));
    expect(loaded.variantAt(0).spec.steps).toHaveLength(50);
    const figures = benchLong(50, true, 10_000, { runs: 1, warmups: 0 });
    expect(figures).toMatchObject({ steps: 50, met: true });
    expect(figures.explainMs).not.toBeNull();
  });
});

describe('bench report targets', () => {
  const report = (flood: boolean, groups: boolean, memory: boolean): BenchReport =>
    ({
      schema: 'tlplab/bench-v1',
      machine: { node: 'v20', cpu: 'cpu', cores: 2, platform: 'linux-x64' },
      runs: 5,
      warmups: 2,
      kernel: { events: 1, kernelEventsPerSecond: 1, bareEventsPerSecond: 1, ratio: 1 },
      flood: { endpoints: 64, tlpsPerEndpoint: 2000, delivered: 64768, faulted: 63232, hops: 512000, tlplabMs: 1, tlplabHopsPerSecond: 1, bareMs: 1, bareHopsPerSecond: 1, ratio: flood ? 0.7 : 0.4, target: 0.5, met: flood, tlplabRunsMs: [], bareRunsMs: [] },
      scenarios: { measured: false, note: 'scenario library: not measured yet', targetMs: 2000 },
      groups: { functions: 10000, segments: 7, classicMs: 1, classicGroups: 1, perBusMs: 1, perBusGroups: 1, targetMs: 200, met: groups },
      memory: { inFlight: 1e6, growthBytes: 1, bytesPerTlp: 1, maxRssBytes: 1, gcForced: true, targetBytes: 1e9, met: memory },
    }) as BenchReport;

  it.each([
    [true, true, true, []],
    [false, true, true, ['flood']],
    [true, false, false, ['groups', 'memory']],
  ] as const)('flood %s, groups %s, memory %s → missed %j', (flood, groups, memory, missed) => {
    expect(missedTargets(report(flood, groups, memory))).toEqual(missed);
    expect(formatBench(report(flood, groups, memory)).join('\n').includes('NOT MET')).toBe(missed.length > 0);
  });
});
