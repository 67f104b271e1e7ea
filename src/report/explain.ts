/** Text for `explain` and `send`: each TLP's path, hop by hop, with the rule that decided it. */
import pc from 'picocolors';
import type { Explanation, SendResult } from '../scenario/explain.ts';
import { describeStep } from '../scenario/explain.ts';
import { XEN_NOT_ENFORCED } from '../scenario/gates.ts';
import type { PathEntry, TlpStory } from '../scenario/story.ts';
import { formatDuration } from '../sim/time.ts';
import { describeVariant, expectationText, verdictText } from './variant-text.ts';
import type { Effect } from '../fabric/ending.ts';

export function renderExplanation(e: Explanation, options: { color: boolean }): string {
  const paint = pc.createColors(options.color);
  const out: string[] = [paint.bold(`${e.scenario} — ${e.title}`), `variant: ${describeVariant(e.result.variant)}`, ''];
  out.push('devices: ' + [...e.bdfs].map(([id, bdf]) => `${id}=${bdf}`).join(' '));
  for (const h of e.hardware) {
    const holds = h.honoured ? `in force: ${h.inForce || 'nothing (the enabling quirk did not run)'}` : paint.red('NOT honoured by this hardware (hardware.honours-quirk: false): the kernel still believes it');
    out.push(`hardware ${h.device}: silicon fact ${h.fact} from Linux ${h.quirk} — ${h.title}; ${holds}`);
  }
  for (const gate of e.gates) {
    out.push(`gate ${gate.gate}: ${gate.passed ? 'passes' : gate.enforced ? paint.red('REFUSES the assignment') : `would refuse (not enforced: ${notEnforcedBecause(gate)})`} — ${gate.detail}`);
  }
  for (const a of e.setup) out.push(`host: ${a.action} — ${paint.dim(a.rule)}`);
  out.push('');
  for (const { step, tlps, refused, actions, ranAt } of e.steps) {
    const when = ranAt >= 0 ? `@${formatDuration(ranAt)}` : 'never ran:';
    out.push(paint.bold(`${when} step ${step.index}: ${describeStep(step)}`));
    for (const a of actions) out.push(`    · ${a.action} — ${paint.dim(a.rule)}`);
    if (refused !== null) out.push(`    ⇒ ${paint.green(`refused at ${refused.decidedAt}`)} (${refused.reason}) — ${refused.rule}`);
    for (const story of tlps) out.push(...renderStory(story, paint));
    out.push('');
  }
  const verdict = e.result.verdict === 'breached' ? paint.red(verdictText(e.result).toUpperCase()) : paint.green(verdictText(e.result).toUpperCase());
  out.push(`verdict: ${verdict} (expected ${expectationText(e.result.expectation)}${e.result.pass ? ', as expected' : paint.red(', NOT as expected')})`);
  for (const d of e.result.differences) out.push(`  ${paint.red('≠')} ${d}`);
  if (e.result.expectation.because !== null) out.push(`  because (as the scenario says): ${e.result.expectation.because}`);
  for (const b of e.result.breaches) out.push(`  ${b.kind} (${b.attacker} → ${b.victim}): ${b.detail} [trace ${b.evidence.join(',')}]`);
  for (const s of e.result.stopped) out.push(`  stopped ${s.tlp !== null ? `tlp#${s.tlp}` : s.origin === 'host' ? 'by the host' : `before ${s.origin} issued it`}: ${s.outcome} at ${s.at} (${s.reason}${s.faultCode ? ` ${s.faultCode}` : ''})`);
  return `${out.join('\n')}\n`;
}

/** A failed gate stops nothing when the attacker is hardware, or when the scenario bypasses VFIO's viability check (gates.ts marks that in the detail). */
function notEnforcedBecause(gate: Explanation['gates'][number]): string {
  if (gate.detail.includes(XEN_NOT_ENFORCED)) return 'machine.host is xen';
  return gate.detail.includes('(check bypassed)') ? 'machine.kernel.vfio-viability is bypassed' : 'attack.via is device';
}

function renderStory(story: TlpStory, paint: ReturnType<typeof pc.createColors>): string[] {
  const head = `  tlp#${story.tlp} ${story.kind} ${story.exactAddress ?? `0x${story.address.toString(16)}`} from ${story.by} (requester ${story.requester})`;
  const ending = story.outcome === null ? 'still in flight' : `${story.outcome}${story.reason ? ` (${story.reason}${story.faultCode ? ` ${story.faultCode}` : ''})` : ''}${story.target ? ` → ${story.target}` : ''}`;
  const colour = story.outcome === 'delivered' || story.outcome === 'completed' ? paint.yellow : paint.green;
  const why = story.reasonTitle === '' ? [] : [`      ${story.reason}: ${story.reasonTitle} (${story.reasonSource})`];
  return [head, ...story.path.map(renderEntry), `    ⇒ ${colour(ending)}`, ...why, ...story.effects.map((effect) => `      touched: ${effectText(effect)}`)];
}

/** One effect of an ending record, for people: which bytes of whose region, which CPUs with whose vector. */
export function effectText(effect: Effect): string {
  switch (effect.kind) {
    case 'bytes':
      return `${effect.op} ` + effect.spans.map((s) => `0x${s.base.toString(16)}+${s.length} in ${s.region ?? 'nothing (unclaimed)'}${s.sub === null ? '' : ` / ${s.sub}`} (${s.owner ?? 'nobody'})`).join(', ');
    case 'interrupt':
      return `interrupt ${effect.controller} ${effect.path}${effect.entry === null ? '' : ` entry ${effect.entry} of ${effect.entryOwner ?? 'nobody'}`} → ` + effect.receivers.map((r) => `${r.cpu < 0 ? 'posted descriptor' : `CPU ${r.cpu}`} vector 0x${r.vector.toString(16)} of ${r.vectorOwner ?? 'nobody'}`).join(', ');
    case 'config':
      return `config ${effect.op} ${effect.device} +0x${effect.offset.toString(16)} (${effect.length} bytes, ${effect.owner ?? 'nobody'}'s)`;
    case 'data':
      return `data delivered to ${effect.device} (${effect.owner ?? 'nobody'})`;
  }
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
