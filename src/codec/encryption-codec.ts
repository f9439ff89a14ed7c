/**
 * Payload encryption the Temporal way: a PayloadCodec that the client, the worker and the CLI
 * run outside the workflow sandbox, so the Temporal server (its database, its history, its Web
 * UI without a codec server) only ever sees ciphertext.
 *
 * Each payload is serialised (protobuf, as Temporal's own samples do) and sealed with AES-256-GCM
 * under the current key: `iv (12 bytes) | ciphertext | tag (16 bytes)`, encoding
 * `binary/encrypted`, the key's id in the metadata (`encryption-key-id`). Decoding picks the key
 * by that id, so older keys kept for decryption let a key be rotated while pipelines run.
 * Payloads that are not encrypted pass through both ways unchanged on decode (history written
 * before a key was configured stays readable).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key that names the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES-256: 32-byte keys. */
export const KEY_BYTES = 32;

/** A named AES-256 key. */
export interface CodecKey {
  id: string;
  key: Uint8Array;
}

/** A payload cannot be decrypted: its key is unknown here, or it is not the key it was sealed with. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/** AES-256-GCM {@link PayloadCodec} with key rotation. */
export class EncryptionCodec implements PayloadCodec {
  private readonly keysById: ReadonlyMap<string, Uint8Array>;

  /**
   * @param current the key new payloads are encrypted with
   * @param older keys kept to decrypt payloads written before a rotation
   */
  constructor(
    private readonly current: CodecKey,
    older: readonly CodecKey[] = [],
  ) {
    for (const { id, key } of [current, ...older]) {
      if (key.length !== KEY_BYTES)
        throw new RangeError(`key ${id} has ${key.length} bytes; expected ${KEY_BYTES}`);
    }
    this.keysById = new Map([...older, current].map(({ id, key }) => [id, key]));
  }

  /** The id of the key new payloads are encrypted with. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(this.current.id),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (encoding === undefined || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = keyIdBytes === undefined ? '' : Buffer.from(keyIdBytes).toString();
      const key = this.keysById.get(keyId);
      if (key === undefined) {
        throw new PayloadDecryptionError(
          `a payload is encrypted with key id '${keyId}', which this process does not have ` +
            `(it has ${[...this.keysById.keys()].map((id) => `'${id}'`).join(', ')}); ` +
            'add it to CONVOY_CODEC_OLD_KEYS',
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) {
        throw new PayloadDecryptionError(`an encrypted payload (key id '${keyId}') is truncated`);
      }
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch (error) {
        throw new PayloadDecryptionError(
          `cannot decrypt a payload with key id '${keyId}': this process's key of that id is not the one ` +
            'it was encrypted with (or the payload was altered)',
          { cause: error },
        );
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}
