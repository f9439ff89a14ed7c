/** Errors of reaching Temporal, shared by the client and the worker. */

/** Temporal could not be reached (wrong address, server down) or another infrastructure failure. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
}
