/**
 * Payload compression: a PayloadCodec that deflates the payloads too large to send plain (a
 * large pipeline's plan and result documents), so they fit a stock Temporal server's blob size
 * limits, and leaves every other payload as it is, plain JSON that the Web UI shows as is.
 *
 * A compressed payload is the original payload serialised (protobuf, as the encryption codec
 * does) and deflated, encoding `binary/convoy-deflate`, its inflated size in the metadata
 * (`convoy-inflated-bytes`). The threshold and the compression are those of
 * src/model/message-size.ts, which the plan check and the workflows' result trimming use: what
 * they measure is what this codec sends. It runs before encryption (compressed ciphertext would
 * not shrink) and decodes payloads of any other encoding unchanged.
 */
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { compress, decompress, isCompressed } from '../model/message-size';

/** `encoding` of a compressed payload. */
export const COMPRESSED_ENCODING = 'binary/convoy-deflate';
/** Metadata key holding the size of the serialised payload a compressed one inflates to. */
export const INFLATED_BYTES_METADATA = 'convoy-inflated-bytes';

/** Deflates payloads larger than the model's threshold; inflates them back. */
export class CompressionCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isCompressed(payload.data?.length ?? 0)) return payload;
      const serialised = temporal.api.common.v1.Payload.encode(payload).finish();
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(COMPRESSED_ENCODING),
          [INFLATED_BYTES_METADATA]: Buffer.from(String(serialised.length)),
        },
        data: compress(serialised),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (encoding === undefined || Buffer.from(encoding).toString() !== COMPRESSED_ENCODING) return payload;
      const declared = payload.metadata?.[INFLATED_BYTES_METADATA];
      const inflatedBytes = declared === undefined ? NaN : Number(Buffer.from(declared).toString());
      const serialised = decompress(payload.data ?? new Uint8Array(), inflatedBytes);
      return temporal.api.common.v1.Payload.decode(serialised) as Payload;
    });
  }
}
