/**
 * The compression codec: large payloads deflated (and measured as the plan check and the
 * workflows measure them), small ones untouched, other encodings passed through, forged sizes
 * refused; and before encryption in the codecs every client and worker gets.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import {
  COMPRESSED_ENCODING,
  CompressionCodec,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  INFLATED_BYTES_METADATA,
  chainCodecs,
  payloadCodecsFromEnv,
} from '../../../src/codec';
import { COMPRESS_ABOVE_BYTES, PayloadInflateError, encodedBytes } from '../../../src/model/message-size';

const encodingOf = (payload: Payload) => Buffer.from(payload.metadata![METADATA_ENCODING_KEY]!).toString();
/** A plan-like value: the same structure over and over, as a wide pipeline's plan and documents are. */
const wide = (n: number) => ({
  plan: Array.from({ length: n }, (_, i) => ({
    name: `w${i}`,
    steps: [{ type: 'barrier', identifier: 'b1' }],
  })),
});

describe('CompressionCodec', () => {
  const codec = new CompressionCodec();

  it('leaves a payload up to the threshold as it is', async () => {
    const small = defaultPayloadConverter.toPayload(wide(100));
    expect(small.data!.length).toBeLessThanOrEqual(COMPRESS_ABOVE_BYTES);
    const [encoded] = await codec.encode([small]);
    expect(encoded).toBe(small);
  });

  it('deflates a larger one to about what encodedBytes predicts, and inflates it back', async () => {
    const value = wide(20_000);
    const large = defaultPayloadConverter.toPayload(value);
    expect(large.data!.length).toBeGreaterThan(COMPRESS_ABOVE_BYTES);
    const [encoded] = await codec.encode([large]);
    expect(encodingOf(encoded!)).toBe(COMPRESSED_ENCODING);
    // The codec deflates the serialised payload (its metadata too): a few bytes more.
    expect(Math.abs(encoded!.data!.length - encodedBytes(value))).toBeLessThan(64);
    expect(encoded!.data!.length).toBeLessThan(large.data!.length / 10);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(value);
  });

  it('passes payloads of other encodings through, and refuses one that lies about its size', async () => {
    const plain = defaultPayloadConverter.toPayload({ ok: true });
    expect((await codec.decode([plain]))[0]).toBe(plain);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(wide(20_000))]);
    const lying = {
      ...encoded!,
      metadata: { ...encoded!.metadata, [INFLATED_BYTES_METADATA]: Buffer.from('1000') },
    };
    await expect(codec.decode([lying])).rejects.toThrow(PayloadInflateError);
    const unsized = { ...encoded!, metadata: { [METADATA_ENCODING_KEY]: Buffer.from(COMPRESSED_ENCODING) } };
    await expect(codec.decode([unsized])).rejects.toThrow(PayloadInflateError);
  });
});

describe('payloadCodecsFromEnv', () => {
  it('compresses always, then encrypts with a key: a large payload is sealed compressed', async () => {
    expect(payloadCodecsFromEnv({}).map((c) => c.constructor)).toEqual([CompressionCodec]);
    const env = { CONVOY_CODEC_KEY: randomBytes(32).toString('base64'), CONVOY_CODEC_KEY_ID: 'k1' };
    const codecs = payloadCodecsFromEnv(env);
    expect(codecs.map((c) => c.constructor)).toEqual([CompressionCodec, EncryptionCodec]);
    const chain = chainCodecs(codecs);
    const value = wide(20_000);
    const large = defaultPayloadConverter.toPayload(value);
    const [sealed] = await chain.encode([large]);
    expect(encodingOf(sealed!)).toBe(ENCRYPTED_ENCODING);
    expect(sealed!.data!.length).toBeLessThan(large.data!.length / 10);
    const [opened] = await chain.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value);
  });
});
