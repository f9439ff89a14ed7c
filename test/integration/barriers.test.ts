/**
 * Barrier semantics of SPEC section 3 on a real Temporal dev server, with real shell processes.
 */
import { EventType, historyOfPipeline } from './history';
import { describePipeline, intervene } from '../../src/client/pipelines';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  runYamlPipeline,
  startYamlPipeline,
  stepOf,
  workflowOf,
  type TestEnv,
} from './harness';
import { barrierOutcomeSignal, workflowAbandonSignal } from '../../src/model/protocol';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('barriers');
  await env.startWorker();
});
afterAll(() => env.close());

test('three workflows arriving at staggered times cross together, released in one parent workflow task', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: staggered
stages:
  - name: deploy
    workflows:
${[
  ['fast', '0.1'],
  ['medium', '0.8'],
  ['slow', '1.6'],
]
  .map(
    ([name, delay]) => `      - name: ${name}
        steps:
          - { name: deploy, type: shell, command: "sleep ${delay}" }
          - { name: all-deployed, type: barrier, identifier: services-deployed, timeoutMs: 60000 }
          - { name: verify, type: shell, command: "echo verified" }`,
  )
  .join('\n')}
`,
  );
  expect(doc.status).toBe('succeeded');
  const barrier = barrierOf(doc, 'deploy', 'services-deployed');
  expect(barrier.status).toBe('crossed');
  expect(Object.keys(barrier.arrivals).sort()).toEqual(['fast', 'medium', 'slow']);

  const lastArrival = Math.max(...Object.values(barrier.arrivals).map(Date.parse));
  expect(Date.parse(barrier.arrivals.slow!)).toBe(lastArrival);
  for (const wf of ['fast', 'medium', 'slow']) {
    const step = stepOf(doc, wf, 'all-deployed');
    expect(step.status).toBe('succeeded');
    // Nobody passes before the last arrival.
    expect(Date.parse(step.endedAt!)).toBeGreaterThanOrEqual(lastArrival);
    expect(Date.parse(stepOf(doc, wf, 'verify').startedAt!)).toBeGreaterThanOrEqual(lastArrival);
  }

  // All three release signals were commands of one and the same parent workflow task.
  const history = await historyOfPipeline(env, doc.pipelineId);
  const releases = history.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
      e.signalName === barrierOutcomeSignal.name,
  );
  expect(releases).toHaveLength(3);
  expect(new Set(releases.map((e) => e.workflowTaskCompletedEventId)).size).toBe(1);
  // One durable timer for the earliest deadline, not one per participant.
  expect(history.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toHaveLength(1);
});

test('the coordinator learns of a failure from the child result too: a terminated child breaks the barrier', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: killed-child
stages:
  - name: deploy
    workflows:
      - { name: waiter, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - { name: doomed, steps: [{ name: deploy, type: shell, command: "sleep 60" }, { name: sync, type: barrier, identifier: gate }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'waiter').status === 'waiting-at-barrier',
  );
  // Terminated: it cannot signal anything, only its result (a termination) tells the parent.
  await env.client.workflow.getHandle(`${started.pipelineId}/doomed`).terminate('node lost');
  const doc = await started.result();
  expect(doc.status).toBe('failed');
  expect(workflowOf(doc, 'doomed').status).toBe('failed');
  expect(barrierOf(doc, 'deploy', 'gate')).toMatchObject({
    status: 'broken',
    reason: expect.stringMatching(/doomed/),
  });
  expect(stepOf(doc, 'waiter', 'sync').error).toEqual({
    type: 'barrier-broken',
    message: expect.stringMatching(/doomed/),
  });
});

test('a failing workflow breaks its barrier before its rollback runs, so peers learn at once', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: break-before-rollback
stages:
  - name: deploy
    workflows:
      - name: failing
        steps:
          - { name: deploy, type: shell, command: "exit 1" }
          - { name: sync, type: barrier, identifier: gate }
        rollbackSteps:
          - { name: slow-undo, type: shell, command: "sleep 3" }
      - name: peer
        steps:
          - { name: sync, type: barrier, identifier: gate }
`,
  );
  expect(workflowOf(doc, 'failing').status).toBe('rolled-back');
  // The failing step's activity told the coordinator itself, before its workflow did.
  const abandons = (await historyOfPipeline(env, doc.pipelineId))
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
        e.signalName === workflowAbandonSignal.name,
    )
    .map((e) => {
      const attributes = e.raw.workflowExecutionSignaledEventAttributes!;
      const payload = JSON.parse(Buffer.from(attributes.input!.payloads![0]!.data!).toString()) as {
        workflow: string;
      };
      return { workflow: payload.workflow, fromWorkflow: Boolean(attributes.externalWorkflowExecution) };
    })
    .filter((a) => a.workflow === 'failing');
  expect(abandons).toEqual([
    { workflow: 'failing', fromWorkflow: false },
    { workflow: 'failing', fromWorkflow: true },
  ]);
  const peerFailed = Date.parse(stepOf(doc, 'peer', 'sync').endedAt!);
  const undo = stepOf(doc, 'failing', 'slow-undo');
  expect(stepOf(doc, 'peer', 'sync').error?.type).toBe('barrier-broken');
  // The peer failed while the rollback was still running, not after it.
  expect(peerFailed).toBeLessThan(Date.parse(undo.endedAt!));
  expect(peerFailed - Date.parse(stepOf(doc, 'failing', 'deploy').endedAt!)).toBeLessThan(2500);
});

test('a workflow failing before the barrier breaks it; each peer applies its own strategy', async () => {
  const { pipelineId, ...started } = await startYamlPipeline(
    env,
    `
name: broken-barrier
stages:
  - name: deploy
    workflows:
      - name: payments
        steps:
          - { name: deploy, type: shell, command: "sleep 0.5; echo 'disk full' >&2; exit 3" }
          - { name: sync, type: barrier, identifier: services-deployed }
      - name: orders
        steps:
          - { name: deploy, type: shell, command: "echo deployed" }
          - { name: sync, type: barrier, identifier: services-deployed }
          - { name: verify, type: shell, command: "echo never" }
        failureStrategies:
          - { on: [barrier-broken], action: rollback }
        rollbackSteps:
          - { name: undo-1, type: shell, command: "echo undo-1" }
          - { name: undo-2, type: shell, command: "echo undo-2" }
      - name: search
        steps:
          - { name: deploy, type: shell, command: "echo deployed" }
          - name: sync
            type: barrier
            identifier: services-deployed
            failureStrategies: [{ on: [barrier-broken], action: ignore }]
          - { name: verify, type: shell, command: "echo still-verified" }
      - name: billing
        steps:
          - { name: deploy, type: shell, command: "echo deployed" }
          - name: sync
            type: barrier
            identifier: services-deployed
            failureStrategies: [{ on: [barrier-broken], action: manual-intervention, timeoutMs: 120000 }]
          - { name: verify, type: shell, command: "echo after-intervention" }
`,
  );
  const live = await eventually(
    () => describePipeline(env.client, pipelineId),
    (doc) => workflowOf(doc, 'billing').status === 'waiting-for-intervention',
  );
  expect(barrierOf(live, 'deploy', 'services-deployed').status).toBe('broken');
  await expect(intervene(env.client, pipelineId, 'orders', 'retry')).rejects.toThrow(
    /not waiting for manual intervention/,
  );
  await expect(intervene(env.client, pipelineId, 'nobody', 'retry')).rejects.toThrow(
    /no workflow named nobody/,
  );
  await intervene(env.client, pipelineId, 'billing', 'ignore');

  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('failed');
  const barrier = barrierOf(doc, 'deploy', 'services-deployed');
  expect(barrier.status).toBe('broken');
  expect(barrier.reason).toMatch(/payments/);

  expect(workflowOf(doc, 'payments').status).toBe('aborted');
  expect(stepOf(doc, 'payments', 'deploy').error?.message).toMatch(/exit code 3/);

  // rollback: its rollback steps ran, in order, and nothing after the barrier did.
  const orders = workflowOf(doc, 'orders');
  expect(orders.status).toBe('rolled-back');
  expect(stepOf(doc, 'orders', 'sync').error).toEqual({
    type: 'barrier-broken',
    message: expect.stringMatching(/payments/),
  });
  expect(orders.steps.map((s) => s.name)).toEqual(['deploy', 'sync', 'undo-1', 'undo-2']);

  // ignore: continues and succeeds.
  expect(workflowOf(doc, 'search').status).toBe('succeeded');
  expect(stepOf(doc, 'search', 'sync').status).toBe('ignored');
  expect(stepOf(doc, 'search', 'verify').output?.stdoutTail).toMatch(/still-verified/);

  // manual intervention resolved by an operator command.
  expect(workflowOf(doc, 'billing').status).toBe('succeeded');
  expect(stepOf(doc, 'billing', 'sync').status).toBe('ignored');
  expect(stepOf(doc, 'billing', 'verify').status).toBe('succeeded');
});

test('a barrier timeout names the missing peer, and the late peer then fails at once', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: timeout
stages:
  - name: deploy
    workflows:
      - name: quick
        steps:
          - { name: sync, type: barrier, identifier: services-deployed, timeoutMs: 1000 }
      - name: sluggish
        steps:
          - { name: deploy, type: shell, command: "sleep 3" }
          - { name: sync, type: barrier, identifier: services-deployed, timeoutMs: 60000 }
`,
  );
  expect(doc.status).toBe('failed');
  const barrier = barrierOf(doc, 'deploy', 'services-deployed');
  expect(barrier.status).toBe('timed-out');
  const quickSync = stepOf(doc, 'quick', 'sync');
  expect(quickSync.error).toEqual({ type: 'barrier-timeout', message: expect.stringMatching(/sluggish/) });
  // The failure is observed close to the deadline (arrival + 1000 ms): precise, not polled.
  const lateness = Date.parse(quickSync.endedAt!) - (Date.parse(quickSync.startedAt!) + 1000);
  expect(lateness).toBeGreaterThanOrEqual(0);
  const lateSync = stepOf(doc, 'sluggish', 'sync');
  expect(lateSync.error?.type).toBe('barrier-timeout');
  // "At once": the late arrival is answered in well under its own 60 s timeout.
  expect(Date.parse(lateSync.endedAt!) - Date.parse(lateSync.startedAt!)).toBeLessThan(10_000);
});

test('withdrawal through when, two ordered barriers, forEach expansions and a single-participant barrier', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: ordered
variables: { env: prod }
stages:
  - name: rollout
    workflows:
      - name: db
        steps:
          - { name: migrate, type: shell, command: "echo migrate" }
          - { name: migrated, type: barrier, identifier: schema-migrated }
          - { name: deployed, type: barrier, identifier: apps-deployed }
      - name: app
        forEach: [eu, us]
        steps:
          - { name: migrated, type: barrier, identifier: schema-migrated }
          - { name: deploy, type: shell, command: "echo deploy $CONVOY_VAR_ITEM" }
          - { name: deployed, type: barrier, identifier: apps-deployed }
      - name: canary
        steps:
          - name: migrated
            type: barrier
            identifier: schema-migrated
            when: { var: env, equals: staging }
          - { name: solo, type: barrier, identifier: canary-only }
          - { name: deployed, type: barrier, identifier: apps-deployed }
`,
  );
  expect(doc.status).toBe('succeeded');
  const migrated = barrierOf(doc, 'rollout', 'schema-migrated');
  expect(migrated.status).toBe('crossed');
  expect(migrated.participants.sort()).toEqual(['app[eu]', 'app[us]', 'canary', 'db']);
  expect(migrated.arrivals.canary).toBeUndefined(); // withdrew
  expect(stepOf(doc, 'canary', 'migrated').status).toBe('skipped');
  expect(barrierOf(doc, 'rollout', 'canary-only').status).toBe('crossed');
  expect(barrierOf(doc, 'rollout', 'apps-deployed').status).toBe('crossed');
  // Ordered: nobody deploys apps before the schema barrier crossed.
  const schemaCrossed = Date.parse(migrated.resolvedAt!);
  expect(Date.parse(stepOf(doc, 'app[eu]', 'deploy').startedAt!)).toBeGreaterThanOrEqual(schemaCrossed);
  expect(stepOf(doc, 'app[us]', 'deploy').output?.stdoutTail).toMatch(/deploy us/);
});

test('one identifier in two stages makes two independent barriers', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: two-stages
stages:
  - name: first
    workflows:
      - { name: a1, steps: [{ name: s, type: barrier, identifier: sync }] }
      - { name: b1, steps: [{ name: s, type: barrier, identifier: sync }] }
  - name: second
    workflows:
      - { name: a2, steps: [{ name: s, type: barrier, identifier: sync }] }
      - { name: b2, steps: [{ name: w, type: wait, durationMs: 300 }, { name: s, type: barrier, identifier: sync }] }
`,
  );
  expect(doc.status).toBe('succeeded');
  const first = barrierOf(doc, 'first', 'sync');
  const second = barrierOf(doc, 'second', 'sync');
  expect(first.participants.sort()).toEqual(['a1', 'b1']);
  expect(second.participants.sort()).toEqual(['a2', 'b2']);
  expect(first.status).toBe('crossed');
  expect(second.status).toBe('crossed');
  expect(Date.parse(second.resolvedAt!)).toBeGreaterThan(Date.parse(first.resolvedAt!));
  expect(doc.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
});
