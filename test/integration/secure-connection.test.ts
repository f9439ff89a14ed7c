/**
 * Secured connections for real: mutual TLS and an API key, loaded from one `temporal` CLI
 * profile (TOML, TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE) by the `temporal` CLI itself, the
 * `convoy` command, the worker process (Rust core) and the client library (grpc-js). The dev
 * server has no TLS, so a TLS-terminating gRPC proxy (grpc-tls-proxy.ts) stands in front of it and
 * records what each request carried. Secrets never reach an output.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConvoyClient } from '../../src/client/convoy-client';
import { CONVOY_BIN, runConvoy, testServerAddress } from './harness';
import {
  makeCertificates,
  startGrpcTlsProxy,
  type GrpcTlsProxy,
  type TestCertificates,
} from './grpc-tls-proxy';

const API_KEY = `convoy-test-api-key-${process.pid}-do-not-print`;
const entry = join(__dirname, '..', '..', 'dist', 'workers', 'worker.js');

let certs: TestCertificates;
let proxy: GrpcTlsProxy;
let profileEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  certs = makeCertificates();
  proxy = await startGrpcTlsProxy(testServerAddress(), certs, { requireClientCert: true });
  const configFile = join(certs.dir, 'temporal.toml');
  writeFileSync(
    configFile,
    `[profile.secure]
address = "${proxy.address}"
namespace = "default"
api_key = "${API_KEY}"

[profile.secure.tls]
server_ca_cert_path = "${certs.caCert}"
client_cert_path = "${certs.clientCert}"
client_key_path = "${certs.clientKey}"
`,
  );
  // Nothing of the test run's own TEMPORAL_* may leak in: only the profile says where to go.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  profileEnv = { ...clean, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'secure' };
});
afterAll(async () => {
  await proxy?.close();
});

const pipelineYaml = (name: string) =>
  `name: ${name}\nstages:\n  - name: s\n    workflows:\n      - name: a\n        steps:\n          - { name: hello, type: shell, command: "echo hello" }\n`;

function startWorker(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const polling = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', () => output.includes('convoy worker polling') && resolve());
    void exited.then((code) => reject(new Error(`worker exited ${code}:\n${output}`)));
  });
  polling.catch(() => undefined); // a test that expects the worker to fail awaits `exited`
  return { child, exited, polling, output: () => output };
}

test('one temporal CLI profile (mTLS + API key) serves the temporal CLI, convoy, the worker and the library', async () => {
  // The temporal CLI itself accepts the profile.
  const { stdout } = await promisify(execFile)(
    process.env.CONVOY_TEST_TEMPORAL_CLI!,
    ['operator', 'namespace', 'describe', '--namespace', 'default', '-o', 'json'],
    { env: profileEnv },
  );
  expect(JSON.parse(stdout).namespaceInfo.name).toBe('default');

  const taskQueue = `secure-${process.pid}-${Date.now()}`;
  const env = { ...profileEnv, TEMPORAL_TASK_QUEUE: taskQueue };
  const worker = startWorker(env);
  try {
    await worker.polling;
    const file = join(certs.dir, 'secure.yaml');
    writeFileSync(file, pipelineYaml('secure'));
    const id = `secure-${Date.now()}`;
    const run = await runConvoy(['run', file, '--id', id, '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).status).toBe('succeeded');

    // The client library, in this process (grpc-js rather than the worker's Rust core).
    const client = await ConvoyClient.connect({ env });
    try {
      expect((await client.getHandle(id).status()).status).toBe('succeeded');
    } finally {
      await client.close();
    }

    const methods = new Set(proxy.seen.map((r) => r.path.slice(r.path.lastIndexOf('/') + 1)));
    for (const method of ['PollWorkflowTaskQueue', 'PollActivityTaskQueue', 'StartWorkflowExecution']) {
      expect(methods).toContain(method);
    }
    // Every request of every client (temporal CLI, convoy, worker, library) carried both credentials.
    expect(
      proxy.seen.filter((r) => r.authorization !== `Bearer ${API_KEY}` || r.clientCn !== 'convoy-worker'),
    ).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(API_KEY);
    expect(worker.output()).toContain('mTLS client certificate, API key set');
  } finally {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }
  expect(worker.output()).not.toContain(API_KEY);
});

test('without the client certificate the TLS handshake fails: exit 3, and no secret in the message', async () => {
  const env = {
    ...profileEnv,
    TEMPORAL_PROFILE: '',
    TEMPORAL_CONFIG_FILE: '',
    TEMPORAL_ADDRESS: proxy.address,
    TEMPORAL_API_KEY: API_KEY,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
  };
  const status = await runConvoy(['status', 'nope'], env);
  expect(status.code).toBe(3);
  expect(status.stderr).toContain(
    `cannot reach Temporal at ${proxy.address}, namespace default (TLS (custom server CA), API key set)`,
  );
  expect(status.stdout + status.stderr).not.toContain(API_KEY);

  const worker = startWorker({ ...env, TEMPORAL_TASK_QUEUE: 'never-polled' });
  expect(await worker.exited).toBe(3);
  expect(worker.output()).toContain('convoy worker: cannot reach Temporal at');
  expect(worker.output()).not.toContain(API_KEY);
});

test('the doctor reports the secured connection without its secrets', async () => {
  const doctor = await runConvoy(['doctor', '--task-queue', 'nobody-polls-this'], profileEnv);
  expect(doctor.stdout).toContain(
    `✓ connection         ${proxy.address}, namespace default (TLS (custom server CA), mTLS client certificate, API key set, profile secure of ${profileEnv.TEMPORAL_CONFIG_FILE})`,
  );
  expect(doctor.stdout).toMatch(/✓ timer precision/);
  expect(doctor.code).toBe(1);
  expect(doctor.stdout + doctor.stderr).not.toContain(API_KEY);
  void CONVOY_BIN;
});
