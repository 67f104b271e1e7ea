/**
 * The verdict (DESIGN.md §3): a run is breached if an attacker-controlled
 * device or principal completes any effect outside what it owns or is
 * granted at that moment — a foreign memory access, an access to a foreign
 * BAR, an interrupt with a vector it does not own, a foreign IRTE used, a
 * config write to a device it does not own. Blocked and faulted attempts
 * are evidence of isolation, never breaches.
 */
import type { Access, GrantLedger } from './grants.ts';
import type { Ownership, Principal } from './ownership.ts';

export type BreachKind = 'memory-write' | 'memory-read' | 'bar-write' | 'bar-read' | 'interrupt-injection' | 'foreign-irte' | 'config-write';

export interface Breach {
  readonly kind: BreachKind;
  readonly attacker: Principal;
  readonly victim: Principal;
  /** Trace record ids that show it, in order. */
  readonly evidence: readonly number[];
  /** One sentence for humans. */
  readonly detail: string;
}

/** A memory access that landed (delivered write, completed read), at its host-physical address. */
export interface AccessEffect {
  readonly kind: 'access';
  readonly tlp: number;
  readonly principal: Principal;
  readonly origin: string;
  readonly op: Access;
  readonly address: number;
  readonly length: number;
  readonly time: number;
  readonly evidence: readonly number[];
  /** How it got there, e.g. "stale IOTLB entry", "AT=translated", "peer-to-peer without ACS". */
  readonly how: string;
}

export interface InterruptEffect {
  readonly kind: 'interrupt';
  readonly tlp: number;
  readonly principal: Principal;
  readonly origin: string;
  readonly vector: number;
  readonly destination: number;
  readonly vectorOwner: Principal | null;
  readonly irte: number | null;
  readonly irteOwner: Principal | null;
  readonly evidence: readonly number[];
}

export interface ConfigEffect {
  readonly kind: 'config';
  readonly principal: Principal;
  readonly device: string;
  readonly offset: number;
  readonly evidence: readonly number[];
}

/** An attempt that was stopped: evidence of isolation. */
export interface Refusal {
  readonly kind: 'refusal';
  readonly tlp: number;
  readonly origin: string;
  readonly outcome: string;
  readonly reason: string;
  readonly faultCode: number | null;
  readonly decidedAt: string;
  readonly evidence: readonly number[];
}

export type Effect = AccessEffect | InterruptEffect | ConfigEffect | Refusal;

export interface Judgement {
  readonly verdict: 'breached' | 'isolated';
  readonly breaches: readonly Breach[];
  readonly refusals: readonly Refusal[];
}

export function judge(attacker: Principal, effects: readonly Effect[], ownership: Ownership, grants: GrantLedger): Judgement {
  const breaches: Breach[] = [];
  const refusals: Refusal[] = [];
  for (const effect of effects) {
    if (effect.kind === 'refusal') {
      refusals.push(effect);
      continue;
    }
    if (effect.principal !== attacker) continue;
    const breach = judgeEffect(attacker, effect, ownership, grants);
    if (breach !== null) breaches.push(breach);
  }
  return { verdict: breaches.length > 0 ? 'breached' : 'isolated', breaches, refusals };
}

function judgeEffect(attacker: Principal, effect: AccessEffect | InterruptEffect | ConfigEffect, ownership: Ownership, grants: GrantLedger): Breach | null {
  const hex = (n: number) => `0x${n.toString(16)}`;
  switch (effect.kind) {
    case 'access': {
      const owned = ownership.at(effect.address);
      if (owned === undefined || owned.owner === attacker) return null;
      if (grants.granting(attacker, effect.address, effect.length, effect.op, effect.time) !== undefined) return null;
      const verb = effect.op === 'write' ? 'wrote' : 'read';
      return {
        kind: `${owned.kind}-${effect.op}`,
        attacker,
        victim: owned.owner,
        evidence: effect.evidence,
        detail: `${effect.origin} ${verb} ${effect.length} byte(s) at ${hex(effect.address)} in ${owned.name} (owned by ${owned.owner}), not granted to ${attacker}${effect.how ? ` — ${effect.how}` : ''}`,
      };
    }
    case 'interrupt':
      if (effect.irte !== null && effect.irteOwner !== null && effect.irteOwner !== attacker) {
        return {
          kind: 'foreign-irte',
          attacker,
          victim: effect.irteOwner,
          evidence: effect.evidence,
          detail: `${effect.origin} raised vector ${hex(effect.vector)} on CPU ${effect.destination} through IRTE ${effect.irte}, which belongs to ${effect.irteOwner}`,
        };
      }
      if (effect.vectorOwner === attacker) return null;
      return {
        kind: 'interrupt-injection',
        attacker,
        victim: effect.vectorOwner ?? 'host',
        evidence: effect.evidence,
        detail: `${effect.origin} delivered vector ${hex(effect.vector)} to CPU ${effect.destination}, ${effect.vectorOwner === null ? 'a vector nobody allocated to it' : `which belongs to ${effect.vectorOwner}`}`,
      };
    case 'config': {
      const owner = ownership.ownerOfFunction(effect.device);
      if (owner === attacker) return null;
      return {
        kind: 'config-write',
        attacker,
        victim: owner ?? 'host',
        evidence: effect.evidence,
        detail: `${attacker} wrote config offset ${hex(effect.offset)} of ${effect.device}, owned by ${owner ?? 'host'}`,
      };
    }
  }
}
