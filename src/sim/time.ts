/** Simulated durations: integer nanoseconds, written with units in files. */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1_000, µs: 1_000, ms: 1_000_000, s: 1_000_000_000 };

/** Parses "100ns", "1us", "10ms", "2.5us" or a bare integer (ns). Returns undefined when malformed. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(text);
  if (!match) return undefined;
  const ns = Number(match[1]) * UNIT_NS[match[2] ?? 'ns']!;
  return Number.isSafeInteger(ns) ? ns : undefined;
}

/** Formats ns in the largest unit that keeps it an integer: 1500 → "1500ns", 2000 → "2us". */
export function formatDuration(ns: number): string {
  for (const unit of ['s', 'ms', 'us'] as const) {
    const size = UNIT_NS[unit]!;
    if (ns !== 0 && ns % size === 0) return `${ns / size}${unit}`;
  }
  return `${ns}ns`;
}
