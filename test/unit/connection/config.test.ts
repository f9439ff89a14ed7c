/**
 * Where Convoy finds Temporal: the `temporal` CLI's profiles and variables (through
 * @temporalio/envconfig), overridden by flags, and secrets that never reach a message.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeConnection,
  redactSecrets,
  resolveTemporalConnection,
  taskQueueFromEnv,
  temporalConfigFromEnv,
} from '../../../src/connection/config';
import { TemporalConfigError } from '../../../src/connection/errors';

const dir = mkdtempSync(join(tmpdir(), 'convoy-envconfig-'));
const API_KEY = 'sk-live-very-secret-key-1234567890';
const CLIENT_KEY = '-----BEGIN PRIVATE KEY-----\nMIIsecretkeymaterial\n-----END PRIVATE KEY-----\n';
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const caPath = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIca\n-----END CERTIFICATE-----\n');
const certPath = file('client.pem', '-----BEGIN CERTIFICATE-----\nMIIclient\n-----END CERTIFICATE-----\n');
const keyPath = file('client.key', CLIENT_KEY);
const toml = file(
  'temporal.toml',
  `[profile.default]
address = "default.example:7233"
namespace = "dev"

[profile.cloud]
address = "acme.tmprl.cloud:7233"
namespace = "acme.prod"
api_key = "${API_KEY}"

[profile.mtls]
address = "temporal.internal:7233"
namespace = "deploys"
[profile.mtls.tls]
server_ca_cert_path = "${caPath}"
client_cert_path = "${certPath}"
client_key_path = "${keyPath}"
server_name = "temporal.internal"
`,
);
// HOME elsewhere: a developer's own ~/.config/temporalio/temporal.toml must not leak into the test.
const base = { HOME: dir };

test('without a profile or variable: localhost:7233, namespace default, plaintext', () => {
  const connection = resolveTemporalConnection({ env: base });
  expect(connection).toEqual({ address: 'localhost:7233', namespace: 'default', profile: 'default' });
  expect(describeConnection(connection)).toBe('localhost:7233, namespace default (plaintext)');
});

test('the default profile of TEMPORAL_CONFIG_FILE, then TEMPORAL_PROFILE, then the variables, then the flags', () => {
  const env = { ...base, TEMPORAL_CONFIG_FILE: toml };
  expect(resolveTemporalConnection({ env })).toMatchObject({
    address: 'default.example:7233',
    namespace: 'dev',
  });
  expect(resolveTemporalConnection({ env: { ...env, TEMPORAL_PROFILE: 'cloud' } })).toMatchObject({
    address: 'acme.tmprl.cloud:7233',
    namespace: 'acme.prod',
    apiKey: API_KEY,
    // An API key alone means TLS with the system's CAs, as for Temporal Cloud.
    tls: true,
    profile: 'cloud',
  });
  expect(
    resolveTemporalConnection({
      env: { ...env, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'acme.staging' },
    }),
  ).toMatchObject({ address: 'acme.tmprl.cloud:7233', namespace: 'acme.staging' });
  expect(
    resolveTemporalConnection({
      env: { ...env, TEMPORAL_ADDRESS: 'from-env:7233' },
      profile: 'cloud',
      address: 'from-flag:7233',
    }),
  ).toMatchObject({ address: 'from-flag:7233', namespace: 'acme.prod', profile: 'cloud' });
  // Empty variables count as unset, as they always did for Convoy.
  expect(resolveTemporalConnection({ env: { ...env, TEMPORAL_ADDRESS: '' } }).address).toBe(
    'default.example:7233',
  );
});

test('an mTLS profile reads the CA, certificate and key files; the description names them without content', () => {
  const connection = resolveTemporalConnection({
    env: { ...base, TEMPORAL_CONFIG_FILE: toml },
    profile: 'mtls',
  });
  expect(connection.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
  const tls = connection.tls as { serverRootCACertificate: Uint8Array; clientCertPair: { key: Uint8Array } };
  expect(Buffer.from(tls.serverRootCACertificate).toString()).toContain('MIIca');
  expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(CLIENT_KEY);
  const description = describeConnection(connection);
  expect(description).toBe(
    `temporal.internal:7233, namespace deploys (TLS (custom server CA), mTLS client certificate, server name temporal.internal, profile mtls of ${toml})`,
  );
  expect(description).not.toContain('MII');
});

test('TEMPORAL_API_KEY and TEMPORAL_TLS_* work without a file', () => {
  const connection = resolveTemporalConnection({
    env: {
      ...base,
      TEMPORAL_ADDRESS: 'x:7233',
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caPath,
    },
  });
  expect(connection.apiKey).toBe(API_KEY);
  expect(describeConnection(connection)).toBe(
    'x:7233, namespace default (TLS (custom server CA), API key set)',
  );
  expect(describeConnection(connection)).not.toContain(API_KEY);
});

test('a missing config file, a missing profile, an unreadable key file: TemporalConfigError naming it', () => {
  expect(() =>
    resolveTemporalConnection({ env: { ...base, TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') } }),
  ).toThrow(new TemporalConfigError(`TEMPORAL_CONFIG_FILE=${join(dir, 'nope.toml')}: no such file`));
  expect(() =>
    resolveTemporalConnection({ env: { ...base, TEMPORAL_CONFIG_FILE: toml }, profile: 'prod' }),
  ).toThrow(
    `cannot load the Temporal connection (profile prod, ${toml}): Profile 'prod' not found in config data`,
  );
  expect(() =>
    resolveTemporalConnection({ env: { ...base, TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'gone.key') } }),
  ).toThrow(/no such file or directory, open '.*gone\.key'/);
});

test('a malformed TOML file never quotes its secrets in the error', () => {
  const bad = file('bad.toml', `[profile.default]\napi_key = "${API_KEY}"\naddress = = "x"\n`);
  let message = '';
  try {
    resolveTemporalConnection({ env: { ...base, TEMPORAL_CONFIG_FILE: bad } });
  } catch (error) {
    expect(error).toBeInstanceOf(TemporalConfigError);
    message = (error as Error).message;
  }
  expect(message).toContain(bad);
  expect(message).not.toContain(API_KEY);
  expect(message).not.toContain('\n');
});

test('redactSecrets removes the API key, header values and the client key from a text', () => {
  const connection = resolveTemporalConnection({
    env: {
      ...base,
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'mtls',
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_GRPC_META_X_AUTH_TOKEN: 'header-secret',
    },
  });
  expect(redactSecrets(`denied for ${API_KEY} / header-secret / ${CLIENT_KEY}`, connection)).toBe(
    'denied for [redacted] / [redacted] / [redacted]',
  );
});

test('the task queue: TEMPORAL_TASK_QUEUE, default convoy; temporalConfigFromEnv keeps its shape', () => {
  expect(taskQueueFromEnv({})).toBe('convoy');
  expect(taskQueueFromEnv({ TEMPORAL_TASK_QUEUE: 'deploys' })).toBe('deploys');
  expect(temporalConfigFromEnv({ ...base, TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TASK_QUEUE: 'q' })).toEqual({
    address: 'a:1',
    namespace: 'default',
    taskQueue: 'q',
  });
});
