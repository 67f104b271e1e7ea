/**
 * Exit codes (DESIGN.md §4), decided in one place: `exitCodeFor` maps what a
 * command returned or threw to the code the process ends with.
 */
export const ExitCode = {
  /** All expectations met. */
  ok: 0,
  /** An expectation failed: an isolation regression. */
  expectationFailed: 1,
  /** Usage or scenario-validation error. */
  usage: 2,
  /** Internal error: a bug in tlplab. */
  internal: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can fix: bad flags, a missing file, an invalid scenario. Printed without a stack. */
export class UsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'USAGE') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/** Errors that mean "the input is wrong" carry `userFacing = true`; everything else is a bug. */
export function isUserError(error: unknown): error is Error {
  return error instanceof UsageError || (error instanceof Error && (error as { userFacing?: boolean }).userFacing === true);
}

/** A suite's exit code: internal errors beat invalid scenarios, which beat failed expectations. */
export function suiteExitCode(suite: { readonly runs: readonly { readonly pass: boolean }[]; readonly failures: readonly { readonly kind: 'invalid' | 'crashed' }[] }): ExitCode {
  if (suite.failures.some((f) => f.kind === 'crashed')) return ExitCode.internal;
  if (suite.failures.length > 0) return ExitCode.usage;
  return suite.runs.every((r) => r.pass) ? ExitCode.ok : ExitCode.expectationFailed;
}

/** The same from a streamed suite's counts. */
export function countsExitCode(counts: { readonly runs: number; readonly passed: number; readonly failures: number; readonly crashed: number }): ExitCode {
  if (counts.crashed > 0) return ExitCode.internal;
  if (counts.failures > 0) return ExitCode.usage;
  return counts.passed === counts.runs ? ExitCode.ok : ExitCode.expectationFailed;
}

export function exitCodeFor(error: unknown): ExitCode {
  return isUserError(error) ? ExitCode.usage : ExitCode.internal;
}
