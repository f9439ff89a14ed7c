/** Errors of reaching Temporal, shared by the client and the worker. */

/** Temporal could not be reached (wrong address, server down) or another infrastructure failure. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
}

/**
 * The connection settings cannot be loaded: a missing config file or profile, an unreadable TLS
 * file, malformed TOML. The message names the file or variable, never a secret.
 */
export class TemporalConfigError extends Error {
  override readonly name = 'TemporalConfigError';
}

/** The gRPC status code somewhere in an error's `cause` chain (the SDK wraps the transport's). */
export function grpcStatusCode(error: unknown): number | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * How a failed call says Temporal was not there: `unavailable` (gRPC UNAVAILABLE: refused, lost),
 * `deadline` (DEADLINE_EXCEEDED: no answer in time), `not-temporal` (UNIMPLEMENTED: whatever
 * answers does not know Temporal's API); undefined for any other failure.
 */
export function connectionFailureOf(error: unknown): 'unavailable' | 'deadline' | 'not-temporal' | undefined {
  switch (grpcStatusCode(error)) {
    case 14:
      return 'unavailable';
    case 4:
      return 'deadline';
    case 12:
      return 'not-temporal';
    default:
      return undefined;
  }
}
