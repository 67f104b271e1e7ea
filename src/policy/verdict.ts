/**
 * The verdict (DESIGN.md §3), judged only from ending records: a run is
 * breached if an attacker-controlled device or principal completed any
 * effect outside what it owns or is granted at the instant it landed.
 * Byte-exact: each span of an access is a piece with one owner (the ending
 * record cut it at every region, BAR and sub-region boundary); the pieces
 * the attacker does not own are cut again at its grants, and every byte
 * left is foreign — counted, with its owner as the victim. An interrupt is
 * judged on every CPU that accepted it. Blocked, faulted and refused
 * attempts are evidence of isolation, listed as stops, never breaches.
 */
import type { ByteSpan, Effect, Ending } from '../fabric/ending.ts';
import { formatAddress } from '../pcie/range.ts';
import type { GrantLedger } from './grants.ts';
import { SCRATCH_SUB, type Principal } from './ownership.ts';
import { HOST_REASONS } from './reasons.ts';

export const BREACH_KINDS = ['memory-write', 'memory-read', 'bar-write', 'bar-read', 'interrupt-injection', 'foreign-irte', 'config-write', 'config-read'] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

export interface Breach {
  readonly kind: BreachKind;
  readonly attacker: Principal;
  readonly victim: Principal;
  /** The TLP that did it. */
  readonly tlp: number;
  /** Foreign bytes touched (0 for interrupts). */
  readonly bytes: number;
  /** The foreign, ungranted pieces, in address order. */
  readonly spans: readonly ByteSpan[];
  /** CPUs that took a foreign interrupt vector (or the foreign entry's vector). */
  readonly cpus: readonly number[];
  /** Trace record ids that show it, in order. */
  readonly evidence: readonly number[];
  /** One sentence for humans. */
  readonly detail: string;
}

/** An attempt that did not reach anything foreign: evidence of isolation. */
export interface Stop {
  readonly tlp: number | null;
  readonly origin: string;
  readonly outcome: string;
  readonly reason: string;
  readonly faultCode: number | null;
  readonly decidedAt: string;
  readonly evidence: readonly number[];
}

export interface Judgement {
  readonly verdict: 'breached' | 'isolated';
  readonly breaches: readonly Breach[];
  readonly stopped: readonly Stop[];
}

/** What the judge needs besides the records: their trace evidence and how a TLP got where it landed. */
export interface JudgeContext {
  evidence(ending: Ending): readonly number[];
  /** Facts from the trace ("stale IOTLB entry", "routed peer-to-peer at sw-dp0"…); "" when none. */
  how(ending: Ending): string;
}

const NO_CONTEXT: JudgeContext = { evidence: () => [], how: () => '' };

export function judge(attacker: Principal, endings: readonly Ending[], grants: GrantLedger, context: JudgeContext = NO_CONTEXT): Judgement {
  const breaches: Breach[] = [];
  const stopped: Stop[] = [];
  const dataOf = new Map<number, Effect & { kind: 'data' }>();
  for (const e of endings) {
    if (e.request === null) continue;
    for (const effect of e.effects) if (effect.kind === 'data') dataOf.set(e.request, effect);
  }
  for (const e of endings) {
    if (e.principal !== attacker || e.type === 'Cpl' || e.type === 'CplD') continue;
    const stop = (reason = e.reason): Stop => ({ tlp: e.tlp, origin: e.origin, outcome: e.outcome, reason, faultCode: e.faultCode, decidedAt: e.decidedAt, evidence: context.evidence(e) });
    if (e.outcome !== 'delivered' && e.outcome !== 'completed') {
      stopped.push(stop());
      continue;
    }
    for (const effect of e.effects) {
      if (effect.kind === 'bytes') {
        // A quarantined device's DMA sent to its scratch page reached nobody's data (Xen quarantine=scratch-page).
        if (effect.spans.length > 0 && effect.spans.every((s) => s.sub === SCRATCH_SUB)) {
          stopped.push(stop(HOST_REASONS['xen.scratch-page'].code));
          continue;
        }
        // A read is judged by where its data went (PCIe §2.2.9: the completion follows the requester ID).
        if (effect.op === 'read' && e.tlp !== null && dataOf.get(e.tlp)?.owner !== attacker) {
          if (effect.spans.some((s) => s.owner !== null && s.owner !== attacker)) stopped.push(stop(HOST_REASONS['read.data-elsewhere'].code));
          continue;
        }
        breaches.push(...byteBreaches(attacker, e, effect.op, effect.spans, grants, context));
      } else if (effect.kind === 'interrupt') {
        const breach = interruptBreach(attacker, e, effect, context);
        if (breach !== null) breaches.push(breach);
      } else if (effect.kind === 'config' && effect.owner !== attacker) {
        const victim = effect.owner ?? 'host';
        breaches.push({
          kind: effect.op === 'write' ? 'config-write' : 'config-read',
          attacker,
          victim,
          tlp: e.tlp!,
          bytes: effect.length,
          spans: [],
          cpus: [],
          evidence: context.evidence(e),
          detail: `${attacker} ${effect.op === 'write' ? 'wrote' : 'read'} config offset ${formatAddress(effect.offset)} of ${effect.device}, owned by ${victim}`,
        });
      }
    }
  }
  return { verdict: breaches.length > 0 ? 'breached' : 'isolated', breaches, stopped };
}

/** Foreign, ungranted pieces of an access, one breach per victim. */
function byteBreaches(attacker: Principal, e: Ending, op: 'write' | 'read', spans: readonly ByteSpan[], grants: GrantLedger, context: JudgeContext): Breach[] {
  const byVictim = new Map<string, ByteSpan[]>();
  for (const span of spans) {
    if (span.owner === null || span.owner === attacker) continue;
    for (const hole of grants.uncovered(attacker, span.base, span.length, op, e.time)) {
      const list = byVictim.get(span.owner) ?? [];
      list.push({ ...span, base: hole.base, length: hole.length });
      byVictim.set(span.owner, list);
    }
  }
  const breaches: Breach[] = [];
  for (const [victim, pieces] of byVictim) {
    const bytes = pieces.reduce((n, p) => n + p.length, 0);
    const kind: BreachKind = `${pieces[0]!.kind === 'bar' ? 'bar' : 'memory'}-${op}`;
    const where = [...new Set(pieces.map((p) => (p.sub === null ? p.region : `${p.sub} of ${p.region}`)))].join(', ');
    const how = context.how(e);
    breaches.push({
      kind,
      attacker,
      victim,
      tlp: e.tlp!,
      bytes,
      spans: pieces,
      cpus: [],
      evidence: context.evidence(e),
      detail: `${e.origin} ${op === 'write' ? 'wrote' : 'read'} ${bytes} of ${e.length} byte(s) at ${pieces.map((p) => `${formatAddress(p.base)}+${p.length}`).join(', ')} in ${where} (owned by ${victim}), not granted to ${attacker}${how ? ` — ${how}` : ''}`,
    });
  }
  return breaches;
}

/**
 * A foreign table entry used is the breach (its vector is the victim's);
 * otherwise every CPU that took a vector the attacker does not own.
 */
function interruptBreach(attacker: Principal, e: Ending, effect: Effect & { kind: 'interrupt' }, context: JudgeContext): Breach | null {
  const cpus = effect.receivers.map((r) => r.cpu);
  const vectors = [...new Set(effect.receivers.map((r) => formatAddress(r.vector)))].join('/');
  const base = { attacker, tlp: e.tlp!, bytes: 0, spans: [], evidence: context.evidence(e) };
  if (effect.entry !== null && effect.entryOwner !== null && effect.entryOwner !== attacker) {
    return {
      ...base,
      kind: 'foreign-irte',
      victim: effect.entryOwner,
      cpus,
      detail: `${e.origin} raised vector ${vectors} on ${cpuList(cpus)} through ${effect.controller} entry ${effect.entry}, which belongs to ${effect.entryOwner}${effect.stale ? ' (stale interrupt entry cache)' : ''}`,
    };
  }
  const foreign = effect.receivers.filter((r) => r.vectorOwner !== attacker);
  if (foreign.length === 0) return null;
  const owners = [...new Set(foreign.map((r) => r.vectorOwner))];
  const victim = owners.find((o) => o !== null) ?? 'host';
  return {
    ...base,
    kind: 'interrupt-injection',
    victim,
    cpus: foreign.map((r) => r.cpu),
    detail: `${e.origin} delivered vector ${vectors} to ${cpuList(foreign.map((r) => r.cpu))}, ${owners.map((o) => (o === null ? 'a vector nobody allocated' : `owned by ${o}`)).join(' and ')}${foreign.length < effect.receivers.length ? ` (${effect.receivers.length - foreign.length} other CPU(s) took it as ${attacker}'s own)` : ''}`,
  };
}

function cpuList(cpus: readonly number[]): string {
  if (cpus.length === 1 && cpus[0] === -1) return 'the posted-interrupt descriptor';
  return `CPU ${cpus.join(',')}`;
}
