/**
 * Barriers move only on genuine messages, on a real dev server that runs the dynamic config
 * Convoy ships: forged arrivals, outcomes, timeouts and intervention states are refused and
 * counted, a 1 MB signal is refused by the server, a flood of garbage is logged once per
 * sender while the pipeline completes as if nothing had been sent, and signals whose payload
 * cannot even be decoded are refused the same way instead of failing workflow tasks.
 */
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorCommandRejectedError } from '../../src/client/errors';
import { payloadCodecsFromEnv } from '../../src/codec/settings';
import { createConvoyWorker } from '../../src/worker/worker';
import { describePipeline, intervene } from '../../src/client/pipelines';
import {
  barrierArriveSignal,
  barrierOutcomeSignal,
  barrierWithdrawSignal,
  decideInterventionUpdate,
  interventionStateSignal,
  workflowAbandonSignal,
  workflowStatusQuery,
} from '../../src/model/protocol';
import type { WorkflowResult } from '../../src/model/result';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  startWorkerProcess,
  startYamlPipeline,
  stepOf,
  workflowOf,
  type TestEnv,
} from './harness';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('forged');
  await env.startWorker();
});
afterAll(() => env.close());

const gates = mkdtempSync(join(tmpdir(), 'convoy-forged-'));
let gateCounter = 0;
/** A file a `hold` step waits for: the test opens the gate when it has done its forging. */
function newGate(): { path: string; open(): void } {
  const path = join(gates, `gate-${++gateCounter}`);
  return { path, open: () => writeFileSync(path, '') };
}

/** `early` waits at the barrier at once; the sleepers hold until the gate opens. */
const SLEEPERS = `
name: forged
variables: { gate: '' }
stages:
  - name: deploy
    workflows:
      - name: early
        steps:
          - { name: sync, type: barrier, identifier: gate, timeoutMs: 300000 }
          - { name: after, type: shell, command: "echo crossed" }
      - name: sleeper
        forEach: [one, two]
        steps:
          - { name: hold, type: shell, command: 'while [ ! -e "$CONVOY_VAR_GATE" ]; do sleep 0.1; done' }
          - { name: sync, type: barrier, identifier: gate, timeoutMs: 300000 }
`;

/** The capability, as anyone who can read a child's history (its input) can find it. */
async function capabilityFromHistory(workflowId: string): Promise<string> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { capability?: string };
  expect(input.capability).toMatch(/^[0-9a-f-]{36}$/);
  return input.capability!;
}

async function childStatus(workflowId: string): Promise<WorkflowResult> {
  return env.client.workflow.getHandle(workflowId).query(workflowStatusQuery);
}

test('forged arrivals, a forged timeout, a forged outcome and a forged intervention state move nothing', async () => {
  const gate = newGate();
  const started = await startYamlPipeline(env, SLEEPERS, { vars: { gate: gate.path } });
  const parent = env.client.workflow.getHandle(started.pipelineId);
  const earlyId = `${started.pipelineId}/early`;
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'early').status === 'waiting-at-barrier',
  );
  const capability = await capabilityFromHistory(earlyId);

  // Well-formed arrivals of the sleeping workflows: without the capability, with a wrong one,
  // and with the real one but a timeout the plan does not have (it would time the barrier out).
  const arrival = { identifier: 'gate', timeoutMs: 300_000, arrivedAt: Date.now() };
  await parent.signal(barrierArriveSignal, { ...arrival, workflow: 'sleeper[one]' });
  await parent.signal(barrierArriveSignal, {
    ...arrival,
    workflow: 'sleeper[two]',
    capability: '00000000-0000-4000-8000-000000000000',
  });
  await parent.signal(barrierArriveSignal, {
    ...arrival,
    workflow: 'sleeper[one]',
    timeoutMs: 1,
    capability,
  });
  // A forged intervention state, then the operator command it used to make succeed.
  await parent.signal(interventionStateSignal, { workflow: 'early', waiting: true, step: 'sync' });
  // "released" sent straight to the waiting child, without and with a wrong capability.
  const released = { identifier: 'gate', kind: 'released' as const, message: 'barrier gate crossed' };
  await env.client.workflow.getHandle(earlyId).signal(barrierOutcomeSignal, released);
  await env.client.workflow
    .getHandle(earlyId)
    .signal(barrierOutcomeSignal, { ...released, capability: 'ffffffff-ffff-4fff-8fff-ffffffffffff' });

  const during = await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => doc.rejectedMessages?.count === 4,
  );
  expect(during.rejectedMessages).toEqual({
    count: 4,
    bySender: { 'sleeper[one]': 2, 'sleeper[two]': 1, early: 1 },
  });
  expect(barrierOf(during, 'deploy', 'gate')).toMatchObject({ status: 'standing' });
  expect(Object.keys(barrierOf(during, 'deploy', 'gate').arrivals)).toEqual(['early']);
  expect(workflowOf(during, 'early').status).toBe('waiting-at-barrier');
  const early = await eventually(
    () => childStatus(earlyId),
    (wf) => wf.rejectedMessages?.count === 2,
  );
  expect(early.status).toBe('waiting-at-barrier');
  expect(early.steps.map((s) => [s.name, s.status])).toEqual([['sync', 'waiting']]);

  // The operator is told the truth: the workflow does not wait for a decision.
  const refused = intervene(env.client, started.pipelineId, 'early', 'ignore');
  await expect(refused).rejects.toBeInstanceOf(OperatorCommandRejectedError);
  await expect(refused).rejects.toThrow(
    'workflow early is not waiting for manual intervention (it is waiting-at-barrier)',
  );
  // Nor does the parent relay decisions any more.
  await expect(
    parent.executeUpdate('intervene', { args: [{ workflow: 'early', action: 'ignore' }] }),
  ).rejects.toThrow(WorkflowUpdateFailedError);

  const openedAt = Date.now();
  gate.open();
  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('succeeded');
  const barrier = barrierOf(doc, 'deploy', 'gate');
  expect(barrier.status).toBe('crossed');
  // The sleepers' real arrivals crossed it, after the gate opened, not the forged ones.
  for (const name of ['sleeper[one]', 'sleeper[two]'])
    expect(Date.parse(barrier.arrivals[name]!)).toBeGreaterThanOrEqual(openedAt - 1000);
  expect(Date.parse(stepOf(doc, 'early', 'after').startedAt!)).toBeGreaterThanOrEqual(openedAt - 1000);
  expect(doc.rejectedMessages?.count).toBe(4);
  expect(workflowOf(doc, 'early').rejectedMessages).toEqual({
    count: 2,
    bySender: { '(pipeline workflow)': 2 },
  });
});

test('forged withdrawals and abandons break and release nothing', async () => {
  const gate = newGate();
  const started = await startYamlPipeline(env, SLEEPERS, { vars: { gate: gate.path } });
  const parent = env.client.workflow.getHandle(started.pipelineId);
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'early').status === 'waiting-at-barrier',
  );
  const capability = await capabilityFromHistory(`${started.pipelineId}/early`);
  // A withdrawal would let the barrier cross without the sleeper; an abandon would break it.
  await parent.signal(barrierWithdrawSignal, { workflow: 'sleeper[one]', identifier: 'gate' });
  // Even with the capability: the plan does not skip sleeper[one]'s barrier step.
  await parent.signal(barrierWithdrawSignal, { workflow: 'sleeper[one]', identifier: 'gate', capability });
  await parent.signal(workflowAbandonSignal, { workflow: 'sleeper[two]', reason: 'forged' });
  await parent.signal(workflowAbandonSignal, {
    workflow: 'sleeper[two]',
    reason: 'forged',
    capability: '00000000-0000-4000-8000-000000000000',
  });
  const during = await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => doc.rejectedMessages?.count === 4,
  );
  expect(during.rejectedMessages).toEqual({ count: 4, bySender: { 'sleeper[one]': 2, 'sleeper[two]': 2 } });
  expect(barrierOf(during, 'deploy', 'gate')).toMatchObject({ status: 'standing' });
  expect(Object.keys(barrierOf(during, 'deploy', 'gate').arrivals)).toEqual(['early']);
  expect(workflowOf(during, 'early').status).toBe('waiting-at-barrier');

  gate.open();
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'gate').status).toBe('crossed');
  expect(Object.keys(barrierOf(doc, 'deploy', 'gate').arrivals).sort()).toEqual([
    'early',
    'sleeper[one]',
    'sleeper[two]',
  ]);
});

test('a decision goes to the waiting workflow: wrong step refused, the real one taken, a second refused', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: decided
stages:
  - name: deploy
    workflows:
      - name: fixme
        steps:
          - name: flaky
            type: shell
            command: "exit 1"
            failureStrategies: [{ on: [step-failed], action: manual-intervention, timeoutMs: 300000 }]
          - { name: after, type: shell, command: "echo after" }
`,
  );
  const childId = `${started.pipelineId}/fixme`;
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'fixme').status === 'waiting-for-intervention',
  );
  await expect(intervene(env.client, started.pipelineId, 'fixme', 'retry', 'after')).rejects.toThrow(
    'workflow fixme waits for a decision at step flaky, not after',
  );
  expect(await intervene(env.client, started.pipelineId, 'fixme', 'mark-success', 'flaky')).toBe(
    'fixme: mark-success',
  );
  await expect(
    env.client.workflow
      .getHandle(childId)
      .executeUpdate(decideInterventionUpdate, { args: [{ action: 'abort' }] }),
  ).rejects.toThrow(WorkflowUpdateFailedError);
  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('succeeded');
  expect(stepOf(doc, 'fixme', 'flaky').status).toBe('succeeded');
  expect(stepOf(doc, 'fixme', 'after').status).toBe('succeeded');
});

test('a wait that expired refuses a late decision as expired', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: expired
variables: { gate: '' }
stages:
  - name: deploy
    workflows:
      - name: fixme
        steps:
          - name: flaky
            type: shell
            command: "exit 1"
            failureStrategies: [{ on: [step-failed], action: manual-intervention, timeoutMs: 1000, onTimeout: ignore }]
          - name: hold
            type: shell
            command: 'while [ ! -e "$CONVOY_VAR_GATE" ]; do sleep 0.1; done'
`,
    { vars: { gate: newGate().path } },
  );
  const childId = `${started.pipelineId}/fixme`;
  await eventually(
    () => childStatus(childId).catch(() => undefined), // not started yet
    (wf) => wf?.steps.some((s) => s.name === 'hold') ?? false,
  );
  await expect(intervene(env.client, started.pipelineId, 'fixme', 'retry')).rejects.toThrow(
    'workflow fixme no longer waits: its wait for a decision at step flaky expired',
  );
  await started.handle.cancel();
  expect((await started.result()).status).toBe('aborted');
});

test('a 1 MB signal is refused by the server and the pipeline goes on', async () => {
  const gate = newGate();
  const started = await startYamlPipeline(env, SLEEPERS, { vars: { gate: gate.path } });
  // Sent as anyone with access to the namespace could, without Convoy's codecs: Convoy's own
  // clients would compress this repetitive padding to a few KiB.
  const raw = new Client({ connection: env.connection, namespace: 'default' });
  const parent = raw.workflow.getHandle(started.pipelineId);
  const refused: unknown = await parent
    .signal(barrierArriveSignal.name, { workflow: 'sleeper[one]', padding: 'x'.repeat(1_000_000) })
    .then(
      () => 'accepted',
      (error: unknown) => error,
    );
  expect(refused).toBeInstanceOf(Error);
  expect(String((refused as Error).cause)).toMatch(/Blob data size exceeds limit/);
  const history = await env.client.workflow.getHandle(started.pipelineId).fetchHistory();
  const signalled = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signalled).toHaveLength(0);
  gate.open();
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  expect(doc.rejectedMessages).toBeUndefined();
});

test('1,000 garbage signals and 3 undecodable ones: logged once per sender (and per reason) by the worker, counted, and the pipeline completes', async () => {
  // A queue of its own, served only by a worker process whose log we read.
  const flood = await connectTestEnv('flood');
  const worker = await startWorkerProcess(flood);
  try {
    const gate = newGate();
    const started = await startYamlPipeline(flood, SLEEPERS, { vars: { gate: gate.path } });
    const parent = flood.client.workflow.getHandle(started.pipelineId);
    await eventually(
      () => describePipeline(flood.client, started.pipelineId),
      (doc) => workflowOf(doc, 'early').status === 'waiting-at-barrier',
    );
    const garbage = (i: number): unknown =>
      i % 4 === 0
        ? { workflow: 'sleeper[one]', identifier: 'gate', timeoutMs: 300_000, arrivedAt: i } // no capability
        : i % 4 === 1
          ? { workflow: 'mallory', identifier: ['gate'] } // malformed, claims a sender
          : i % 4 === 2
            ? i // not even an object
            : { workflow: 'early', identifier: 'gate', timeoutMs: 1, arrivedAt: 0, capability: 'nope' };
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) => parent.signal(barrierArriveSignal.name, garbage(batch + k))),
      );
    }
    // And three that cannot even be decoded, for the same reason: the worker says why once.
    for (let i = 0; i < 3; i++)
      await flood.connection.workflowService.signalWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: started.pipelineId },
        signalName: barrierArriveSignal.name,
        input: {
          payloads: [{ metadata: { encoding: Buffer.from('binary/mystery') }, data: Buffer.from('x') }],
        },
        requestId: randomUUID(),
      });
    const during = await eventually(
      () => describePipeline(flood.client, started.pipelineId),
      (doc) => doc.rejectedMessages?.count === 1003,
      120_000,
    );
    expect(during.rejectedMessages?.bySender).toEqual({
      'sleeper[one]': 250,
      mallory: 250,
      '(malformed)': 253,
      early: 250,
    });
    expect(barrierOf(during, 'deploy', 'gate').status).toBe('standing');
    gate.open();
    const doc = await started.result();
    expect(doc.status).toBe('succeeded');
    expect(barrierOf(doc, 'deploy', 'gate').status).toBe('crossed');
    expect(doc.rejectedMessages?.count).toBe(1003);
    const lines = worker
      .log()
      .split('\n')
      .filter((line) => line.includes('refused a convoy.barrierArrive signal'));
    expect(lines).toHaveLength(4);
    const undecodable = worker
      .log()
      .split('\n')
      .filter((line) => line.includes('cannot be decoded'));
    expect(undecodable).toHaveLength(1);
    expect(undecodable[0]).toContain(
      `a payload for workflow ${started.pipelineId} cannot be decoded (unknown encoding 'binary/mystery')`,
    );
    for (const sender of ['"sleeper[one]"', '"mallory"', '"(malformed)"', '"early"'])
      expect(lines.filter((line) => line.includes(`from ${sender}:`))).toHaveLength(1);
  } finally {
    process.kill(worker.pid, 'SIGTERM');
    await worker.exited;
    await flood.close();
  }
});

describe('signals whose payload cannot be decoded', () => {
  // A worker and a client with an encryption key, as in production with a codec: forged payloads
  // then meet the real codec chain (compression, then decryption) and the payload converter.
  const keyEnv = { CONVOY_CODEC_KEY: randomBytes(32).toString('base64'), CONVOY_CODEC_KEY_ID: 'k-now' };
  let keyed: TestEnv;
  let stopWorker: () => Promise<void>;
  beforeAll(async () => {
    const base = await connectTestEnv('undecodable');
    const client = new Client({
      connection: base.connection,
      namespace: 'default',
      dataConverter: { payloadCodecs: payloadCodecsFromEnv(keyEnv) },
    });
    keyed = { ...base, client };
    const worker = await createConvoyWorker({
      connection: base.nativeConnection,
      namespace: 'default',
      taskQueue: base.taskQueue,
      workflowBundlePath: process.env.CONVOY_TEST_WORKFLOW_BUNDLE,
      tuning: { dataConverter: { payloadCodecs: payloadCodecsFromEnv(keyEnv) } },
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
    };
  });
  afterAll(async () => {
    await stopWorker();
    await keyed.close();
  });

  const payload = (encoding: string, data: Uint8Array | string, metadata: Record<string, string> = {}) => ({
    metadata: Object.fromEntries(
      Object.entries({ encoding, ...metadata }).map(([k, v]) => [k, Buffer.from(v)] as const),
    ),
    data: typeof data === 'string' ? Buffer.from(data) : data,
  });
  const undecodable = [
    payload('binary/convoy-deflate', randomBytes(200), { 'convoy-inflated-bytes': '1000' }),
    payload('binary/mystery', '{"workflow":"sleeper[one]","identifier":"gate"}'),
    payload('binary/encrypted', randomBytes(200), { 'encryption-key-id': 'k-old' }),
    payload('binary/encrypted', randomBytes(200), { 'encryption-key-id': 'k-now' }),
    payload('json/plain', '{"workflow": "sleeper[one]", "identifier": '),
  ];
  /** Sent as anyone with signal rights could: raw payloads, no SDK converter in the way. */
  async function sendAll(workflowId: string, signalName: string): Promise<void> {
    for (const forged of undecodable)
      await keyed.connection.workflowService.signalWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId },
        signalName,
        input: { payloads: [forged] },
        identity: 'mallory',
        requestId: randomUUID(),
      });
  }
  async function waitingPipeline() {
    const gate = newGate();
    const started = await startYamlPipeline(keyed, SLEEPERS, { vars: { gate: gate.path } });
    await eventually(
      () => describePipeline(keyed.client, started.pipelineId),
      (doc) => workflowOf(doc, 'early').status === 'waiting-at-barrier',
    );
    return { ...started, gate };
  }
  async function failedTasks(workflowId: string): Promise<number> {
    const history = await keyed.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
  }

  test('are refused and counted, never fail a workflow task, and the pipeline completes', async () => {
    const started = await waitingPipeline();
    const earlyId = `${started.pipelineId}/early`;
    await sendAll(started.pipelineId, barrierArriveSignal.name);
    await sendAll(earlyId, barrierOutcomeSignal.name);

    const during = await eventually(
      () => describePipeline(keyed.client, started.pipelineId),
      (doc) => doc.rejectedMessages?.count === undecodable.length,
    );
    expect(during.rejectedMessages).toEqual({ count: 5, bySender: { '(malformed)': 5 } });
    expect(barrierOf(during, 'deploy', 'gate').status).toBe('standing');
    expect(Object.keys(barrierOf(during, 'deploy', 'gate').arrivals)).toEqual(['early']);
    const early = await eventually(
      () => keyed.client.workflow.getHandle(earlyId).query(workflowStatusQuery),
      (wf) => wf.rejectedMessages?.count === undecodable.length,
    );
    expect(early.status).toBe('waiting-at-barrier');
    expect(await failedTasks(started.pipelineId)).toBe(0);
    expect(await failedTasks(earlyId)).toBe(0);

    started.gate.open();
    const doc = await started.result();
    expect(doc.status).toBe('succeeded');
    expect(barrierOf(doc, 'deploy', 'gate').status).toBe('crossed');
    expect(doc.rejectedMessages?.count).toBe(5);
    expect(workflowOf(doc, 'early').rejectedMessages?.count).toBe(5);
  });

  test('a pipeline terminated after them still reads from its history: terminated, the signals refused', async () => {
    const started = await waitingPipeline();
    await sendAll(started.pipelineId, barrierArriveSignal.name);
    await eventually(
      () => describePipeline(keyed.client, started.pipelineId),
      (doc) => doc.rejectedMessages?.count === undecodable.length,
    );
    await started.handle.terminate('testing undecodable signals');
    const doc = await describePipeline(keyed.client, started.pipelineId);
    expect(doc.status).toBe('terminated');
    expect(doc.rejectedMessages).toEqual({ count: 5, bySender: { '(malformed)': 5 } });
    expect(barrierOf(doc, 'deploy', 'gate')).toMatchObject({
      status: 'broken',
      reason: 'pipeline terminated',
    });
    started.gate.open();
  });
});
