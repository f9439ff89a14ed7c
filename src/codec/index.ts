/** Payload codecs (compression of large payloads, encryption), their keys from the environment, the codec server. */
export { COMPRESSED_ENCODING, CompressionCodec, INFLATED_BYTES_METADATA } from './compression-codec';
export {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  type CodecKey,
} from './encryption-codec';
export { CodecSettingsError, chainCodecs, encryptionCodecFromEnv, payloadCodecsFromEnv } from './settings';
export { startCodecServer, type CodecServerOptions, type RunningCodecServer } from './codec-server';
