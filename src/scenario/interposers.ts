/**
 * `attack.interposers:` port modules the attacker plugs into a link
 * (src/fabric/port-module.ts): at a device's or port's ingress or egress,
 * one that forges the requester ID of what passes (a hostile switch above
 * the port that validated it), one that drops, one that replays writes
 * later under the attacker's name (a replaying interposer). The YAML keys
 * (schema-interposers.ts), their semantic pass, and their installation on
 * a built machine.
 */
import { z } from 'zod';
import { parseDuration } from '../sim/time.ts';
import { requesterId, tryParseBdf } from '../pcie/bdf.ts';
import type { TlpType } from '../pcie/tlp.ts';
import type { Fabric } from '../fabric/fabric.ts';
import { dropMatching, forgeRequester, replayer } from '../fabric/interposers.ts';
import type { Checker } from './checker.ts';
import type { Path } from './source.ts';

const TYPES = ['MemWr', 'MemRd', 'Cpl', 'CplD', 'CfgRd', 'CfgWr', 'Msg'] as const;
const Filter = { types: z.array(z.enum(TYPES)).optional() };

export const InterposerEntry = z.strictObject({
  /** A device or port id, or root-complex. */
  at: z.string().min(1),
  side: z.enum(['ingress', 'egress']),
  /** Rewrite the requester ID of requests passing here to this BDF. */
  'forge-requester': z.string().optional(),
  drop: z.strictObject(Filter).optional(),
  /** Copy each matching TLP and put the copy on the same link this much later, as the attacker's. */
  replay: z.strictObject({ delay: z.union([z.number().int().nonnegative(), z.string()]), ...Filter }).optional(),
  note: z.string().optional(),
});

export type InterposerEntryValue = z.infer<typeof InterposerEntry>;

export type InterposerSpec =
  | { readonly at: string; readonly side: 'ingress' | 'egress'; readonly kind: 'forge-requester'; readonly requester: number }
  | { readonly at: string; readonly side: 'ingress' | 'egress'; readonly kind: 'drop'; readonly types: readonly TlpType[] | null }
  | { readonly at: string; readonly side: 'ingress' | 'egress'; readonly kind: 'replay'; readonly delay: number; readonly types: readonly TlpType[] | null };

export function normalizeInterposers(entries: readonly InterposerEntryValue[] | undefined, places: ReadonlySet<string>, check: Checker): InterposerSpec[] {
  return (entries ?? []).flatMap((e, i): InterposerSpec[] => {
    const path: Path = ['attack', 'interposers', i];
    if (!places.has(e.at)) check.known(e.at, places, [...path, 'at'], 'device');
    const actions = (['forge-requester', 'drop', 'replay'] as const).filter((k) => e[k] !== undefined);
    if (actions.length !== 1) {
      check.error(path, `an interposer does one thing: forge-requester, drop or replay (found ${actions.join(' and ') || 'none'})`, 'interposer-action');
      return [];
    }
    const base = { at: e.at, side: e.side };
    if (e['forge-requester'] !== undefined) {
      const bdf = tryParseBdf(e['forge-requester']);
      if (bdf === undefined) {
        check.error([...path, 'forge-requester'], `'${e['forge-requester']}' is not a requester ID (write BB:DD.F, e.g. "05:00.0")`, 'bad-bdf');
        return [];
      }
      return [{ ...base, kind: 'forge-requester', requester: requesterId(bdf.bus, bdf.device, bdf.fn) }];
    }
    if (e.drop !== undefined) return [{ ...base, kind: 'drop', types: e.drop.types ?? null }];
    const delay = parseDuration(e.replay!.delay);
    if (delay === undefined) {
      check.error([...path, 'replay', 'delay'], `delay '${String(e.replay!.delay)}' is not a duration (write 100ns, 1us or 10ms)`, 'bad-duration');
      return [];
    }
    return [{ ...base, kind: 'replay', delay, types: e.replay!.types ?? null }];
  });
}

/** Puts the interposers on a compiled fabric; what they inject acts for the attacker. */
export function installInterposers(fabric: Fabric, interposers: readonly InterposerSpec[], attacker: string): void {
  for (const i of interposers) {
    const filter = i.kind === 'forge-requester' || i.types === null ? {} : { types: i.types };
    const module =
      i.kind === 'forge-requester' ? forgeRequester(i.requester) : i.kind === 'drop' ? dropMatching(filter) : replayer(i.delay, attacker, filter.types === undefined ? { types: ['MemWr'] } : filter, `interposer at ${i.at}`);
    fabric.attachModule(i.at, i.side, module);
  }
}
