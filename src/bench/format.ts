/** The bench report as text: one block per figure, each with its target and whether it is met. */
import type { BenchReport } from './suite.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : int(n)} ms`;
const mb = (bytes: number) => `${int(bytes / 1e6)} MB`;
const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

export function formatBench(r: BenchReport): string[] {
  const { flood, scenarios, groups, memory, kernel, machine } = r;
  const lines = [
    `tlplab bench — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores (${machine.platform}); each figure the median of ${r.runs} runs after ${r.warmups} warm-ups`,
    '',
    `1. flood: ${flood.endpoints} endpoints × ${int(flood.tlpsPerEndpoint)} writes, 4 hops with ACS, VT-d lookup, tracing off`,
    `   delivered ${int(flood.delivered)}, faulted ${int(flood.faulted)} (as the formula says), ${int(flood.hops)} hops`,
    `   tlplab: ${int(flood.tlplabHopsPerSecond)} hops/s (${ms(flood.tlplabMs)} per run)`,
    `2. bare binary-heap loop, same workload: ${int(flood.bareHopsPerSecond)} hops/s (${ms(flood.bareMs)} per run)`,
    `   ratio tlplab/bare = ${flood.ratio.toFixed(2)}   target ≥ ${flood.target.toFixed(2)}   ${verdict(flood.met)}`,
    scenarios.measured
      ? `3. scenario library: ${int(scenarios.runs)} runs of ${int(scenarios.scenarios)} scenarios in ${ms(scenarios.totalMs)} (${int(scenarios.runsPerSecond)} runs/s)   target < ${ms(scenarios.targetMs)}   ${verdict(scenarios.met)}`
      : `3. ${scenarios.note}   target < ${ms(scenarios.targetMs)}`,
    `4. IOMMU groups, generated machine of ${int(groups.functions)} functions (${groups.segments} PCI segments):`,
    `   classic ${ms(groups.classicMs)} (${int(groups.classicGroups)} groups), per-bus ${ms(groups.perBusMs)} (${int(groups.perBusGroups)} groups)   target < ${ms(groups.targetMs)} each   ${verdict(groups.met)}`,
    `5. memory, ${int(memory.inFlight)} TLPs in flight: heap + external growth ${mb(memory.growthBytes)} (${int(memory.bytesPerTlp)} B per TLP${memory.gcForced ? '' : ', no forced GC'}), peak RSS ${mb(memory.maxRssBytes)}   target < ${memory.targetBytes / 1e9} GB   ${verdict(memory.met)}`,
    '',
    `kernel alone: ${int(kernel.kernelEventsPerSecond)} events/s, bare binary-heap loop ${int(kernel.bareEventsPerSecond)} events/s, ratio ${kernel.ratio.toFixed(2)} (${int(kernel.events)} events)`,
  ];
  return lines;
}
