/**
 * Secrets end to end: a pipeline uses two secrets (one from the worker's environment, one from a
 * file) in a shell command, a shell env, an http URL and an http header against a real server,
 * and prints them from failing steps. The values reach the command and the server; they are
 * found nowhere else: not in any event of the parent's or the children's whole histories, query
 * results, the result document, `convoy status`, or the worker process's log.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { childWorkflowId, workflowStatusQuery } from '../../src/model/protocol';
import {
  connectTestEnv,
  runConvoy,
  startYamlPipeline,
  stepOf,
  barrierOf,
  testServerAddress,
  type TestEnv,
} from './harness';
import { startLoggedWorker, type LoggedWorker } from './worker-process';

jest.setTimeout(120_000);

const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
const DB_PASSWORD = `db-${randomBytes(8).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'convoy-secrets-it-'));
writeFileSync(join(dir, 'db-password'), `${DB_PASSWORD}\n`);

/**
 * Every string in a value as one searchable text, payload data decoded: bytes, or base64 text
 * where the history comes as proto JSON.
 */
function allText(value: unknown): string {
  return JSON.stringify(value, (key, item: unknown) => {
    if (item instanceof Uint8Array) return Buffer.from(item).toString('utf8');
    if (key === 'data' && typeof item === 'string') return Buffer.from(item, 'base64').toString('utf8');
    if (item !== null && typeof item === 'object' && (item as { type?: unknown }).type === 'Buffer')
      return Buffer.from((item as { data: number[] }).data).toString('utf8');
    return item;
  });
}

let env: TestEnv;
let worker: LoggedWorker;
let server: Server;
let base: string;
const received: { url: string; authorization?: string }[] = [];

beforeAll(async () => {
  env = await connectTestEnv('secrets');
  worker = await startLoggedWorker(env, { CONVOY_IT_API_TOKEN: TOKEN });
  server = createServer((request, response) => {
    received.push({ url: request.url ?? '', authorization: request.headers.authorization });
    response.statusCode = request.url?.startsWith('/fail') ? 500 : 200;
    // Echoes the secrets back: a leak through the body would show.
    response.end(`you sent ${request.url} with ${request.headers.authorization}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await env?.close();
});

test('secret values reach the steps and nothing else', async () => {
  const yaml = `
name: secrets-release
secrets:
  API_TOKEN: { env: CONVOY_IT_API_TOKEN }
  DB_PASSWORD: { file: ${join(dir, 'db-password')} }
  MISSING: { env: CONVOY_IT_NOT_SET_ANYWHERE }
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: use
            type: shell
            command: printf %s \${{ secrets.API_TOKEN }} > ${dir}/seen-token; printf %s "$PGPASSWORD" > ${dir}/seen-db; echo token \${{ secrets.API_TOKEN }}
            env: { PGPASSWORD: '\${{ secrets.DB_PASSWORD }}' }
          - name: call
            type: http
            url: '${base}/hook/\${{ secrets.API_TOKEN }}'
            headers: { Authorization: 'Bearer \${{ secrets.DB_PASSWORD }}' }
          - name: call-fails
            type: http
            url: '${base}/fail/\${{ secrets.API_TOKEN }}'
            headers: { Authorization: 'Bearer \${{ secrets.DB_PASSWORD }}' }
            failureStrategies: [{ on: [step-failed], action: ignore }]
          - { name: gate, type: barrier, identifier: deployed, timeoutMs: 60000 }
      - name: peer
        steps:
          - name: leak
            type: shell
            command: echo leaking \${{ secrets.API_TOKEN }} >&2; echo "$DB"; exit 4
            env: { DB: '\${{ secrets.DB_PASSWORD }}' }
          - { name: gate, type: barrier, identifier: deployed, timeoutMs: 60000 }
      - name: lost
        steps:
          - { name: needs-missing, type: shell, command: 'echo \${{ secrets.MISSING }}' }
`;
  const started = await startYamlPipeline(env, yaml);
  const doc = await started.result();

  // The values arrived where the pipeline put them.
  expect(readFileSync(join(dir, 'seen-token'), 'utf8')).toBe(TOKEN);
  expect(readFileSync(join(dir, 'seen-db'), 'utf8')).toBe(DB_PASSWORD);
  expect(received).toEqual([
    { url: `/hook/${TOKEN}`, authorization: `Bearer ${DB_PASSWORD}` },
    { url: `/fail/${TOKEN}`, authorization: `Bearer ${DB_PASSWORD}` },
  ]);

  // What the pipeline reports shows masks.
  expect(doc.status).toBe('failed');
  expect(stepOf(doc, 'app', 'use').output).toMatchObject({ stdoutTail: 'token ***\n' });
  expect(stepOf(doc, 'app', 'call-fails').error?.message).toBe(
    `http step "call-fails" of workflow "app": GET ${base}/fail/\${{ secrets.API_TOKEN }} returned HTTP 500, expected 200; body: you sent /fail/*** with Bearer ***`,
  );
  const leak = stepOf(doc, 'peer', 'leak');
  expect(leak.error?.message).toContain('stderr: leaking ***');
  expect(barrierOf(doc, 'deploy', 'deployed').reason).toContain('leaking ***');
  expect(stepOf(doc, 'lost', 'needs-missing').error?.message).toBe(
    'shell step "needs-missing" of workflow "lost": secret MISSING (environment variable CONVOY_IT_NOT_SET_ANYWHERE) is not set on this worker',
  );

  // Whole histories, descriptions and query results of the parent and every child.
  const ids = [started.pipelineId, ...doc.workflows.map((w) => childWorkflowId(started.pipelineId, w.name))];
  const seen: string[] = [];
  for (const id of ids) {
    const handle = env.client.workflow.getHandle(id);
    const history = await handle.fetchHistory();
    expect(history.events?.length).toBeGreaterThan(3);
    seen.push(allText(history), allText((await handle.describe()).raw));
    if (id !== started.pipelineId) seen.push(allText(await handle.query(workflowStatusQuery)));
    // What the Web UI shows besides the history: each workflow's current details.
    seen.push(allText(await handle.query('__temporal_workflow_metadata')));
  }
  expect(seen.join('\n')).toContain('currentDetails');
  const cli = testServerAddress();
  const status = await runConvoy(['status', started.pipelineId], {
    TEMPORAL_ADDRESS: cli,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  });
  const statusJson = await runConvoy(['status', started.pipelineId, '--json'], {
    TEMPORAL_ADDRESS: cli,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  });
  expect(statusJson.code).toBe(1);
  expect(statusJson.stdout).toContain('leaking ***');
  seen.push(allText(doc), status.stdout, status.stderr, statusJson.stdout, statusJson.stderr, worker.log());

  const everything = seen.join('\n');
  // The references are there (so the search covers the fields that carried the secrets)...
  expect(everything).toContain('${{ secrets.API_TOKEN }}');
  expect(everything).toContain('$CONVOY_SECRET_API_TOKEN');
  expect(everything).toContain('Bearer ***');
  // ...and the values nowhere.
  expect(everything).not.toContain(TOKEN);
  expect(everything).not.toContain(DB_PASSWORD);
});
