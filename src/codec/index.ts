/** Payload encryption: the codec, its keys from the environment, and the codec server. */
export {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  type CodecKey,
} from './encryption-codec';
export { CodecSettingsError, encryptionCodecFromEnv, payloadCodecsFromEnv } from './settings';
export { startCodecServer, type CodecServerOptions, type RunningCodecServer } from './codec-server';
