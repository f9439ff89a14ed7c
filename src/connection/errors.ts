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
