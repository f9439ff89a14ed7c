/**
 * Masking secret values in what a step reports: output tails, failure messages and details,
 * stack traces. Everything a step activity returns or throws ends up in workflow history, the
 * result document, `convoy status` and the worker's log, so a value must be replaced before it
 * leaves the activity.
 *
 * Each value is masked as written and in the forms it takes on the way: percent-encoded (a URL
 * normalises it so) and, for a multi-line value (a PEM key), each of its lines. Output streams are
 * masked as they flow, before a tail cuts them, so a value split across chunks or across the
 * tail's first byte is never left half visible.
 *
 * No I/O: Buffers only.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { SECRET_MASK } from '../model/secrets';
import { TailBuffer } from './tail-buffer';

/** Lines of a multi-line secret shorter than this are not masked alone (they would mask noise). */
const MIN_LINE_CHARS = 4;

/** The secret values of one step attempt, and how to mask them. */
export class SecretMask {
  /** Longest first, so a value containing another is masked whole. */
  private readonly patterns: string[];
  private readonly bytePatterns: Buffer[];
  private readonly maskBytes = Buffer.from(SECRET_MASK);

  constructor(values: Iterable<string>) {
    const patterns = new Set<string>();
    for (const value of values) {
      if (value === '') continue;
      patterns.add(value);
      patterns.add(encodeURIComponent(value));
      if (/[\r\n]/.test(value)) {
        for (const line of value.split(/\r?\n|\r/))
          if (line.trim().length >= MIN_LINE_CHARS) patterns.add(line);
      }
    }
    this.patterns = [...patterns].sort((a, b) => b.length - a.length);
    this.bytePatterns = this.patterns.map((pattern) => Buffer.from(pattern));
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** The text with every occurrence of a secret replaced by `***`. */
  text(text: string): string {
    let masked = text;
    for (const pattern of this.patterns) masked = masked.split(pattern).join(SECRET_MASK);
    return masked;
  }

  /** The bytes with every occurrence of a secret replaced by `***`. */
  bytes(bytes: Buffer): Buffer {
    let masked = bytes;
    for (const pattern of this.bytePatterns) {
      let at = masked.indexOf(pattern);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(masked.subarray(from, at), this.maskBytes);
        from = at + pattern.length;
        at = masked.indexOf(pattern, from);
      }
      parts.push(masked.subarray(from));
      masked = Buffer.concat(parts);
    }
    return masked;
  }

  /** Bytes a stream must hold back: the most a secret can extend past a chunk's end. */
  get holdBytes(): number {
    return Math.max(0, ...this.bytePatterns.map((pattern) => pattern.length - 1));
  }

  /** Any value, strings inside objects and arrays included, masked (for failure details). */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.deep(item)) as T;
    if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.deep(item)])) as T;
    }
    return value;
  }

  /**
   * The error an activity may throw once its secrets are masked: message, stack, details and
   * causes. A cancellation is Temporal's own and carries no step text.
   */
  error(error: unknown): unknown {
    if (this.empty || error instanceof CancelledFailure || !(error instanceof Error)) return error;
    if (error instanceof ApplicationFailure) {
      const masked = ApplicationFailure.create({
        type: error.type ?? undefined,
        message: this.text(error.message),
        nonRetryable: error.nonRetryable ?? undefined,
        nextRetryDelay: error.nextRetryDelay ?? undefined,
        category: error.category ?? undefined,
        details: this.deep(error.details ?? []) as unknown[],
        cause: error.cause instanceof Error ? (this.error(error.cause) as Error) : undefined,
      });
      masked.stack = error.stack === undefined ? undefined : this.text(error.stack);
      return masked;
    }
    error.message = this.text(error.message);
    if (error.stack !== undefined) error.stack = this.text(error.stack);
    if (error.cause instanceof Error) error.cause = this.error(error.cause);
    return error;
  }
}

/**
 * A {@link TailBuffer} fed through a {@link SecretMask}: it holds back the bytes that could be the
 * start of a secret until the next chunk (or {@link MaskedTail.toString}) tells.
 */
export class MaskedTail {
  private readonly tail: TailBuffer;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    limitBytes: number,
    private readonly mask: SecretMask,
  ) {
    this.tail = new TailBuffer(limitBytes);
  }

  /** Appends a chunk of output. */
  push(chunk: Buffer | Uint8Array): void {
    if (this.mask.empty) {
      this.tail.push(chunk);
      return;
    }
    const masked = this.mask.bytes(Buffer.concat([this.pending, chunk]));
    const keep = Math.min(this.mask.holdBytes, masked.length);
    this.tail.push(masked.subarray(0, masked.length - keep));
    this.pending = Buffer.from(masked.subarray(masked.length - keep));
  }

  /** Output bytes seen, masked, for heartbeats. */
  get totalBytes(): number {
    return this.tail.totalBytes + this.pending.length;
  }

  /** The masked tail, held-back bytes included (the output is taken to have ended here). */
  toString(): string {
    if (this.pending.length > 0) {
      this.tail.push(this.mask.bytes(this.pending));
      this.pending = Buffer.alloc(0);
    }
    return this.tail.toString();
  }
}
