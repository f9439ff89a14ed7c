/**
 * The worker's codec wrapper: a workflow's payload that cannot be read (garbage compressed data,
 * an unknown encoding, a key id nobody has, altered ciphertext, `json/plain` that is not JSON)
 * becomes a value every Convoy message schema refuses, instead of an error that fails the
 * workflow task for ever; readable payloads decode exactly as through the codecs themselves,
 * and activities' payloads keep their errors.
 */
import { randomBytes } from 'node:crypto';
import {
  defaultPayloadConverter,
  METADATA_ENCODING_KEY,
  type Payload,
  type SerializationContext,
} from '@temporalio/common';
import { z } from 'zod';
import {
  COMPRESSED_ENCODING,
  CompressionCodec,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  INFLATED_BYTES_METADATA,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../../src/codec';
import { RefuseUndecodableCodec, UNDECODABLE_PAYLOAD_MARK } from '../../../src/codec/undecodable';
import * as protocol from '../../../src/model/protocol';

const workflowContext: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'p' };
const activityContext: SerializationContext = {
  type: 'activity',
  namespace: 'default',
  workflowId: 'p',
  activityId: '1',
  isLocal: false,
};

const key = { id: 'k1', key: randomBytes(32) };
const codecs = [new CompressionCodec(), new EncryptionCodec(key)];
const guard = new RefuseUndecodableCodec(codecs);

function forged(
  encoding: string | undefined,
  data: string | Uint8Array,
  metadata: Record<string, string> = {},
) {
  return {
    metadata: {
      ...(encoding !== undefined && { [METADATA_ENCODING_KEY]: Buffer.from(encoding) }),
      ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)])),
    },
    data: typeof data === 'string' ? Buffer.from(data) : data,
  } satisfies Payload;
}

const unreadable: [string, Payload, RegExp][] = [
  [
    'garbage as compressed data',
    forged(COMPRESSED_ENCODING, randomBytes(64), { [INFLATED_BYTES_METADATA]: '100' }),
    /./,
  ],
  ['an unknown encoding', forged('binary/mystery', '{}'), /unknown encoding 'binary\/mystery'/],
  ['no encoding', forged(undefined, '{}'), /no encoding/],
  ['json/plain that is not JSON', forged('json/plain', '{"workflow": '), /not JSON/],
  [
    'a key id nobody has',
    forged(ENCRYPTED_ENCODING, randomBytes(64), { [KEY_ID_METADATA]: 'nope' }),
    /key id 'nope'/,
  ],
  [
    'ciphertext under the right key id, altered',
    forged(ENCRYPTED_ENCODING, randomBytes(64), { [KEY_ID_METADATA]: 'k1' }),
    /cannot decrypt/,
  ],
];

describe('a workflow payload that cannot be read', () => {
  it.each(unreadable)('%s becomes the refusable mark, with the reason', async (_, payload, reason) => {
    const [decoded] = await guard.decode([payload], workflowContext);
    const value = defaultPayloadConverter.fromPayload(decoded!);
    expect(value).toEqual([UNDECODABLE_PAYLOAD_MARK, expect.stringMatching(reason)]);
  });

  it('without the wrapper, each of them throws (in a codec or in the payload converter)', async () => {
    for (const [, payload] of unreadable) {
      const attempt = async () => {
        let payloads = [payload];
        for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
        return defaultPayloadConverter.fromPayload(payloads[0]!);
      };
      await expect(attempt()).rejects.toThrow();
    }
  });

  it('is refused by every message schema of the protocol', () => {
    const schemas = (Object.entries(protocol) as [string, unknown][]).filter(
      (entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType,
    );
    expect(schemas.length).toBeGreaterThan(10);
    const mark = [UNDECODABLE_PAYLOAD_MARK, 'why'];
    for (const [name, schema] of schemas)
      expect([name, schema.safeParse(mark).success]).toEqual([name, false]);
  });

  it('leaves readable payloads in the same list as the codecs would', async () => {
    const values = [{ workflow: 'a' }, 'x'.repeat(600 * 1024), null];
    const encoded = await guard.encode(values.map((v) => defaultPayloadConverter.toPayload(v)));
    expect(encoded.map((p) => Buffer.from(p.metadata![METADATA_ENCODING_KEY]!).toString())).toEqual([
      ENCRYPTED_ENCODING,
      ENCRYPTED_ENCODING,
      ENCRYPTED_ENCODING,
    ]);
    const mixed = [encoded[0]!, forged('binary/mystery', 'x'), encoded[1]!, encoded[2]!];
    const decoded = (await guard.decode(mixed, workflowContext)).map((p) =>
      defaultPayloadConverter.fromPayload(p),
    );
    expect(decoded).toEqual([
      values[0],
      [UNDECODABLE_PAYLOAD_MARK, expect.any(String)],
      values[1],
      values[2],
    ]);
  });
});

it('tells who was sent what it replaced, and nothing about readable payloads', async () => {
  const told: [string, string][] = [];
  const watched = new RefuseUndecodableCodec(codecs, (reason, workflowId) => told.push([reason, workflowId]));
  const [readable] = await watched.encode([defaultPayloadConverter.toPayload({ workflow: 'a' })]);
  await watched.decode([readable!, forged('binary/mystery', 'x')], workflowContext);
  expect(told).toEqual([["unknown encoding 'binary/mystery'", 'p']]);
});

describe("an activity's payloads", () => {
  it('keep their errors: a worker without the key stops rather than guess', async () => {
    const payload = forged(ENCRYPTED_ENCODING, randomBytes(64), { [KEY_ID_METADATA]: 'nope' });
    await expect(guard.decode([payload], activityContext)).rejects.toThrow(PayloadDecryptionError);
    await expect(guard.decode([payload])).rejects.toThrow(PayloadDecryptionError);
  });
});
