/**
 * The step activities end to end: a real dev server, the real Convoy worker and workflows, real
 * processes and a real HTTP server on 127.0.0.1. The unit tests cover the activities' details;
 * these check what only a real server shows: cancellation reaching a running process through
 * heartbeats, and the failure types and output surviving the trip into the result document.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelPipeline } from '../../src/client/pipelines';
import { waitForFile, waitUntilGroupGone } from '../unit/activities/helpers';
import {
  connectTestEnv,
  runYamlPipeline,
  startYamlPipeline,
  stepOf,
  workflowOf,
  type TestEnv,
} from './harness';

jest.setTimeout(90_000);

let env: TestEnv;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  env = await connectTestEnv('activities');
  await env.startWorker();
  server = createServer((req, res) => {
    if (req.url === '/health') res.writeHead(200).end('ok');
    else res.writeHead(503).end('payments-db is down');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await env.close();
});

test('aborting a pipeline kills the running shell step with its whole process group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-activities-'));
  const pgidFile = join(dir, 'pgid');
  const started = await startYamlPipeline(
    env,
    `
name: abort-shell
stages:
  - name: deploy
    workflows:
      - name: payments
        steps:
          - name: deploy
            type: shell
            command: 'echo $$ > ${pgidFile}; sleep 120 & sleep 120 & wait'
`,
  );
  const pgid = Number(await waitForFile(pgidFile, 30_000));
  // Let the step run past its first heartbeat: later heartbeats are the throttled ones, and
  // cancellation only reaches the activity with a heartbeat sent to the server.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const cancelledAt = Date.now();
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  expect(doc.status).toBe('aborted');
  expect(await waitUntilGroupGone(pgid, 60_000)).toBe(true);
  // The worker throttles heartbeats to 80% of the heartbeat timeout (24 s for 30 s) unless its
  // maxHeartbeatThrottleInterval is lower, so the kill can lag the abort by that much; the
  // command's own 120 s sleeps show it was killed, not left to finish.
  expect(Date.now() - cancelledAt).toBeLessThan(10_000);
});

test('a shell step timeout arrives as step-timeout, and the process group is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-activities-'));
  const pgidFile = join(dir, 'pgid');
  const doc = await runYamlPipeline(
    env,
    `
name: shell-timeout
stages:
  - name: deploy
    workflows:
      - name: payments
        steps:
          - name: deploy
            type: shell
            command: 'echo $$ > ${pgidFile}; echo rolling out; sleep 120 & wait'
            timeoutMs: 1500
`,
  );
  expect(workflowOf(doc, 'payments').status).not.toBe('succeeded');
  const step = stepOf(doc, 'payments', 'deploy');
  expect(step.status).toBe('failed');
  expect(step.error?.type).toBe('step-timeout');
  expect(step.error?.message).toContain('timed out after 1500 ms');
  const pgid = Number(await waitForFile(pgidFile));
  expect(await waitUntilGroupGone(pgid)).toBe(true);
});

test('a failing shell step arrives as step-failed with the exit code and stderr in the message', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: shell-fails
variables: { region: eu-west }
stages:
  - name: deploy
    workflows:
      - name: payments
        steps:
          - name: deploy
            type: shell
            command: 'echo "region $CONVOY_VAR_REGION: quota exceeded" >&2; exit 7'
`,
  );
  const step = stepOf(doc, 'payments', 'deploy');
  expect(step.error?.type).toBe('step-failed');
  expect(step.error?.message).toContain('exit code 7');
  expect(step.error?.message).toContain('region eu-west: quota exceeded');
});

test('http steps: an expected status succeeds, another fails with step-failed naming it', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: http-steps
stages:
  - name: verify
    workflows:
      - name: payments
        steps:
          - { name: health, type: http, url: "${baseUrl}/health", expectStatus: [200] }
          - { name: ready, type: http, url: "${baseUrl}/ready", expectStatus: [200] }
`,
  );
  const health = stepOf(doc, 'payments', 'health');
  expect(health.status).toBe('succeeded');
  expect(health.output?.httpStatus).toBe(200);
  const ready = stepOf(doc, 'payments', 'ready');
  expect(ready.status).toBe('failed');
  expect(ready.error?.type).toBe('step-failed');
  expect(ready.error?.message).toContain('returned HTTP 503, expected 200');
  expect(ready.error?.message).toContain('payments-db is down');
});
