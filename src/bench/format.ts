/** The bench report as text: one block per figure, each with its target and whether it is met. */
import type { BenchReport } from './suite.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : int(n)} ms`;
const mb = (bytes: number) => `${int(bytes / 1e6)} MB`;
const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

export function formatBench(r: BenchReport): string[] {
  const { flood, scenarios, groups, memory, kernel, machine, startup, matrix, jobs, shards, explain, load, sweep } = r;
  const lines = [`tlplab bench — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores (${machine.platform}); each figure the median of ${r.runs} runs after ${r.warmups} warm-ups`, ''];
  if (flood) {
    lines.push(
      `1. flood: ${flood.endpoints} endpoints × ${int(flood.tlpsPerEndpoint)} writes, 4 hops with ACS, VT-d lookup, tracing off`,
      `   delivered ${int(flood.delivered)}, faulted ${int(flood.faulted)} (as the formula says), ${int(flood.hops)} hops`,
      `   tlplab: ${int(flood.tlplabHopsPerSecond)} hops/s (${ms(flood.tlplabMs)} per run)`,
      `2. bare binary-heap loop, same workload: ${int(flood.bareHopsPerSecond)} hops/s (${ms(flood.bareMs)} per run)`,
      `   ratio tlplab/bare = ${flood.ratio.toFixed(2)}   target ≥ ${flood.target.toFixed(2)}   ${verdict(flood.met)}`,
    );
  }
  if (scenarios) {
    lines.push(
      scenarios.measured
        ? `3. scenario library: ${int(scenarios.runs)} runs of ${int(scenarios.scenarios)} scenarios in ${ms(scenarios.totalMs)} (${int(scenarios.runsPerSecond)} runs/s)   target < ${ms(scenarios.targetMs)}   ${verdict(scenarios.met)}`
        : `3. ${scenarios.note}   target < ${ms(scenarios.targetMs)}`,
    );
  }
  if (groups) {
    lines.push(
      `4. IOMMU groups, generated machine of ${int(groups.functions)} functions (${groups.segments} PCI segments):`,
      `   classic ${ms(groups.classicMs)} (${int(groups.classicGroups)} groups), per-bus ${ms(groups.perBusMs)} (${int(groups.perBusGroups)} groups)   target < ${ms(groups.targetMs)} each   ${verdict(groups.met)}`,
    );
  }
  if (memory) {
    lines.push(
      `5. memory, ${int(memory.inFlight)} TLPs in flight: heap + external growth ${mb(memory.growthBytes)} (${int(memory.bytesPerTlp)} B per TLP${memory.gcForced ? '' : ', no forced GC'}), peak RSS ${mb(memory.maxRssBytes)}   target < ${memory.targetBytes / 1e9} GB   ${verdict(memory.met)}`,
    );
  }
  if (startup) {
    lines.push(`6. start-up, whole processes of bin/tlplab.js (median of ${r.runs}, wall time from spawn to exit):`);
    for (const f of startup) {
      lines.push(`   ${f.command.padEnd(40)} ${f.medianMs === null ? f.note : ms(f.medianMs)}   target < ${ms(f.targetMs)}   ${f.met === null ? '' : verdict(f.met)}`.trimEnd());
    }
  }
  if (matrix) {
    lines.push(`7. matrix scaling, 4^k variants of one scenario, in this process (load once, derive each variant):`);
    for (const s of matrix.sizes) lines.push(`   ${int(s.variants).padStart(6)} variants: ${ms(s.totalMs).padStart(9)}  ${s.usPerVariant.toFixed(0).padStart(5)} µs per variant  ${int(s.runsPerSecond)} runs/s`);
    lines.push(`   cost per variant, largest / smallest = ${matrix.spread.toFixed(2)}   target ≤ ${matrix.target.toFixed(2)}   ${verdict(matrix.met)}`);
  }
  if (jobs) {
    if (!jobs.measured) lines.push(`8. --jobs: ${jobs.note}`);
    else {
      lines.push(`8. --jobs 2 against --jobs 1, whole processes, the pool forced on (by default it starts from ${int(jobs.poolMinRuns)} runs):`);
      for (const p of jobs.pairs) lines.push(`   ${p.label} (${int(p.runs)} runs): --jobs 1 ${ms(p.jobs1Ms)}, --jobs 2 ${ms(p.jobs2Ms)}, speed-up ${p.speedup.toFixed(2)}×`);
    }
  }
  if (shards) {
    lines.push('9. shard balance, --shard i/n over all runs (runs per shard, fewest–most):');
    for (const b of shards) lines.push(`   ${b.label} (${int(b.runs)} runs): ${b.shards.map((s) => `${s.n} shards ${s.min}–${s.max}`).join(', ')}   target: within 1 run   ${verdict(b.met)}`);
  }
  if (explain) {
    lines.push(`10. explain, ${int(explain.steps)} steps in one variant: load ${ms(explain.loadMs)}, run ${ms(explain.runMs)}, explain ${ms(explain.explainMs ?? 0)}   target < ${ms(explain.targetMs)}   ${verdict(explain.met)}`);
  }
  if (load) {
    lines.push(`11. a ${int(load.steps)}-step file (${int(load.steps)} DMA writes): load ${ms(load.loadMs)} (read, parse, validate), run ${ms(load.runMs)}   target: load < ${ms(load.targetMs)}   ${verdict(load.met)}`);
  }
  if (sweep) {
    lines.push(
      sweep.measured
        ? `12. sweep of ${sweep.files} files × 1,024 variants (${int(sweep.runs)} runs), run --json as a whole process: ${ms(sweep.wallMs)}, peak RSS ${mb(sweep.maxRssBytes)}   target < ${sweep.targetBytes / 1e9} GB   ${verdict(sweep.met)}`
        : `12. sweep: ${sweep.note}`,
    );
  }
  if (kernel) {
    lines.push('', `kernel alone: ${int(kernel.kernelEventsPerSecond)} events/s, bare binary-heap loop ${int(kernel.bareEventsPerSecond)} events/s, ratio ${kernel.ratio.toFixed(2)} (${int(kernel.events)} events)`);
  }
  return lines;
}
