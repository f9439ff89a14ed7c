/**
 * Keeps only the last N bytes of a byte stream. A deployment script can print megabytes; the
 * step result (and the workflow history it ends up in) only needs the end, where the errors are.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private seenBytes = 0;

  /** @param limitBytes how many of the most recent bytes to keep; must be positive. */
  constructor(private readonly limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes <= 0) {
      throw new RangeError(`TailBuffer limit must be a positive integer, got ${limitBytes}`);
    }
  }

  /** Appends a chunk, dropping the oldest bytes beyond the limit. */
  push(chunk: Buffer | Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.seenBytes += bytes.length;
    // A single chunk larger than the limit only contributes its own end. Copy what is kept so the
    // buffer does not pin the producer's (possibly pooled, much larger) memory.
    const end = bytes.length > this.limitBytes ? bytes.subarray(bytes.length - this.limitBytes) : bytes;
    const kept = Buffer.from(end);
    this.chunks.push(kept);
    this.keptBytes += kept.length;
    this.trim();
  }

  /** Total bytes ever pushed, including the dropped ones (for heartbeats and logs). */
  get totalBytes(): number {
    return this.seenBytes;
  }

  /**
   * The kept bytes as UTF-8 text. When the cut fell inside a multi-byte character, its orphaned
   * continuation bytes are skipped so the text does not start with a replacement character.
   */
  toString(): string {
    const bytes = Buffer.concat(this.chunks, this.keptBytes);
    let start = 0;
    if (this.seenBytes > this.keptBytes) {
      // UTF-8 continuation bytes look like 10xxxxxx; a character has at most 3 of them.
      while (start < bytes.length && start < 3 && (bytes[start] & 0xc0) === 0x80) start++;
    }
    return bytes.subarray(start).toString('utf8');
  }

  private trim(): void {
    let excess = this.keptBytes - this.limitBytes;
    while (excess > 0) {
      const first = this.chunks[0];
      if (first.length <= excess) {
        this.chunks.shift();
        this.keptBytes -= first.length;
        excess -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.keptBytes -= excess;
        excess = 0;
      }
    }
  }
}
