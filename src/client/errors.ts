/** Errors the client raises, with stable names; the CLI maps them to its exit codes. */

/** The user asked for something that cannot be done (unknown pipeline, rejected operator command). */
export class ConvoyUsageError extends Error {
  override readonly name = 'ConvoyUsageError';
}
