/**
 * What Temporal itself says about Convoy pipelines (SPEC section 5, "In the Temporal Web UI"): a
 * pipeline or child that did not succeed is a failed Temporal workflow carrying its document, the
 * CLI and client still read that document, Convoy's search attributes find pipelines by status
 * and waiting barrier, and the barrier timers say which barrier and deadline they wait for.
 */
import { ApplicationFailure, Client, WorkflowFailedError } from '@temporalio/client';
import { compilePipeline } from '../../src/pipeline-file';
import { createConvoyWorker } from '../../src/worker/worker';
import { ConvoyClient } from '../../src/client/convoy-client';
import {
  cancelPipeline,
  describePipeline,
  hasConvoySearchAttributes,
  overrideBarrier,
  startPipeline,
  waitForPipeline,
} from '../../src/client/pipelines';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childWorkflowId } from '../../src/model/protocol';
import { pipelineResultSchema } from '../../src/model/result';
import {
  connectTestEnv,
  eventually,
  recordHistories,
  runConvoy,
  startYamlPipeline,
  stepOf,
  workflowOf,
  type TestEnv,
} from './harness';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('visibility');
  await env.startWorker();
});
afterAll(async () => {
  await env?.close();
});

/** The Temporal close status and, for a failure, its type and first detail. */
async function closing(client: Client, workflowId: string) {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe();
  try {
    await handle.result();
    return { status: status.name };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (!(cause instanceof ApplicationFailure)) throw error;
    return {
      status: status.name,
      type: cause.type,
      message: cause.message,
      nonRetryable: cause.nonRetryable,
      document: cause.details?.[0],
    };
  }
}

/** The workflow IDs a visibility query finds (visibility lags: callers wait with `eventually`). */
async function idsMatching(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of env.client.workflow.list({ query })) ids.push(info.workflowId);
  return ids.sort();
}

test('the test server has Convoy search attributes, so starters turn them on', async () => {
  await expect(hasConvoySearchAttributes(env.client)).resolves.toBe(true);
});

test('a failed pipeline is a failed workflow with its document; its aborted child too', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: fails-in-ui
stages:
  - name: deploy
    workflows:
      - { name: broken, steps: [{ name: boom, type: shell, command: "echo going down >&2; exit 3" }] }
      - { name: fine, steps: [{ name: ok, type: shell, command: "true" }] }
`,
  );
  const doc = await started.result(); // the client reads the document from the failure
  expect(doc.status).toBe('failed');
  // The parent read the failed child's document from its failure: the steps are there.
  expect(stepOf(doc, 'broken', 'boom')).toMatchObject({ status: 'failed', error: { type: 'step-failed' } });
  await recordHistories(env, doc);

  const pipeline = await closing(env.client, started.pipelineId);
  expect(pipeline).toMatchObject({
    status: 'FAILED',
    type: 'ConvoyPipelineFailed',
    nonRetryable: true,
    message: 'pipeline fails-in-ui failed: broken aborted',
  });
  expect(pipelineResultSchema.parse(pipeline.document)).toEqual(doc);

  const broken = await closing(env.client, childWorkflowId(started.pipelineId, 'broken'));
  expect(broken).toMatchObject({ status: 'FAILED', type: 'ConvoyWorkflowAborted' });
  expect(broken.message).toContain('step boom');
  expect(broken.document).toEqual(workflowOf(doc, 'broken'));
  await expect(closing(env.client, childWorkflowId(started.pipelineId, 'fine'))).resolves.toEqual({
    status: 'COMPLETED',
  });

  // The status the CLI prints and its exit code are what they were: 1 for a failed pipeline.
  const status = await runConvoy(['status', started.pipelineId, '--json'], {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
  });
  expect({ code: status.code, doc: pipelineResultSchema.parse(JSON.parse(status.stdout)) }).toEqual({
    code: 1,
    doc,
  });
  // And the library's handle on it, found afresh, reads it too.
  const client = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue });
  await expect(client.getHandle(started.pipelineId).status()).resolves.toEqual(doc);

  await eventually(
    () => idsMatching(`ConvoyPipeline = 'fails-in-ui' AND ConvoyStatus = 'failed'`),
    (ids) => ids.includes(started.pipelineId),
  );
  await eventually(
    () => idsMatching(`ConvoyPipeline = 'fails-in-ui' AND ConvoyStatus = 'aborted'`),
    (ids) => ids.includes(childWorkflowId(started.pipelineId, 'broken')),
  );
  await eventually(
    () => idsMatching(`ConvoyPipeline = 'fails-in-ui' AND ExecutionStatus = 'Failed'`),
    (ids) => ids.includes(started.pipelineId) && !ids.includes(childWorkflowId(started.pipelineId, 'fine')),
  );
});

test('a rolled-back child fails with its own type', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: rolls-back-in-ui
stages:
  - name: deploy
    workflows:
      - name: payments
        steps: [{ name: deploy, type: shell, command: "exit 1" }]
        rollbackSteps: [{ name: undo, type: shell, command: "true" }]
`,
  );
  const doc = await started.result();
  expect(workflowOf(doc, 'payments').status).toBe('rolled-back');
  const payments = await closing(env.client, childWorkflowId(started.pipelineId, 'payments'));
  expect(payments).toMatchObject({ status: 'FAILED', type: 'ConvoyWorkflowRolledBack' });
  expect(payments.message).toMatch(/^workflow payments \(stage deploy\) rolled back: step deploy:/);
  await expect(closing(env.client, started.pipelineId)).resolves.toMatchObject({
    status: 'FAILED',
    type: 'ConvoyPipelineFailed',
  });
});

test('search attributes follow a pipeline to its barrier, past it, and to its end; the timers name the barrier', async () => {
  const barrier = `gate-${Date.now()}`;
  const started = await startYamlPipeline(
    env,
    `
name: waits-in-ui
stages:
  - name: deploy
    workflows:
      - { name: early, steps: [{ name: sync, type: barrier, identifier: ${barrier}, timeoutMs: 600000 }] }
      - { name: late, steps: [{ name: work, type: shell, command: "sleep 600" }, { name: sync, type: barrier, identifier: ${barrier} }] }
`,
  );
  const early = childWorkflowId(started.pipelineId, 'early');
  // The one-line query of README: every pipeline waiting at a barrier (here, at this one). It
  // lists the pipeline alone: a child's wait at a barrier is shown by its pipeline, not by itself.
  await eventually(
    () => idsMatching(`ConvoyWaitingBarriers = '${barrier}' AND ConvoyStatus = 'waiting-at-barrier'`),
    (ids) => ids.includes(started.pipelineId),
  );
  await expect(idsMatching(`ConvoyWaitingBarriers = '${barrier}'`)).resolves.toEqual([started.pipelineId]);
  // The waiting child reads running, as its peer does, while its document says where it waits.
  await eventually(
    () => idsMatching(`ConvoyPipeline = 'waits-in-ui' AND ConvoyStatus = 'running'`),
    (ids) => ids.includes(early) && ids.includes(childWorkflowId(started.pipelineId, 'late')),
  );
  expect(workflowOf(await describePipeline(env.client, started.pipelineId), 'early').status).toBe(
    'waiting-at-barrier',
  );
  // Not one search-attribute update in the child's history for the wait (a patch marker would
  // bring one: the SDK upserts TemporalChangeVersion with it).
  const earlyEvents = (await env.client.workflow.getHandle(early).fetchHistory()).events ?? [];
  expect(earlyEvents.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
  // The library lists it the same way, with the attributes' values.
  const listed = await new ConvoyClient({ client: env.client, taskQueue: env.taskQueue }).list({
    waitingAtBarrier: barrier,
  });
  expect(listed).toEqual([
    expect.objectContaining({
      pipelineId: started.pipelineId,
      name: 'waits-in-ui',
      executionStatus: 'RUNNING',
      convoyStatus: 'waiting-at-barrier',
      waitingBarriers: [barrier],
    }),
  ]);

  // The timers say which barrier and when: the pipeline's deadline timer and the child's wait.
  const summaries = async (workflowId: string): Promise<string[]> => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const found: string[] = [];
    for (const event of history.events ?? []) {
      const summary = event.userMetadata?.summary;
      if (event.timerStartedEventAttributes && summary?.data)
        found.push(JSON.parse(Buffer.from(summary.data).toString('utf8')) as string);
    }
    return found;
  };
  const deadline = (await describePipeline(env.client, started.pipelineId)).barriers[0]!.arrivals.early!;
  const due = new Date(Date.parse(deadline) + 600_000).toISOString();
  await expect(summaries(started.pipelineId)).resolves.toContain(
    `barrier ${barrier} (stage deploy) deadline ${due}`,
  );
  await expect(summaries(early)).resolves.toContain(`barrier ${barrier} deadline ${due}`);

  await overrideBarrier(env.client, started.pipelineId, 'release', 'deploy', barrier);
  await eventually(
    () => idsMatching(`ConvoyWaitingBarriers = '${barrier}'`),
    (ids) => ids.length === 0,
  );
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  expect(doc.status).toBe('aborted');
  await eventually(
    () => idsMatching(`ConvoyPipeline = 'waits-in-ui' AND ConvoyStatus = 'aborted'`),
    (ids) => ids.includes(started.pipelineId),
  );
});

test('an aborted pipeline is a failed workflow of its own type; run and status keep exit code 1', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: aborted-in-ui
stages:
  - name: deploy
    workflows:
      - { name: waiter, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - { name: slow, steps: [{ name: work, type: shell, command: "sleep 600" }, { name: sync, type: barrier, identifier: gate }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'waiter').status === 'waiting-at-barrier',
  );
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  expect(doc.status).toBe('aborted');
  expect(stepOf(doc, 'slow', 'work')).toMatchObject({ status: 'failed', error: { type: 'cancelled' } });
  await recordHistories(env, doc);
  await expect(closing(env.client, started.pipelineId)).resolves.toMatchObject({
    status: 'FAILED',
    type: 'ConvoyPipelineAborted',
    message: 'pipeline aborted-in-ui was aborted',
  });
  for (const name of ['waiter', 'slow']) {
    await expect(closing(env.client, childWorkflowId(started.pipelineId, name))).resolves.toMatchObject({
      status: 'FAILED',
      type: 'ConvoyWorkflowAborted',
    });
  }
  const status = await runConvoy(['status', started.pipelineId], {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
  });
  expect(status.code).toBe(1);
  expect(status.stdout).toContain('aborted');
});

test('a succeeded pipeline completes and says so', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: succeeds-in-ui
stages:
  - name: deploy
    workflows:
      - { name: a, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - { name: b, steps: [{ name: sync, type: barrier, identifier: gate }] }
`,
  );
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  await expect(closing(env.client, started.pipelineId)).resolves.toEqual({ status: 'COMPLETED' });
  await eventually(
    () => idsMatching(`ConvoyPipeline = 'succeeds-in-ui' AND ConvoyStatus = 'succeeded'`),
    (ids) => ids.length === 3 && ids.includes(started.pipelineId),
  );
});

test('on a namespace without the search attributes, pipelines run without them and still fail truthfully', async () => {
  // A namespace of the test server that nobody registered Convoy's attributes on, as on a
  // cluster whose operators have not run `temporal operator search-attribute create`.
  const namespace = `convoy-bare-${process.pid}-${Date.now()}`;
  await promisify(execFile)(process.env.CONVOY_TEST_TEMPORAL_CLI!, [
    'operator',
    'namespace',
    'create',
    '--namespace',
    namespace,
    '--address',
    process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
  ]);
  const client = new Client({ connection: env.connection, namespace });
  await expect(hasConvoySearchAttributes(client)).resolves.toBe(false);
  // A new namespace reaches the server's caches within seconds: until then workers cannot poll it.
  const worker = await eventually(
    () =>
      createConvoyWorker({
        connection: env.nativeConnection,
        namespace,
        taskQueue: env.taskQueue,
        workflowBundlePath: process.env.CONVOY_TEST_WORKFLOW_BUNDLE,
      }).catch(() => undefined),
    (created) => created !== undefined,
  );
  const running = worker!.run();
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'convoy-bare-')), 'bare.yaml');
    writeFileSync(
      file,
      `
name: bare-namespace
stages:
  - name: deploy
    workflows:
      - { name: a, steps: [{ name: sync, type: barrier, identifier: gate }, { name: boom, type: shell, command: "exit 1" }] }
      - { name: b, steps: [{ name: sync, type: barrier, identifier: gate }] }
`,
    );
    const { plan } = compilePipeline(file, { pipelineId: `bare-${Date.now()}` });
    await startPipeline(client, plan, env.taskQueue);
    const doc = await waitForPipeline(client, plan.pipelineId);
    expect(doc.status).toBe('failed');
    expect(workflowOf(doc, 'a').status).toBe('aborted');
    const described = await client.workflow.getHandle(plan.pipelineId).describe();
    expect(described.status.name).toBe('FAILED');
    expect(Object.keys(described.searchAttributes)).not.toContain('ConvoyStatus');
  } finally {
    worker!.shutdown();
    await running;
  }
});
