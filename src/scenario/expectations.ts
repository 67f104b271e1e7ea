/**
 * Expectations that assert why: besides the verdict, an `expect` rule may
 * name the run's breaches (kind, victim), its stops (reason code or fault
 * code, and where decided) and the Linux gate that refused it. A run passes
 * only when every stated part matches; what differs is reported part by
 * part. Breaches and stops are compared as sets of distinct entries in both
 * directions: a new breach, a vanished stop or a stop for a new reason all
 * fail the run.
 */
import type { Checker } from './checker.ts';
import { registry } from './reasons.ts';
import { faultCodeText } from './results.ts';
import type { BreachExpectation, ExpectRuleSpec, GateName, StopExpectation } from './model.ts';
import type { ScenarioFile, SriovEntry } from './schema.ts';
import { vfId } from './normalize-sriov.ts';
import type { Path } from './source.ts';

type RawRule = ScenarioFile['expect'][number];

/** Rule `r` of the file as a spec; unknown reason codes, victims and places are reported on `check`. */
export function expectRule(file: ScenarioFile, rule: RawRule, r: number, check: Checker): ExpectRuleSpec {
  const principals = principalsOf(file);
  const places = placesOf(file);
  const breaches = rule.breaches?.map((b, i): BreachExpectation => {
    if (b.victim !== undefined) check.known(b.victim, principals, ['expect', r, 'breaches', i, 'victim'], 'principal');
    return { kind: b.kind, victim: b.victim ?? null };
  });
  const stopped = rule.stopped?.map((s, i): StopExpectation => {
    const at: Path = ['expect', r, 'stopped', i];
    if (s.reason === undefined && s.fault === undefined) check.error(at, 'a stopped entry names a reason code or a fault code (or both)', 'empty-stop');
    if (s.reason !== undefined) check.known(s.reason, registry().map((x) => x.code), [...at, 'reason'], 'reason code', 'unknown-reason');
    if (s.at !== undefined) check.known(s.at, places, [...at, 'at'], 'place');
    const fault = s.fault === undefined ? null : typeof s.fault === 'number' ? s.fault : Number.parseInt(s.fault, 16);
    if (fault !== null && !Number.isInteger(fault)) check.error([...at, 'fault'], `a fault code is a number or hex text like "0x26", not '${String(s.fault)}'`, 'invalid-fault');
    return { reason: s.reason ?? null, fault, at: s.at ?? null };
  });
  return {
    when: rule.when ?? {},
    verdict: rule.verdict,
    breaches: breaches ?? null,
    stopped: stopped ?? null,
    refusedBy: rule['refused-by'] ?? null,
    because: rule.because ?? null,
  };
}

/** What a run showed, in the terms an expectation uses. */
export interface Observed {
  readonly verdict: 'breached' | 'isolated';
  readonly breaches: readonly { readonly kind: string; readonly victim: string }[];
  readonly stopped: readonly { readonly reason: string; readonly faultCode: string | null; readonly at: string }[];
  readonly refusedBy: GateName | null;
}

/** Every way the run differs from the rule; empty when it meets it. */
export function differences(rule: ExpectRuleSpec, run: Observed): string[] {
  const out: string[] = [];
  if (run.verdict !== rule.verdict) out.push(`verdict: expected ${rule.verdict}, got ${run.verdict}`);
  if (rule.refusedBy !== null) {
    const got = run.refusedBy ?? 'none';
    if (got !== rule.refusedBy) out.push(`refused-by: expected ${rule.refusedBy}, got ${got}`);
  }
  if (rule.breaches !== null) {
    const distinct = unique(run.breaches.map((b) => `${b.kind} of ${b.victim}`), run.breaches);
    const matchesBreach = (e: BreachExpectation, b: Observed['breaches'][number]) => e.kind === b.kind && (e.victim === null || e.victim === b.victim);
    for (const e of rule.breaches) if (!distinct.some((b) => matchesBreach(e, b))) out.push(`breaches: expected ${e.kind}${e.victim === null ? '' : ` of ${e.victim}`}, which did not happen`);
    for (const b of distinct) if (!rule.breaches.some((e) => matchesBreach(e, b))) out.push(`breaches: unexpected ${b.kind} of ${b.victim}`);
  }
  if (rule.stopped !== null) {
    const distinct = unique(run.stopped.map((s) => `${s.reason} ${s.faultCode} ${s.at}`), run.stopped);
    const matchesStop = (e: StopExpectation, s: Observed['stopped'][number]) =>
      (e.reason === null || e.reason === s.reason) && (e.fault === null || (s.faultCode !== null && Number.parseInt(s.faultCode, 16) === e.fault)) && (e.at === null || e.at === s.at);
    for (const e of rule.stopped) if (!distinct.some((s) => matchesStop(e, s))) out.push(`stopped: expected ${describeStop(e)}, which did not happen`);
    for (const s of distinct) if (!rule.stopped.some((e) => matchesStop(e, s))) out.push(`stopped: unexpected ${s.reason}${s.faultCode === null ? '' : ` (${s.faultCode})`} at ${s.at}`);
  }
  return out;
}

function describeStop(e: StopExpectation): string {
  const what = [e.reason, e.fault === null ? null : `fault ${faultCodeText(e.fault)}`].filter((x) => x !== null).join(' ');
  return e.at === null ? what : `${what} at ${e.at}`;
}

function unique<T>(keys: readonly string[], items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((_item, i) => !seen.has(keys[i]!) && (seen.add(keys[i]!), true));
}

/** Every principal the file names: owners of memory, devices, functions and IRTEs, and the host. */
function principalsOf(file: ScenarioFile): string[] {
  const m = file.machine;
  const owners = [
    'host',
    file.attack.attacker,
    ...m.memory.map((r) => r.owner),
    ...m.devices.flatMap((d) => [d.owner, ...(d.functions ?? []).map((f) => f.owner)]),
    ...functionEntries(file).flatMap((f) => (f.sriov?.functions ?? []).map((vf) => vf.owner)),
    ...(m.irtes ?? []).map((i) => i.owner),
    ...(m['posted-descriptors'] ?? []).map((d) => d.owner),
  ];
  return [...new Set(owners.filter((o): o is string => typeof o === 'string'))];
}

/** Every function entry: whole devices and the functions of multifunction ones. */
function functionEntries(file: ScenarioFile): { readonly id: string; readonly sriov?: SriovEntry }[] {
  return file.machine.devices.flatMap((d) => (d.functions ?? [d]) as { readonly id: string; readonly sriov?: SriovEntry }[]);
}

/** Where a stop can be decided: a device or function, the root complex, or one of the host's filters. */
function placesOf(file: ScenarioFile): string[] {
  const devices = file.machine.devices.flatMap((d) => [d.id, ...(d.functions ?? []).map((f) => f.id)]);
  const vfs = functionEntries(file).flatMap((f) => (f.sriov === undefined ? [] : Array.from({ length: f.sriov.vfs }, (_, n) => vfId(f.id, f.sriov!, n))));
  return [...devices, ...vfs, 'root-complex', 'host (vfio-pci)', 'host (xen-pciback)', 'host (vfio)'];
}
