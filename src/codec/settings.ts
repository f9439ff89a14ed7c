/**
 * The payload codec's keys from the environment, shared by `convoy worker`, the client, the CLI
 * and `convoy codec-server`, so they all agree:
 *
 * - `CONVOY_CODEC_KEY`: the current key, 32 bytes in base64 (`openssl rand -base64 32`);
 * - `CONVOY_CODEC_KEY_ID`: its id, written into every payload it encrypts;
 * - `CONVOY_CODEC_OLD_KEYS`: optional, `id=base64key` pairs separated by commas, for payloads
 *   encrypted before a rotation (decryption only).
 *
 * A bad value stops the process with one line naming the variable, before anything connects.
 */
import type { PayloadCodec } from '@temporalio/common';
import { CompressionCodec } from './compression-codec';
import { type CodecKey, EncryptionCodec, KEY_BYTES } from './encryption-codec';

/** Raised for a bad `CONVOY_CODEC_*` variable; the message names it. */
export class CodecSettingsError extends Error {
  override readonly name = 'CodecSettingsError';
}

const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The codec the environment configures, or undefined when `CONVOY_CODEC_KEY` is not set. */
export function encryptionCodecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const keyText = env.CONVOY_CODEC_KEY;
  const oldKeys = env.CONVOY_CODEC_OLD_KEYS;
  if (!keyText) {
    if (env.CONVOY_CODEC_KEY_ID || oldKeys)
      throw new CodecSettingsError('CONVOY_CODEC_KEY_ID and CONVOY_CODEC_OLD_KEYS need CONVOY_CODEC_KEY');
    return undefined;
  }
  const id = env.CONVOY_CODEC_KEY_ID;
  if (!id) throw new CodecSettingsError('CONVOY_CODEC_KEY_ID must name the key of CONVOY_CODEC_KEY');
  const current = codecKey('CONVOY_CODEC_KEY', id, keyText);
  const older = (oldKeys ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const equals = entry.indexOf('=');
      if (equals <= 0)
        throw new CodecSettingsError('CONVOY_CODEC_OLD_KEYS: expected id=base64key, separated by commas');
      return codecKey('CONVOY_CODEC_OLD_KEYS', entry.slice(0, equals), entry.slice(equals + 1));
    });
  return new EncryptionCodec(current, older);
}

/**
 * `dataConverter.payloadCodecs` for a Temporal client or worker that talks to Convoy's workflows:
 * compression of large payloads always (see ./compression-codec), then encryption when the
 * environment has a key. Compression must come first: ciphertext does not shrink.
 */
export function payloadCodecsFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadCodec[] {
  const codec = encryptionCodecFromEnv(env);
  return [new CompressionCodec(), ...(codec === undefined ? [] : [codec])];
}

/**
 * One codec running `codecs` the way a Temporal data converter does (encode in order, decode in
 * reverse), for the codec server, which serves what clients and workers do.
 */
export function chainCodecs(codecs: readonly PayloadCodec[]): PayloadCodec {
  return {
    async encode(payloads) {
      for (const codec of codecs) payloads = await codec.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads;
    },
  };
}

function codecKey(variable: string, id: string, base64: string): CodecKey {
  if (!KEY_ID_PATTERN.test(id))
    throw new CodecSettingsError(
      `${variable}: key id '${id}' must be 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(base64) ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES)
    throw new CodecSettingsError(
      `${variable}: key '${id}' must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`,
    );
  return { id, key };
}
