/** Errors the client raises, with stable names and the CLI exit code each maps to (SPEC section 5). */

/** Exit codes of the `convoy` command. */
export const ExitCodes = {
  success: 0,
  pipelineFailed: 1,
  invalidInput: 2,
  infrastructure: 3,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** Temporal could not be reached (wrong address, server down) or another infrastructure failure. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  readonly exitCode = ExitCodes.infrastructure;
}

/** The user asked for something that cannot be done (unknown pipeline, rejected operator command). */
export class ConvoyUsageError extends Error {
  override readonly name = 'ConvoyUsageError';
  readonly exitCode = ExitCodes.invalidInput;
}
