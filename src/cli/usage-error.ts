/** A command line the `convoy` command cannot act on (a malformed option, say): exit 2. */
export class ConvoyUsageError extends Error {
  override readonly name = 'ConvoyUsageError';
}
