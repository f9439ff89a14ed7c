/**
 * The payload codec: AES-256-GCM sealing, key ids for rotation, clear errors for a wrong or
 * unknown key, settings from the environment, and the codec server over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import {
  CodecSettingsError,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  encryptionCodecFromEnv,
  startCodecServer,
} from '../../../src/codec';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (payload: Payload) => Buffer.from(payload.data ?? []).toString();

describe('EncryptionCodec', () => {
  const plain = [defaultPayloadConverter.toPayload({ password: 'hunter2-plain' })];

  it('seals payloads: binary/encrypted, the key id in the metadata, no plaintext; and opens them', async () => {
    const codec = new EncryptionCodec(key('k1'));
    const [sealed] = await codec.encode(plain);
    expect(Buffer.from(sealed!.metadata![METADATA_ENCODING_KEY]!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed!.metadata![KEY_ID_METADATA]!).toString()).toBe('k1');
    expect(text(sealed!)).not.toContain('hunter2');
    // A fresh IV each time: the same payload never seals the same way twice.
    expect(text((await codec.encode(plain))[0]!)).not.toBe(text(sealed!));
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ password: 'hunter2-plain' });
  });

  it('decrypts with an older key after a rotation, and passes unencrypted payloads through', async () => {
    const old = key('2025');
    const [sealedBefore] = await new EncryptionCodec(old).encode(plain);
    const rotated = new EncryptionCodec(key('2026'), [old]);
    const [opened, untouched] = await rotated.decode([sealedBefore!, plain[0]!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ password: 'hunter2-plain' });
    expect(untouched).toBe(plain[0]);
  });

  it('says which key is missing, or that the key of that id is the wrong one', async () => {
    const [sealed] = await new EncryptionCodec(key('k1')).encode(plain);
    await expect(new EncryptionCodec(key('k2')).decode([sealed!])).rejects.toThrow(
      new PayloadDecryptionError(
        "a payload is encrypted with key id 'k1', which this process does not have (it has 'k2'); add it to CONVOY_CODEC_OLD_KEYS",
      ),
    );
    await expect(new EncryptionCodec(key('k1')).decode([sealed!])).rejects.toThrow(
      "cannot decrypt a payload with key id 'k1': this process's key of that id is not the one it was encrypted with",
    );
  });
});

describe('encryptionCodecFromEnv', () => {
  const k = randomBytes(32).toString('base64');
  it('is off without a key, and reads the key, its id and older keys', async () => {
    expect(encryptionCodecFromEnv({})).toBeUndefined();
    const old = randomBytes(32).toString('base64');
    const codec = encryptionCodecFromEnv({
      CONVOY_CODEC_KEY: k,
      CONVOY_CODEC_KEY_ID: 'now',
      CONVOY_CODEC_OLD_KEYS: `before=${old}`,
    });
    expect(codec?.keyId).toBe('now');
    const [sealed] = await encryptionCodecFromEnv({
      CONVOY_CODEC_KEY: old,
      CONVOY_CODEC_KEY_ID: 'before',
    })!.encode([defaultPayloadConverter.toPayload('x')]);
    expect(defaultPayloadConverter.fromPayload((await codec!.decode([sealed!]))[0]!)).toBe('x');
  });

  it('names the variable, never the key, when a setting is wrong', () => {
    const bad = (env: NodeJS.ProcessEnv) => () => encryptionCodecFromEnv(env);
    expect(bad({ CONVOY_CODEC_KEY: k })).toThrow(
      new CodecSettingsError('CONVOY_CODEC_KEY_ID must name the key of CONVOY_CODEC_KEY'),
    );
    expect(bad({ CONVOY_CODEC_KEY: 'c2hvcnQ=', CONVOY_CODEC_KEY_ID: 'a' })).toThrow(
      "CONVOY_CODEC_KEY: key 'a' must be 32 bytes in base64 (openssl rand -base64 32)",
    );
    expect(bad({ CONVOY_CODEC_KEY: k, CONVOY_CODEC_KEY_ID: 'a', CONVOY_CODEC_OLD_KEYS: 'nokey' })).toThrow(
      'CONVOY_CODEC_OLD_KEYS: expected id=base64key, separated by commas',
    );
    expect(bad({ CONVOY_CODEC_KEY_ID: 'a' })).toThrow(
      'CONVOY_CODEC_KEY_ID and CONVOY_CODEC_OLD_KEYS need CONVOY_CODEC_KEY',
    );
  });
});

describe('the codec server', () => {
  const codec = new EncryptionCodec(key('k1'));
  const ui = 'http://localhost:8233';

  async function withServer(token: string | undefined, run: (url: string) => Promise<void>): Promise<void> {
    const server = await startCodecServer({ codec, port: 0, corsOrigins: [ui], token });
    try {
      await run(server.url);
    } finally {
      await server.close();
    }
  }
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: ui, 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });

  it('round-trips payloads over HTTP as the Web UI sends them, with CORS for its origin', async () => {
    await withServer(undefined, async (url) => {
      const preflight = await fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: ui,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-namespace',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Namespace');

      const json = {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('"secret text"').toString('base64'),
      };
      const encoded = await post(`${url}/some/prefix/encode`, { payloads: [json] });
      expect(encoded.status).toBe(200);
      expect(encoded.headers.get('access-control-allow-origin')).toBe(ui);
      const { payloads } = (await encoded.json()) as {
        payloads: { metadata: Record<string, string>; data: string }[];
      };
      expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payloads[0]!.data, 'base64').toString()).not.toContain('secret text');

      const decoded = await post(`${url}/decode`, { payloads });
      expect(await decoded.json()).toEqual({ payloads: [json] });

      // Another origin gets no CORS permission; a wrong body a 400, not a crash.
      const stranger = await post(`${url}/decode`, { payloads }, { Origin: 'http://evil.example' });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
      expect((await post(`${url}/decode`, { nope: 1 })).status).toBe(400);
      const foreign = await new EncryptionCodec(key('other')).encode([
        { metadata: {}, data: Buffer.from('x') },
      ]);
      const unknownKey = await post(`${url}/decode`, {
        payloads: foreign.map((p) => ({
          metadata: Object.fromEntries(
            Object.entries(p.metadata!).map(([k2, v]) => [k2, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(p.data!).toString('base64'),
        })),
      });
      expect(unknownKey.status).toBe(422);
      expect(((await unknownKey.json()) as { message: string }).message).toContain("key id 'other'");
    });
  });

  it('requires the bearer token when one is set', async () => {
    await withServer('t0ken', async (url) => {
      expect((await post(`${url}/encode`, { payloads: [] })).status).toBe(401);
      expect((await post(`${url}/encode`, { payloads: [] }, { Authorization: 'Bearer wrong' })).status).toBe(
        401,
      );
      expect((await post(`${url}/encode`, { payloads: [] }, { Authorization: 'Bearer t0ken' })).status).toBe(
        200,
      );
    });
  });
});
