/**
 * Payload encryption end to end: a worker process and the `convoy` command configured with a
 * key; the server's raw history holds only `binary/encrypted` payloads, the command still reads
 * results, an older key decrypts after a rotation, a wrong key fails clearly, and
 * `convoy codec-server` decodes a payload taken from the real history for the Web UI.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, METADATA_ENCODING_KEY } from '@temporalio/common';
import { COMPRESSED_ENCODING, CompressionCodec } from '../../src/codec/compression-codec';
import { freePort } from '../../src/dev-server/dev-server';
import { pipelineResultSchema } from '../../src/model/result';
import {
  CONVOY_BIN,
  connectTestEnv,
  eventually,
  runConvoy,
  testServerAddress,
  type TestEnv,
} from './harness';
import { startLoggedWorker } from './worker-process';

jest.setTimeout(180_000);

const MARKER = `plaintext-marker-${randomBytes(6).toString('hex')}`;
const KEY_2025 = randomBytes(32).toString('base64');
const KEY_2026 = randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'convoy-codec-it-'));
const pipelineFile = join(dir, 'release.yaml');
writeFileSync(
  pipelineFile,
  `
name: encrypted-release
variables: { note: ${MARKER} }
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: 'echo deployed \${{ vars.note }}' }
          - { name: sync, type: barrier, identifier: deployed }
      - name: web
        steps:
          - { name: deploy, type: shell, command: 'echo web' }
          - { name: sync, type: barrier, identifier: deployed }
`,
);

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('codec');
});
afterAll(async () => {
  await env?.close();
});

const keys2025 = { CONVOY_CODEC_KEY: KEY_2025, CONVOY_CODEC_KEY_ID: 'k2025' };
const keys2026 = {
  CONVOY_CODEC_KEY: KEY_2026,
  CONVOY_CODEC_KEY_ID: 'k2026',
  CONVOY_CODEC_OLD_KEYS: `k2025=${KEY_2025}`,
};

function convoy(args: string[], keys: NodeJS.ProcessEnv) {
  return runConvoy(args, {
    TEMPORAL_ADDRESS: testServerAddress(),
    TEMPORAL_TASK_QUEUE: env.taskQueue,
    ...keys,
  });
}

/** Every payload of a pipeline's and its children's histories, as the server stores them. */
async function rawPayloads(
  pipelineId: string,
): Promise<{ encoding: string; keyId?: string; data: string }[]> {
  const found: { encoding: string; keyId?: string; data: string }[] = [];
  for (const id of [pipelineId, `${pipelineId}/api`, `${pipelineId}/web`]) {
    // env.client has no codec: it sees what the server has.
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    JSON.stringify(history, (_key, item: unknown) => {
      const payload = item as { metadata: Record<string, unknown>; data?: unknown } | null;
      // Search attributes (their metadata has a `type`) are the server's index, never encoded.
      const isPayload =
        payload && typeof payload === 'object' && payload.metadata && 'encoding' in payload.metadata;
      if (isPayload && !('type' in payload.metadata!)) {
        const read = (value: unknown) =>
          typeof value === 'string'
            ? Buffer.from(value, 'base64').toString('latin1')
            : Buffer.from(value as Uint8Array).toString('latin1');
        found.push({
          encoding: read(payload.metadata.encoding),
          keyId:
            payload.metadata['encryption-key-id'] === undefined
              ? undefined
              : read(payload.metadata['encryption-key-id']),
          data: payload.data === undefined ? '' : read(payload.data),
        });
      }
      return item;
    });
  }
  return found;
}

function isPatchMarker(payload: { encoding: string; data: string }): boolean {
  return (
    payload.encoding === 'json/plain' && /^\{"id":"convoy-[a-z-]+","deprecated":false\}$/.test(payload.data)
  );
}

test('payloads are encrypted at rest, readable with the key, across a key rotation', async () => {
  // A pipeline under the 2025 key.
  let worker = await startLoggedWorker(env, keys2025);
  const first = await convoy(['run', pipelineFile, '--json', '--id', `codec-a-${env.taskQueue}`], keys2025);
  await worker.stop();
  expect(first.stderr).not.toContain('convoy:');
  expect(first.code).toBe(0);
  const firstDoc = pipelineResultSchema.parse(JSON.parse(first.stdout));
  expect(firstDoc.workflows.find((w) => w.name === 'api')?.steps[0]?.output).toMatchObject({
    stdoutTail: `deployed ${MARKER}\n`,
  });

  const payloads = await rawPayloads(firstDoc.pipelineId);
  expect(payloads.length).toBeGreaterThan(10);
  for (const payload of payloads) {
    expect(payload.data).not.toContain(MARKER);
    // The only plain ones are Temporal's own: the SDK's patch markers, which name a patch.
    if (isPatchMarker(payload)) continue;
    expect(payload).toMatchObject({ encoding: 'binary/encrypted', keyId: 'k2025' });
    expect(payload.data).not.toContain('encrypted-release');
  }

  // Rotated: the 2026 key encrypts, the 2025 key still decrypts.
  worker = await startLoggedWorker(env, keys2026);
  try {
    expect(worker.log()).toContain('encrypting payloads with key k2026');
    const old = await convoy(['status', firstDoc.pipelineId, '--json'], keys2026);
    expect(old.code).toBe(0);
    expect(pipelineResultSchema.parse(JSON.parse(old.stdout)).status).toBe('succeeded');
    const second = await convoy(
      ['run', pipelineFile, '--json', '--id', `codec-b-${env.taskQueue}`],
      keys2026,
    );
    expect(second.code).toBe(0);
    const secondPayloads = await rawPayloads(`codec-b-${env.taskQueue}`);
    const sealed = secondPayloads.filter((payload) => !isPatchMarker(payload));
    expect(sealed.length).toBeGreaterThan(10);
    expect(new Set(sealed.map((payload) => payload.keyId))).toEqual(new Set(['k2026']));
  } finally {
    await worker.stop();
  }

  // Without the key, or with the wrong one: a clear error, exit 3, no garbage.
  const wrong = await convoy(['status', firstDoc.pipelineId, '--json'], {
    CONVOY_CODEC_KEY: KEY_2026,
    CONVOY_CODEC_KEY_ID: 'k2025',
  });
  expect(wrong.code).toBe(3);
  expect(wrong.stderr).toContain(
    "convoy: cannot decrypt a payload with key id 'k2025': this process's key of that id is not the one it was encrypted with",
  );
  const missing = await convoy(['status', firstDoc.pipelineId, '--json'], {
    CONVOY_CODEC_KEY: KEY_2026,
    CONVOY_CODEC_KEY_ID: 'k2026',
  });
  expect(missing.code).toBe(3);
  expect(missing.stderr).toContain(
    "a payload is encrypted with key id 'k2025', which this process does not have",
  );
  const badSetting = await convoy(['status', firstDoc.pipelineId], { CONVOY_CODEC_KEY: 'short' });
  expect(badSetting.code).toBe(2);
  expect(badSetting.stderr).toContain('CONVOY_CODEC_KEY_ID must name the key of CONVOY_CODEC_KEY');

  // The codec server decodes a payload taken from the server's history, as the Web UI asks.
  const port = await freePort();
  const server = spawn(
    CONVOY_BIN,
    ['codec-server', '--port', String(port), '--cors-origin', 'http://localhost:8233'],
    {
      env: { ...process.env, ...keys2026 },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(
      async () => out,
      (text) => text.includes('codec server at'),
      30_000,
    );
    const history = await env.client.workflow.getHandle(firstDoc.pipelineId).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const asJson = {
      metadata: Object.fromEntries(
        Object.entries(started.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(started.data!).toString('base64'),
    };
    const response = await fetch(`http://127.0.0.1:${port}/decode`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Namespace': 'default',
        Origin: 'http://localhost:8233',
      },
      body: JSON.stringify({ payloads: [asJson] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const { payloads: decoded } = (await response.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(Buffer.from(decoded[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(decoded[0]!.data, 'base64').toString()).toContain(MARKER);
  } finally {
    server.kill('SIGTERM');
  }
});

test('without a key, convoy codec-server decompresses what Convoy compressed, for the Web UI', async () => {
  const value = { workflows: Array.from({ length: 30_000 }, (_, i) => ({ name: `w${i}`, stage: 'deploy' })) };
  const [compressed] = await new CompressionCodec().encode([defaultPayloadConverter.toPayload(value)]);
  expect(Buffer.from(compressed!.metadata![METADATA_ENCODING_KEY]!).toString()).toBe(COMPRESSED_ENCODING);
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONVOY_CODEC_')));
  const server = spawn(CONVOY_BIN, ['codec-server', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(
      async () => out,
      (text) => text.includes('codec server at'),
      30_000,
    );
    expect(out).toContain('compression only: no CONVOY_CODEC_KEY');
    const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const response = await fetch(`http://127.0.0.1:${port}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(compressed!.metadata!).map(([k, v]) => [k, base64(v)]),
            ),
            data: base64(compressed!.data!),
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual(value);
  } finally {
    server.kill('SIGTERM');
  }
});
