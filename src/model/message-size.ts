/**
 * How big Convoy's messages may be. The Temporal server writes a signal to history before any
 * workflow code sees it, so the only place to cap a message's size is the server's blob size
 * limit (`limit.blobSize.error`, per payload). Convoy keeps every payload it writes within a stock
 * server's warning (512 KiB; the error is at 2 MiB) and ships its own limit set just above that
 * (config/temporal/dynamic-config.yaml), below a 1 MB signal.
 *
 * The large payloads are the plan (the pipeline workflow's input) and the result documents; both
 * grow with the number of workflows and repeat the same structure for each. A payload larger than
 * {@link COMPRESS_ABOVE_BYTES} is deflated by Convoy's payload codec (src/codec/compression-codec.ts),
 * which shrinks these 10 to 70 times; smaller ones stay plain JSON, readable in the Web UI. The
 * codec and the checks here share this module's compression, so what is checked is what is sent.
 *
 * Pure module (workflow code uses it).
 */
import { deflateSync, inflateSync, strToU8 } from 'fflate';
import type { PipelineResult, StepResult, WorkflowResult } from './result';

/**
 * Payloads up to this size stay plain JSON; larger ones are deflated. It is a stock server's
 * warning size: a payload is compressed only when it would otherwise make the server warn.
 */
export const COMPRESS_ABOVE_BYTES = 512 * 1024;

/**
 * The largest payload Convoy writes, as sent (after compression): a stock server's warning size,
 * a quarter of its error size. A plan larger than this is refused before anything starts; a
 * result document larger than this has its steps' output tails shortened.
 */
export const MAX_PAYLOAD_BYTES = 512 * 1024;

/** The largest plan Convoy starts, in bytes as sent (see {@link encodedBytes}). */
export const MAX_PLAN_BYTES = MAX_PAYLOAD_BYTES;

/** The largest result document (a pipeline's, or one workflow's) a workflow returns, as sent. */
export const MAX_DOCUMENT_BYTES = MAX_PAYLOAD_BYTES;

/**
 * The server's `limit.blobSize.error` that Convoy ships: above every payload Convoy sends (with
 * room for a payload's envelope), below a 1 MB signal.
 */
export const BLOB_SIZE_LIMIT_BYTES = 768 * 1024;

/** The server's `limit.blobSize.warn` that Convoy ships: Convoy's own payloads never reach it. */
export const BLOB_SIZE_WARN_BYTES = 640 * 1024;

/**
 * The most a compressed payload may inflate to. A plan of 20,000 workflows is far below it, and a
 * forged payload cannot make a worker allocate more.
 */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** The deflate level of compressed payloads: fflate's default, a few ms per 100 KiB. */
const DEFLATE_LEVEL = 6;

/** True when a payload of `bytes` is sent compressed. */
export function isCompressed(bytes: number): boolean {
  return bytes > COMPRESS_ABOVE_BYTES;
}

/** `bytes` deflated (zlib format), as the payload codec writes them. */
export function compress(bytes: Uint8Array): Uint8Array {
  return deflateSync(bytes, { level: DEFLATE_LEVEL });
}

/** Thrown for compressed data that does not inflate, or would inflate past {@link MAX_INFLATED_BYTES}. */
export class PayloadInflateError extends Error {
  override readonly name = 'PayloadInflateError';
}

/**
 * The bytes `compressed` came from. `inflatedBytes` is the size the sender declared: the output
 * buffer is allocated for that and one byte more (fflate stops at the buffer's end, so a payload
 * that fills it was longer than declared), so a forged payload cannot inflate past it.
 */
export function decompress(compressed: Uint8Array, inflatedBytes: number): Uint8Array {
  if (!Number.isSafeInteger(inflatedBytes) || inflatedBytes < 0 || inflatedBytes > MAX_INFLATED_BYTES)
    throw new PayloadInflateError(
      `a compressed payload declares ${inflatedBytes} bytes; at most ${MAX_INFLATED_BYTES} are accepted`,
    );
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(compressed, { out: new Uint8Array(inflatedBytes + 1) });
  } catch (error) {
    throw new PayloadInflateError('a compressed payload does not inflate', { cause: error });
  }
  if (inflated.length !== inflatedBytes)
    throw new PayloadInflateError(
      `a compressed payload inflated to ${inflated.length} bytes, not the ${inflatedBytes} it declares`,
    );
  return inflated;
}

/** The bytes of `text` in UTF-8, the encoding payloads are written in. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one code point of 4 bytes
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** The size of `value` as a JSON payload. */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}

/**
 * The size of `value` as Convoy's payload codec sends it: its JSON, deflated when larger than
 * {@link COMPRESS_ABOVE_BYTES}. (The codec compresses the payload's protobuf, a few dozen bytes
 * more than its JSON; {@link BLOB_SIZE_LIMIT_BYTES} leaves room for that.)
 */
export function encodedBytes(value: unknown): number {
  const json = JSON.stringify(value) ?? '';
  const bytes = utf8Bytes(json);
  return isCompressed(bytes) ? compress(strToU8(json)).length : bytes;
}

/** `output` with each tail cut to its last `chars` characters. */
function trimOutput(output: NonNullable<StepResult['output']>, chars: number): StepResult['output'] {
  const cut = (tail: string | undefined) =>
    tail === undefined ? undefined : tail.slice(tail.length - chars);
  const stdoutTail = cut(output.stdoutTail);
  const stderrTail = cut(output.stderrTail);
  return {
    ...output,
    ...(stdoutTail !== undefined ? { stdoutTail } : {}),
    ...(stderrTail !== undefined ? { stderrTail } : {}),
  };
}

function mapSteps<D extends PipelineResult | WorkflowResult>(doc: D, f: (step: StepResult) => StepResult): D {
  // The steps of a parallel step's branches and of a child pipeline's document (nested in its
  // step) too: their outputs weigh as much as any.
  const deep = (step: StepResult): StepResult => {
    const mapped = f(step);
    return {
      ...mapped,
      ...(step.branches !== undefined
        ? { branches: step.branches.map((b) => ({ ...b, steps: b.steps.map(deep) })) }
        : {}),
      ...(step.pipeline !== undefined ? { pipeline: mapSteps(step.pipeline, f) } : {}),
    };
  };
  if ('workflows' in doc)
    return { ...doc, workflows: doc.workflows.map((wf) => ({ ...wf, steps: wf.steps.map(deep) })) };
  return { ...doc, steps: doc.steps.map(deep) };
}

/**
 * `doc` as a workflow may return it: when it is larger than `maxBytes` as sent (compressed when
 * large, see {@link encodedBytes}), the output tails of its steps are shortened (each keeps its
 * end, halving until the document fits or they are empty). Returns `doc` itself when it fits;
 * never changes it.
 */
export function fitDocument<D extends PipelineResult | WorkflowResult>(
  doc: D,
  maxBytes = MAX_DOCUMENT_BYTES,
): D {
  if (encodedBytes(doc) <= maxBytes) return doc;
  for (let chars = 2048; ; chars = Math.floor(chars / 2)) {
    const trimmed = mapSteps(doc, (step) =>
      step.output ? { ...step, output: trimOutput(step.output, chars) } : step,
    );
    if (chars === 0 || encodedBytes(trimmed) <= maxBytes) return trimmed;
  }
}
