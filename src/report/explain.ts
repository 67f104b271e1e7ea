/** Text for `explain` and `send`: each TLP's path, hop by hop, with the rule that decided it. */
import pc from 'picocolors';
import type { SendResult } from '../scenario/explain.ts';
import type { RunStory, StoryTlp } from '../scenario/run-story.ts';
import type { PathEntry } from '../scenario/story.ts';
import { effectText } from './html-run.ts';
import { endingMark } from './svg.ts';
import { formatDuration } from '../sim/time.ts';
import { describeVariant } from './variant-text.ts';

type Paint = ReturnType<typeof pc.createColors>;

/**
 * `explain` in the terminal: the run story (the same model the HTML report
 * draws) — gates, each step's TLPs hop by hop with the rule that decided
 * each hop and the trace record id that breach evidence cites, the ending,
 * then the verdict against the expectation and its `because`. Colour only
 * when asked (picocolors; the CLI turns it off for NO_COLOR, --no-color
 * and pipes).
 */
export function renderStory(story: RunStory, options: { color: boolean; title?: string }): string {
  const paint = pc.createColors(options.color);
  const out: string[] = [paint.bold(`${story.scenario}${options.title ? ` — ${options.title}` : ''}`), paint.dim(`variant: ${describeVariant(story.variant)}`), ''];
  const devices = story.view.nodes.filter((n) => n.bdf !== null).map((n) => `${n.id}=${n.bdf}`);
  out.push(`devices: ${devices.join(' ')}`);
  for (const gate of story.gates) {
    const verdict = gate.passed ? paint.green('passes') : gate.enforced ? paint.red('REFUSES the assignment') : paint.yellow(`would refuse (not enforced: ${notEnforcedBecause(gate)})`);
    out.push(`gate ${gate.gate}: ${verdict} — ${gate.detail}`);
  }
  out.push('');
  for (const step of story.steps) {
    out.push(paint.bold(`@${formatDuration(step.at)} step ${step.index}: ${step.text}`) + (step.refused ? ` — ${paint.green(step.refused)}` : ''));
    for (const id of step.tlps) out.push(...renderTlp(story, story.tlps.find((t) => t.tlp === id)!, paint));
    out.push('');
  }
  const verdict = story.verdict === 'breached' ? paint.red(paint.bold('BREACHED')) : paint.green(paint.bold('ISOLATED'));
  out.push(`verdict: ${verdict} (expected ${story.expected}${story.pass ? ', as expected' : paint.red(', NOT as expected')})`);
  if (story.because) out.push(`  because: ${story.because}`);
  for (const b of story.breaches) {
    out.push(`  ${paint.red(b.kind)} (${b.attacker} → ${b.victim}): ${b.detail} ${paint.dim(`[trace ${b.evidence.join(',')}]`)}`);
    for (const e of b.effects) out.push(`    ${effectText(e)}`);
  }
  for (const s of story.stopped) out.push(`  ${paint.green('stopped')} TLP ${s.tlp}: ${s.outcome} at ${s.at} (${s.reason}${s.faultCode ? ` ${s.faultCode}` : ''})`);
  return `${out.join('\n')}\n`;
}

/** A failed gate stops nothing when the attacker is hardware, or when the scenario bypasses VFIO's viability check (gates.ts marks that in the detail). */
function notEnforcedBecause(gate: RunStory['gates'][number]): string {
  return gate.detail.includes('(check bypassed)') ? 'machine.kernel.vfio-viability is bypassed' : 'attack.via is device';
}

function renderTlp(story: RunStory, tlp: StoryTlp, paint: Paint): string[] {
  const head = `  ${paint.cyan(`TLP ${tlp.tlp}`)} ${tlp.kind} 0x${tlp.address.toString(16)} from ${tlp.by} (requester ${tlp.requester})${tlp.answers === null ? '' : `, answering TLP ${tlp.answers}`}`;
  const hops = tlp.hops.map((h) => {
    const text = [h.rule, h.detail].filter(Boolean).join(' — ');
    return `    ${paint.dim(`#${String(h.id).padEnd(4)}`)} ${`t=${h.at}ns`.padEnd(9)} ${paint.bold(h.node.padEnd(26))} ${decisionColour(h.decision, paint)(h.decision.padEnd(18))} ${paint.dim(text)}`;
  });
  const mark = endingMark(tlp, story);
  const e = tlp.ending;
  const why = e === null ? '' : `${e.reason}${e.faultCode ? ` ${e.faultCode}` : ''}`;
  const detail = e === null ? '' : `${mark.cls === 'stopped' ? ` (${why})` : ` — ${e.outcome} (${why})`} at ${e.decidedAt}${e.target ? ` → ${e.target}` : ''}`;
  const colour = mark.cls === 'breach' ? paint.red : mark.cls === 'stopped' ? paint.green : mark.cls === 'landed' ? paint.yellow : paint.dim;
  return [head, ...hops, `    ⇒ ${colour(mark.text)}${detail}`];
}

/** Routes that skip the IOMMU stand out; stops are good news. */
function decisionColour(decision: string, paint: Paint): (text: string) => string {
  if (decision === 'p2p-direct' || decision === 'reflect-down' || decision.includes('stale')) return paint.magenta;
  if (decision === 'blocked' || decision === 'faulted' || decision === 'fault' || decision === 'unsupported-request') return paint.green;
  if (decision === 'delivered' || decision === 'completed' || decision === 'deliver') return paint.yellow;
  return (text) => text;
}

export function renderEntry(entry: PathEntry): string {
  const time = `t=${entry.at}ns`.padEnd(10);
  const where = entry.device.padEnd(28);
  const what = entry.decision.padEnd(18);
  return `    ${time} ${where} ${what} ${entry.detail ? `${entry.detail} — ` : ''}${entry.rule}`;
}

export function renderSend(result: SendResult, options: { color: boolean }): string {
  const paint = pc.createColors(options.color);
  const out = result.path.map(renderEntry);
  const ok = result.outcome === 'delivered' || result.outcome === 'completed';
  out.push(`  ⇒ ${ok ? paint.yellow(result.outcome) : paint.green(result.outcome)} (${result.reason}${result.faultCode ? ` ${result.faultCode}` : ''})${result.target ? ` → ${result.target}` : ''}`);
  if (result.interrupt) out.push(`    interrupt: vector 0x${result.interrupt.vector.toString(16)} to CPU ${result.interrupt.destination}${result.interrupt.irte === null ? '' : ` via IRTE ${result.interrupt.irte}`}`);
  return `${out.join('\n')}\n`;
}
