/**
 * Durability: the pipeline's state lives in Temporal, not in the worker. Stop the only worker
 * while workflows wait at a barrier, start a new one, and the pipeline completes with every
 * barrier crossed exactly once. Kill a worker process in the middle of a shell step, and the step
 * runs again elsewhere, never beside its earlier attempt.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePipeline } from '../../src/client/pipelines';
import { STEP_HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/steps';
import { liveGroupMembers, waitForFile } from '../unit/activities/helpers';
import { EventType, historyOfPipeline } from './history';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  startWorkerProcess,
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

/**
 * Starts a one-step pipeline on a worker process of its own. Each attempt of the shell step logs
 * its start and end with its pid ($$: its process group) and the time in ns; the first attempt
 * would run 30 s, a later one 1 s; SIGTERM ends an attempt after logging it. Resolves once the
 * first attempt runs, past its first heartbeats.
 */
async function startLoggedStep(name: string) {
  const log = join(mkdtempSync(join(tmpdir(), 'convoy-worker-loss-')), 'attempts');
  const command =
    `if [ -s ${log} ]; then d=1; else d=30; fi; echo "start $$ $(date +%s%N)" >> ${log}; ` +
    `trap 'echo "end $$ $(date +%s%N) TERM" >> ${log}; exit 143' TERM; ` +
    `sleep $d & wait; echo "end $$ $(date +%s%N)" >> ${log}`;
  const worker = await startWorkerProcess(env);
  const started = await startYamlPipeline(
    env,
    `
name: ${name}
stages:
  - name: deploy
    workflows:
      - { name: api, steps: [{ name: deploy, type: shell, command: ${JSON.stringify(command)} }] }
`,
  );
  const firstPgid = Number((await waitForFile(log, 30_000)).split(' ')[1]);
  await new Promise((r) => setTimeout(r, 2_000));
  return { log, worker, started, firstPgid };
}

/** Each attempt's start and end (epoch ms) from the step's log, in the order they started. */
function attemptIntervals(log: string): { pid: string; start: number; end: number }[] {
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  return [...new Set(lines.map(([, pid]) => pid))].map((pid) => {
    const at = (kind: string) => Number(lines.find(([k, p]) => k === kind && p === pid)?.[2]) / 1e6;
    return { pid, start: at('start'), end: at('end') };
  });
}

test('a worker SIGKILLed mid shell step: its group dies, and the retry starts after it ended', async () => {
  const { log, worker, started, firstPgid } = await startLoggedStep('worker-killed');
  const killedAt = Date.now();
  process.kill(worker.pid, 'SIGKILL');
  await worker.exited;
  await env.startWorker();

  // The watchdog kills the orphaned group: nothing of it runs after the kill grace (2 s).
  await eventually(
    async () => liveGroupMembers(firstPgid),
    (members) => members.length === 0,
    5_000,
  );
  const groupGoneAfterMs = Date.now() - killedAt;

  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  const step = workflowOf(doc, 'api').steps[0];
  expect(step).toMatchObject({ status: 'succeeded', attempts: 2, workerRestarts: 1 });
  // The retry found nothing of the first attempt left to wait for.
  expect(step.output?.stderrTail).toBe('');

  const [first, second] = attemptIntervals(log);
  expect(first.end).toBeLessThan(second.start);
  const retryAfterMs = second.start - killedAt;
  process.stdout.write(
    `worker SIGKILLed: its step got SIGTERM after ${Math.round(first.end - killedAt)} ms, its group was ` +
      `gone after ${groupGoneAfterMs} ms, the retry started after ${Math.round(retryAfterMs)} ms\n`,
  );
  expect(groupGoneAfterMs).toBeLessThan(5_000);
  expect(retryAfterMs).toBeLessThan(STEP_HEARTBEAT_TIMEOUT_MS + 5_000);
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
