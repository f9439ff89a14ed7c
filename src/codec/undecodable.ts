/**
 * The worker's payload codecs, wrapped so that a payload nobody can read is refused like any
 * malformed message instead of wedging the workflow that received it.
 *
 * The server writes a signal to history before any workflow code sees it, and anyone who may
 * signal in the namespace can send one with any payload: encoding `binary/convoy-deflate` and
 * garbage for data, an encoding no converter knows, `binary/encrypted` with a key id nobody has,
 * `json/plain` that is not JSON. Decoding such a payload throws, in the codec or in the
 * workflow's payload converter, and a throw there fails the workflow task; the server retries
 * the task, which meets the same event again, for ever, and the pipeline stands still until it
 * is terminated. So for a workflow's own activation (serialization context `workflow`: its
 * signals, updates and queries, its start input, its children's results) a payload the codecs or
 * the default payload converter cannot read is handed on as a JSON list
 * (`["convoy: undecodable payload", reason]`) that no message schema accepts: the signal handler
 * refuses it and counts it as it counts any malformed message, and an update's validator
 * rejects it. A start input or a child's result replaced this way still fails the workflow task,
 * as before (the workflows parse those with zod and throw), so a worker that lacks a key still
 * stops rather than guess. Activities' payloads (context `activity`, or none) are decoded as the
 * codecs decode them, errors included.
 */
import {
  METADATA_ENCODING_KEY,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from '@temporalio/common';

/**
 * The first element of the value an unreadable payload turns into: a list, which every Convoy
 * message schema refuses (they are objects; an object schema would also accept an object with
 * a field of its own, since zod drops unknown keys).
 */
export const UNDECODABLE_PAYLOAD_MARK = 'convoy: undecodable payload';

/** Encodings the SDK's default payload converter reads (in the workflow sandbox too). */
const READABLE_ENCODINGS = new Set(['binary/null', 'binary/plain', 'json/plain']);

const utf8 = new TextDecoder();

/** Why the default payload converter would throw on `payload`, or undefined if it would not. */
function unreadable(payload: Payload): string | undefined {
  const encodingBytes = payload.metadata?.[METADATA_ENCODING_KEY];
  if (encodingBytes === undefined) return 'the payload has no encoding';
  const encoding = utf8.decode(encodingBytes);
  if (!READABLE_ENCODINGS.has(encoding)) return `unknown encoding '${encoding.slice(0, 64)}'`;
  if (encoding !== 'json/plain') return undefined;
  if (payload.data === undefined || payload.data === null) return 'a json/plain payload without data';
  try {
    JSON.parse(utf8.decode(payload.data));
    return undefined;
  } catch {
    return 'a json/plain payload that is not JSON';
  }
}

/** The payload that replaces an unreadable one: a JSON list no message schema accepts. */
export function undecodablePayload(reason: string): Payload {
  return {
    metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify([UNDECODABLE_PAYLOAD_MARK, reason])),
  };
}

/**
 * One codec that runs `codecs` as the SDK runs a list of them (encode first to last, decode last
 * to first) and, for a workflow's own activation, replaces each payload it cannot decode, or the
 * default payload converter could not read, with {@link undecodablePayload}.
 */
export class RefuseUndecodableCodec implements PayloadCodec {
  /**
   * @param codecs the worker's codecs, in the order the SDK takes them
   * @param onUndecodable told of each payload replaced, with the workflow it was for
   */
  constructor(
    private readonly codecs: readonly PayloadCodec[],
    private readonly onUndecodable: (reason: string, workflowId: string) => void = () => undefined,
  ) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    for (const codec of this.codecs) payloads = await codec.encode(payloads, context);
    return payloads;
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (context?.type !== 'workflow') return this.decodeAll(payloads, context);
    const replaced = (reason: string): Payload => {
      this.onUndecodable(reason, context.workflowId);
      return undecodablePayload(reason);
    };
    return Promise.all(
      payloads.map(async (payload) => {
        let decoded: Payload;
        try {
          [decoded] = (await this.decodeAll([payload], context)) as [Payload];
        } catch (error) {
          return replaced((error instanceof Error ? error.message : String(error)).slice(0, 300));
        }
        const reason = unreadable(decoded);
        return reason === undefined ? decoded : replaced(reason);
      }),
    );
  }

  private async decodeAll(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    for (const codec of [...this.codecs].reverse()) payloads = await codec.decode(payloads, context);
    return payloads;
  }
}
