/**
 * Linux releases, and when a piece of the grouping code existed in them.
 *
 * The spans come from Linux source snapshots (test/fixtures/kernel/
 * acs-history.json, built by scripts/kernel-acs-history.ts from released
 * kernels on GitHub, 3.6 to 6.19): a bound is an interval because the
 * snapshots are not every release. An entry added `after` A and `by` B was
 * absent from a snapshot of A and present in a release snapshot of B (an
 * X.Y.0/X.Y.1 or -rc tree; stable trees can carry backports, so their
 * presence bounds nothing, their absence does). For a release strictly
 * between A and B the answer is unknown, and the grouping code says so
 * (UnknownFact) instead of guessing. Versions are mainline releases X.Y:
 * a stable X.Y.Z may carry backported quirks.
 */
import { KernelOptionError } from './kernel-errors.ts';

export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  /** As the user wrote it. */
  readonly text: string;
}

/** Absent from release `after`, present from release `by` on (null: in no release snapshot; linux-next only / no lower bound). */
export interface VersionBound {
  readonly after: string | null;
  readonly by: string | null;
}

export interface KernelSpan {
  readonly since: VersionBound;
  /** Removed: present in `after`, absent from `by` on. */
  readonly removed?: VersionBound;
}

/** The oldest and newest releases the history was read from. */
export const OLDEST_MODELLED = '3.6';
export const NEWEST_MODELLED = '6.19';

export function parseKernelVersion(text: string): KernelVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-rc\d+)?$/.exec(text.trim());
  if (!m) throw new KernelOptionError('KERNEL_VERSION', `--kernel: '${text}' is not a Linux version (expected X.Y or X.Y.Z, e.g. 5.9 or 6.1.20)`);
  const version = { major: Number(m[1]), minor: Number(m[2]), text: text.trim().replace(/^v/, '') };
  if (compareVersions(version, parseBare(OLDEST_MODELLED)) < 0) {
    throw new KernelOptionError('KERNEL_VERSION', `--kernel ${text}: tlplab models Linux ${OLDEST_MODELLED} and later (IOMMU groups came in 3.5; ${OLDEST_MODELLED} is the oldest source it was checked against)`);
  }
  return version;
}

function parseBare(text: string): KernelVersion {
  const [major, minor] = text.split('.').map(Number);
  return { major: major!, minor: minor!, text };
}

export function compareVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

export type Presence = 'yes' | 'no' | 'unknown';

function boundState(bound: VersionBound, v: KernelVersion): Presence {
  if (bound.after !== null && compareVersions(v, parseBare(bound.after)) <= 0) return 'no';
  if (bound.by !== null && compareVersions(v, parseBare(bound.by)) >= 0) return 'yes';
  return 'unknown';
}

/** Whether a span covers release `v`; without a version, the newest table (linux-next of 2025) is meant. */
export function presence(span: KernelSpan, v: KernelVersion | undefined): Presence {
  if (v === undefined) return span.removed === undefined ? 'yes' : 'no';
  const since = boundState(span.since, v);
  if (since !== 'yes' || span.removed === undefined) return since;
  const removed = boundState(span.removed, v);
  return removed === 'yes' ? 'no' : removed === 'no' ? 'yes' : 'unknown';
}

function boundText(bound: VersionBound, verb: string): string {
  if (bound.after !== null && bound.by !== null) {
    const [a, b] = [parseBare(bound.after), parseBare(bound.by)];
    return a.major === b.major && b.minor === a.minor + 1 ? `${verb} in ${bound.by}` : `${verb} after ${bound.after}, by ${bound.by}`;
  }
  if (bound.by !== null) return `${verb} by ${bound.by}`;
  if (bound.after !== null) return `${verb} after ${bound.after} (in no release tlplab checked; linux-next)`;
  return `${verb} at an unknown time`;
}

/** "in Linux since 4.9", "added after 4.4, by 4.9", "in 4.18 only (removed in 4.19)". */
export function spanText(span: KernelSpan): string {
  const since = boundText(span.since, 'added');
  return span.removed === undefined ? since : `${since}, ${boundText(span.removed, 'removed')}`;
}
