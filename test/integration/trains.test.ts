/**
 * Release trains (issue 14) on a real dev server: independently started pipelines whose barrier
 * names the same train cross it together, each after its own participants; a timeout names the
 * missing pipeline, a pipeline failing before arrival breaks the train, an operator releases it;
 * each while a worker restarts under the waiting pipelines. Forged messages move nothing.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConvoyClient } from '../../src/client/convoy-client';
import { describePipeline } from '../../src/client/pipelines';
import {
  trainArriveSignal,
  trainOutcomeSignal,
  trainStatusQuery,
  trainWorkflowId,
} from '../../src/model/protocol';
import { pipelineResultSchema, type PipelineResult, type TrainStatus } from '../../src/model/result';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  runConvoy,
  startYamlPipeline,
  stepOf,
  testServerAddress,
  type TestEnv,
} from './harness';

let env: TestEnv;
let client: ConvoyClient;
beforeAll(async () => {
  env = await connectTestEnv('trains');
  await env.startWorker();
  client = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue });
});
afterAll(() => env.close());

let trainCounter = 0;
/** A train name no other test (nor an earlier run on this server) uses. */
function newTrain(): string {
  return `spring-${process.pid}-${++trainCounter}-${Date.now().toString(36)}`;
}

const IDENTIFIER = 'traffic-cutover';

/**
 * A pipeline named `name` whose workflows (`workflows`, each `[name, shell command]`) meet at
 * the train barrier after their command, then echo.
 */
function trainPipeline(
  name: string,
  train: string,
  expect: readonly string[],
  workflows: readonly (readonly [string, string])[],
  timeoutMs = 120_000,
): string {
  return `
name: ${name}
stages:
  - name: deploy
    workflows:
${workflows
  .map(
    ([wf, command]) => `      - name: ${wf}
        steps:
          - { name: deploy, type: shell, command: ${JSON.stringify(command)} }
          - name: cutover
            type: barrier
            identifier: ${IDENTIFIER}
            timeoutMs: ${timeoutMs}
            train: { name: ${train}, expect: [${expect.join(', ')}] }
          - { name: after, type: shell, command: "echo cut over" }`,
  )
  .join('\n')}
`;
}

function trainStatus(train: string): Promise<TrainStatus> {
  return env.client.workflow.getHandle(trainWorkflowId(train, IDENTIFIER)).query(trainStatusQuery);
}

/** Waits until the train's current run has these pipelines arrived. */
async function arrivedAtTrain(train: string, pipelines: readonly string[]): Promise<TrainStatus> {
  const status = await eventually(
    () => trainStatus(train).catch(() => undefined),
    (s) => s !== undefined && s.status === 'standing' && pipelines.every((p) => s.arrivals[p] !== undefined),
  );
  return status!;
}

async function restartWorker(): Promise<void> {
  await env.stopWorkers();
  await env.startWorker();
}

const execFileAsync = promisify(execFile);
/**
 * With CONVOY_RECORD_HISTORIES=<label>: the train's run history next to the pipelines' (see
 * recordHistories), for test/integration/replay.test.ts.
 */
async function recordTrainHistory(folder: string, workflowId: string, runId: string): Promise<void> {
  const label = process.env.CONVOY_RECORD_HISTORIES;
  if (!label) return;
  const dir = join(__dirname, '..', 'replay', 'histories', label, folder);
  mkdirSync(dir, { recursive: true });
  const { stdout } = await execFileAsync(
    process.env.CONVOY_TEST_TEMPORAL_CLI!,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--run-id',
      runId,
      '--output',
      'json',
      '--address',
      testServerAddress(),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(join(dir, 'train.json'), stdout);
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ 'train.json': workflowId }, null, 2)}\n`);
}

async function finished(started: { result: () => Promise<PipelineResult> }): Promise<PipelineResult> {
  const doc = pipelineResultSchema.parse(await started.result());
  await recordHistories(env, doc);
  return doc;
}

test('a train of two independent pipelines crosses together, after each crossed its own barrier, across a worker restart', async () => {
  const train = newTrain();
  const expect2 = ['payments-release', 'checkout-release'];
  // payments has two participants of its own: both cross the local barrier first.
  const payments = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect2, [
      ['api', 'true'],
      ['ledger', 'sleep 0.3'],
    ]),
  );
  const waiting = await arrivedAtTrain(train, ['payments-release']);
  expect(waiting).toMatchObject({ status: 'standing', missing: ['checkout-release'] });
  expect(waiting.deadline).toBeDefined();

  // The pipeline shows the train: its own participants arrived, the train missing.
  const live = await client.getHandle(payments.pipelineId).status();
  const localLive = barrierOf(live, 'deploy', IDENTIFIER);
  expect(localLive.status).toBe('standing');
  expect(localLive.participants).toEqual(['api', 'ledger', `train:${train}`]);
  expect(localLive.train).toMatchObject({
    name: train,
    status: 'standing',
    expect: expect2,
    missing: ['checkout-release'],
    arrivals: { 'payments-release': expect.any(String) },
    deadline: expect.any(String),
  });

  await restartWorker();
  const checkout = await startYamlPipeline(
    env,
    trainPipeline('checkout-release', train, expect2, [['web', 'true']]),
  );
  const [paymentsDoc, checkoutDoc] = await Promise.all([finished(payments), finished(checkout)]);

  for (const doc of [paymentsDoc, checkoutDoc]) {
    expect(doc.status).toBe('succeeded');
    const barrier = barrierOf(doc, 'deploy', IDENTIFIER);
    expect(barrier.status).toBe('crossed');
    expect(barrier.train).toMatchObject({ name: train, status: 'crossed', expect: expect2 });
    expect(Object.keys(barrier.train!.arrivals).sort()).toEqual([...expect2].sort());
  }
  // One train run: both joined the same one.
  const runId = barrierOf(paymentsDoc, 'deploy', IDENTIFIER).train!.runId;
  expect(runId).toBeDefined();
  expect(barrierOf(checkoutDoc, 'deploy', IDENTIFIER).train!.runId).toBe(runId);
  // Nobody crossed before the last pipeline arrived at the train.
  const checkoutArrived = Date.parse(
    barrierOf(checkoutDoc, 'deploy', IDENTIFIER).train!.arrivals['checkout-release']!,
  );
  for (const wf of ['api', 'ledger'])
    expect(Date.parse(stepOf(paymentsDoc, wf, 'cutover').endedAt!)).toBeGreaterThanOrEqual(checkoutArrived);

  const closed = await client.getTrain(train, IDENTIFIER).status();
  expect(closed).toMatchObject({ status: 'crossed', runId, missing: [] });
  await recordTrainHistory('train-of-two', trainWorkflowId(train, IDENTIFIER), runId!);
});

test('a train of three crosses together across a worker restart; a later pipeline starts a new run', async () => {
  const train = newTrain();
  const expect3 = ['payments-release', 'checkout-release', 'search-release'];
  const first = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect3, [['api', 'true']]),
  );
  const second = await startYamlPipeline(
    env,
    trainPipeline('checkout-release', train, expect3, [['web', 'true']]),
  );
  await arrivedAtTrain(train, ['payments-release', 'checkout-release']);
  await restartWorker();
  const third = await startYamlPipeline(
    env,
    trainPipeline('search-release', train, expect3, [['index', 'true']]),
  );
  const docs = await Promise.all([first, second, third].map((p) => finished(p)));
  const runIds = new Set(docs.map((doc) => barrierOf(doc, 'deploy', IDENTIFIER).train?.runId));
  expect(runIds.size).toBe(1);
  for (const doc of docs) {
    expect(doc.status).toBe('succeeded');
    expect(barrierOf(doc, 'deploy', IDENTIFIER).status).toBe('crossed');
  }

  // The run closed once resolved: the same train names a new run for later pipelines.
  const later = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect3, [['api', 'true']]),
  );
  const next = await arrivedAtTrain(train, ['payments-release']);
  expect(next.status).toBe('standing');
  expect(runIds.has(next.runId)).toBe(false);
  await client.getTrain(train, IDENTIFIER).break('test over');
  const laterDoc = await finished(later);
  expect(stepOf(laterDoc, 'api', 'cutover').error).toMatchObject({ type: 'barrier-broken' });
});

test('a train times out naming the pipeline that never arrived, across a worker restart', async () => {
  const train = newTrain();
  const expect2 = ['payments-release', 'checkout-release'];
  const payments = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect2, [['api', 'true']], 3000),
  );
  await arrivedAtTrain(train, ['payments-release']);
  await restartWorker();
  const doc = await finished(payments);
  expect(doc.status).toBe('failed');
  const step = stepOf(doc, 'api', 'cutover');
  expect(step.error?.type).toBe('barrier-timeout');
  expect(step.error?.message).toContain('checkout-release');
  const barrier = barrierOf(doc, 'deploy', IDENTIFIER);
  expect(barrier.status).toBe('timed-out');
  expect(barrier.reason).toContain('checkout-release');
  expect(barrier.train).toMatchObject({ status: 'timed-out', missing: ['checkout-release'] });
  // Timed out when the deadline the pipeline handed over passed, not later.
  const waited = Date.parse(step.endedAt!) - Date.parse(step.startedAt!);
  expect(waited).toBeGreaterThanOrEqual(3000);
  const status = await client.getTrain(train, IDENTIFIER).status();
  expect(status).toMatchObject({ status: 'timed-out', missing: ['checkout-release'] });
  await recordTrainHistory('train-timeout', trainWorkflowId(train, IDENTIFIER), status.runId);
});

test('a pipeline failing before it arrives breaks the train for the pipeline waiting there, across a worker restart', async () => {
  const train = newTrain();
  const expect2 = ['payments-release', 'checkout-release'];
  const payments = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect2, [['api', 'true']]),
  );
  await arrivedAtTrain(train, ['payments-release']);
  await restartWorker();
  // checkout's own participant fails before its barrier: its barrier breaks, and so the train.
  const checkout = await startYamlPipeline(
    env,
    trainPipeline('checkout-release', train, expect2, [
      ['web', 'exit 3'],
      ['worker', 'true'],
    ]),
  );
  const [paymentsDoc, checkoutDoc] = await Promise.all([finished(payments), finished(checkout)]);
  expect(paymentsDoc.status).toBe('failed');
  const step = stepOf(paymentsDoc, 'api', 'cutover');
  expect(step.error?.type).toBe('barrier-broken');
  expect(step.error?.message).toContain('checkout-release');
  expect(barrierOf(paymentsDoc, 'deploy', IDENTIFIER)).toMatchObject({
    status: 'broken',
    train: { status: 'broken' },
  });
  expect(checkoutDoc.status).toBe('failed');
  expect(barrierOf(checkoutDoc, 'deploy', IDENTIFIER).status).toBe('broken');
  const status = await client.getTrain(train, IDENTIFIER).status();
  expect(status.status).toBe('broken');
  expect(status.reason).toContain('checkout-release');
  await recordTrainHistory('train-broken', trainWorkflowId(train, IDENTIFIER), status.runId);
});

test('an operator releases a waiting train with `convoy train release`, across a worker restart', async () => {
  const train = newTrain();
  const expect2 = ['payments-release', 'checkout-release'];
  const payments = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect2, [['api', 'true']]),
  );
  await arrivedAtTrain(train, ['payments-release']);
  await restartWorker();

  const cli = { TEMPORAL_ADDRESS: testServerAddress(), TEMPORAL_NAMESPACE: 'default' };
  const shown = await runConvoy(['train', 'status', train, IDENTIFIER, '--json'], cli);
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'standing', missing: ['checkout-release'] });
  const text = await runConvoy(['train', 'status', train, IDENTIFIER], cli);
  expect(text.stdout).toContain('missing: checkout-release');
  // The pipeline's own status shows its train: who arrived, who is missing, the time left.
  const pipelineStatus = await runConvoy(['status', payments.pipelineId], cli);
  expect(pipelineStatus.stdout).toMatch(
    new RegExp(
      `train ${train} at ${IDENTIFIER} \\(stage deploy\\): standing; arrived 1/2 \\(payments-release\\); missing checkout-release; [\\d.]+ s left`,
    ),
  );

  // A pipeline's own barrier command is refused for a train barrier: the train owns it.
  await expect(
    client.getHandle(payments.pipelineId).releaseBarrier({ stage: 'deploy', identifier: IDENTIFIER }),
  ).rejects.toThrow(/convoy train release/);

  const released = await runConvoy(
    ['train', 'release', train, IDENTIFIER, '--reason', 'checkout ships later'],
    cli,
  );
  expect({ code: released.code, stderr: released.stderr }).toEqual({ code: 0, stderr: '' });
  expect(released.stdout).toContain('forced');
  const doc = await finished(payments);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', IDENTIFIER)).toMatchObject({
    status: 'forced',
    train: { status: 'forced', reason: 'checkout ships later' },
  });
  const again = await runConvoy(['train', 'release', train, IDENTIFIER], cli);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('no open run of train');
  const missing = await runConvoy(['train', 'status', 'no-such-train', IDENTIFIER], cli);
  expect(missing.code).toBe(2);
  const status = await client.getTrain(train, IDENTIFIER).status();
  await recordTrainHistory('train-released', trainWorkflowId(train, IDENTIFIER), status.runId);
});

test('forged messages move nothing: an arrival the pipeline did not confirm, an outcome without the token', async () => {
  const train = newTrain();
  const expect2 = ['payments-release', 'checkout-release'];
  const payments = await startYamlPipeline(
    env,
    trainPipeline('payments-release', train, expect2, [['api', 'true']]),
  );
  await arrivedAtTrain(train, ['payments-release']);
  const trainHandle = env.client.workflow.getHandle(trainWorkflowId(train, IDENTIFIER));

  // Someone with signal rights claims checkout arrived: under payments' ID (the token is wrong),
  // under an ID no workflow has, and with a malformed payload.
  const forged = {
    pipeline: 'checkout-release',
    token: 'f'.repeat(36),
    expect: expect2,
    arrivedAt: Date.now(),
    timeoutMs: 1,
  };
  await trainHandle.signal(trainArriveSignal, { ...forged, pipelineId: payments.pipelineId });
  await trainHandle.signal(trainArriveSignal, { ...forged, pipelineId: 'no-such-pipeline' });
  await trainHandle.signal(trainArriveSignal, { pipeline: 'checkout-release' } as never);
  const refused = await eventually(
    () => trainStatus(train),
    (status) => (status.rejectedMessages?.count ?? 0) >= 3,
  );
  expect(refused).toMatchObject({ status: 'standing', missing: ['checkout-release'] });
  expect(refused.rejectedMessages?.bySender).toEqual({ 'checkout-release': 3 });

  // A forged outcome to the pipeline: no token, a made-up one.
  const pipelineHandle = env.client.workflow.getHandle(payments.pipelineId);
  const outcome = {
    train,
    identifier: IDENTIFIER,
    runId: 'forged',
    kind: 'released' as const,
    message: 'go',
    status: 'crossed' as const,
    arrivals: {},
  };
  await pipelineHandle.signal(trainOutcomeSignal, { ...outcome, token: 'x'.repeat(36) });
  await pipelineHandle.signal(trainOutcomeSignal, outcome as never);
  const doc = await eventually(
    () => describePipeline(env.client, payments.pipelineId),
    (d) => (d.rejectedMessages?.count ?? 0) >= 2,
  );
  expect(barrierOf(doc, 'deploy', IDENTIFIER).status).toBe('standing');
  expect(doc.rejectedMessages?.bySender).toEqual({ [`train ${train}`]: 1, '(malformed)': 1 });

  await client.getTrain(train, IDENTIFIER).break('forgery test over');
  const ended = await finished(payments);
  expect(stepOf(ended, 'api', 'cutover').error?.message).toContain('forgery test over');
});
