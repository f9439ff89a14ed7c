/**
 * Durability: the pipeline's state lives in Temporal, not in the worker. Stop the only worker
 * while workflows wait at a barrier, start a new one, and the pipeline completes with every
 * barrier crossed exactly once.
 */
import { describePipeline } from '../../src/client/pipelines';
import { EventType, historyOfPipeline } from './history';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  startYamlPipeline,
  workflowOf,
  type TestEnv,
} from './harness';
import { barrierOutcomeSignal } from '../../src/model/protocol';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('durability');
});
afterAll(() => env.close());
afterEach(() => env.stopWorkers());

test('a pipeline waiting at barriers survives the loss of its worker', async () => {
  const first = await env.startWorker();
  const started = await startYamlPipeline(
    env,
    `
name: durable
stages:
  - name: deploy
    workflows:
      - name: early-1
        steps:
          - { name: sync, type: barrier, identifier: services-deployed }
          - { name: second, type: barrier, identifier: verified }
      - name: early-2
        steps:
          - { name: sync, type: barrier, identifier: services-deployed }
          - { name: second, type: barrier, identifier: verified }
      - name: late
        steps:
          - { name: deploy, type: wait, durationMs: 4000 }
          - { name: sync, type: barrier, identifier: services-deployed }
          - { name: second, type: barrier, identifier: verified }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) =>
      workflowOf(doc, 'early-1').status === 'waiting-at-barrier' &&
      workflowOf(doc, 'early-2').status === 'waiting-at-barrier',
  );
  await first.stop();
  // No worker at all while the late workflow's timer fires: nothing may be lost meanwhile.
  await new Promise((r) => setTimeout(r, 5000));
  await env.startWorker();

  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'services-deployed').status).toBe('crossed');
  expect(barrierOf(doc, 'deploy', 'verified').status).toBe('crossed');

  // Each participant was released exactly once per barrier: 3 participants x 2 barriers.
  const history = await historyOfPipeline(env, started.pipelineId);
  const outcomes = history.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
      e.signalName === barrierOutcomeSignal.name,
  );
  expect(outcomes).toHaveLength(6);
});

test('a worker shut down in the middle of a shell step (a rolling update) does not fail the step', async () => {
  const first = await env.startWorker();
  const started = await startYamlPipeline(
    env,
    `
name: worker-rollout
stages:
  - name: deploy
    workflows:
      - { name: api, steps: [{ name: long, type: shell, command: "sleep 3; echo deployed" }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'api').steps.some((s) => s.name === 'long' && s.status === 'running'),
  );
  await new Promise((r) => setTimeout(r, 500));
  await first.stop(); // the SDK cancels the running step: its process group is killed
  await env.startWorker();
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  const long = workflowOf(doc, 'api').steps.find((s) => s.name === 'long')!;
  expect(long.status).toBe('succeeded');
  expect(long.output?.stdoutTail).toContain('deployed');
  // The result document counts that re-run.
  expect(long).toMatchObject({ attempts: 2, workerRestarts: 1 });
  // Temporal ran the activity again on the new worker: the server's record shows two attempts.
  const history = await env.client.workflow.getHandle(`${started.pipelineId}/api`).fetchHistory();
  const startedEvent = history.events!.find((e) => e.activityTaskStartedEventAttributes);
  expect(startedEvent?.activityTaskStartedEventAttributes?.attempt).toBe(2);
});

test('the status of a finished pipeline is read from its history, with no worker running', async () => {
  const worker = await env.startWorker();
  const started = await startYamlPipeline(
    env,
    `
name: finished
stages:
  - name: s
    workflows:
      - { name: only, steps: [{ name: w, type: wait, durationMs: 10 }] }
`,
  );
  const result = await started.result();
  await worker.stop();
  const doc = await describePipeline(env.client, started.pipelineId);
  expect(doc).toEqual(result);
  expect(doc.status).toBe('succeeded');
});
