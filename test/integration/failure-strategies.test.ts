/**
 * Failure strategies (SPEC section 4) and aborting, on a real dev server with real processes.
 */
import {
  cancelPipeline,
  describePipeline,
  overrideBarrier,
  workflowDocument,
} from '../../src/client/pipelines';
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
import { mkdtempSync, readFileSync } from 'node:fs';
import { EventType, historyOfPipeline } from './history';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('strategies');
  await env.startWorker();
});
afterAll(() => env.close());

test('retry waits the given intervals (the last repeating) and succeeds when an attempt does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-retry-'));
  const doc = await runYamlPipeline(
    env,
    `
name: retry
stages:
  - name: deploy
    workflows:
      - name: flaky
        steps:
          - name: deploy
            type: shell
            # Fails on the first three attempts, succeeds on the fourth.
            command: "date +%s%3N >> ${dir}/attempts; test $(wc -l < ${dir}/attempts) -ge 4"
            failureStrategies:
              - { on: [step-failed], action: retry, retryCount: 5, retryIntervalsMs: [200, 600] }
`,
  );
  expect(doc.status).toBe('succeeded');
  const step = stepOf(doc, 'flaky', 'deploy');
  expect(step.status).toBe('succeeded');
  expect(step.attempts).toBe(4);
  // Four real process runs, at least the intervals apart.
  const times = readFileSync(join(dir, 'attempts'), 'utf8').trim().split('\n').map(Number);
  expect(times).toHaveLength(4);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(gaps[0]).toBeGreaterThanOrEqual(200);
  expect(gaps[1]).toBeGreaterThanOrEqual(600);
  expect(gaps[2]).toBeGreaterThanOrEqual(600);
  // The durable timers between attempts were exactly 200, 600, 600 ms (the last value repeats).
  const history = await historyOfPipeline(env, `${doc.pipelineId}/flaky`);
  const timers = history
    .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
    .map((e) => {
      const t = e.raw.timerStartedEventAttributes!.startToFireTimeout!;
      return Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6);
    });
  expect(timers).toEqual([200, 600, 600]);
});

test('when retries run out, onRetryFailure decides', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: retry-exhausted
stages:
  - name: deploy
    workflows:
      - name: broken
        steps:
          - name: deploy
            type: shell
            command: "exit 1"
            failureStrategies:
              - { on: [any], action: retry, retryCount: 2, retryIntervalsMs: [50], onRetryFailure: ignore }
          - { name: after, type: shell, command: "echo after" }
`,
  );
  expect(doc.status).toBe('succeeded');
  expect(stepOf(doc, 'broken', 'deploy')).toMatchObject({ status: 'ignored', attempts: 3 });
  expect(stepOf(doc, 'broken', 'after').status).toBe('succeeded');
});

test('a step timeout fails the step with step-timeout; rollback steps then run in order', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: step-timeout
stages:
  - name: deploy
    workflows:
      - name: slow
        steps:
          - { name: first, type: shell, command: "echo first" }
          - { name: hang, type: shell, command: "sleep 30", timeoutMs: 700 }
          - { name: never, type: shell, command: "echo never" }
        rollbackSteps:
          - { name: undo-b, type: shell, command: "echo undo-b" }
          - { name: undo-a, type: wait, durationMs: 10 }
`,
  );
  expect(doc.status).toBe('failed');
  const wf = workflowOf(doc, 'slow');
  expect(wf.status).toBe('rolled-back');
  expect(stepOf(doc, 'slow', 'hang').error?.type).toBe('step-timeout');
  const hang = stepOf(doc, 'slow', 'hang');
  expect(Date.parse(hang.endedAt!) - Date.parse(hang.startedAt!)).toBeLessThan(10_000);
  expect(wf.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
    'first:succeeded',
    'hang:failed',
    'undo-b:succeeded',
    'undo-a:succeeded',
  ]);
  expect(wf.steps.filter((s) => s.rollback).map((s) => s.name)).toEqual(['undo-b', 'undo-a']);
});

test('no matching rule and no rollback steps: the workflow aborts and later stages do not start', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: default-abort
stages:
  - name: one
    workflows:
      - { name: bad, steps: [{ name: s, type: shell, command: "exit 7" }] }
  - name: two
    workflows:
      - { name: later, steps: [{ name: s, type: shell, command: "echo no" }] }
`,
  );
  expect(doc.status).toBe('failed');
  expect(workflowOf(doc, 'bad').status).toBe('aborted');
  expect(workflowOf(doc, 'later').status).toBe('not-started');
  expect(doc.stages.map((s) => s.status)).toEqual(['failed', 'not-started']);
});

test('aborting a pipeline whose workflows wait at a barrier breaks it with reason "pipeline aborted"', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: abort-me
stages:
  - name: deploy
    workflows:
      - name: waiter
        steps:
          - { name: sync, type: barrier, identifier: services-deployed }
        rollbackSteps: [{ name: undo, type: shell, command: "echo must-not-run" }]
      - name: worker
        steps:
          - { name: deploy, type: shell, command: "sleep 60" }
          - { name: sync, type: barrier, identifier: services-deployed }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'waiter').status === 'waiting-at-barrier',
  );
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('aborted');
  const barrier = barrierOf(doc, 'deploy', 'services-deployed');
  expect(barrier).toMatchObject({ status: 'broken', reason: 'pipeline aborted' });
  expect(workflowOf(doc, 'waiter').status).toBe('aborted');
  expect(workflowOf(doc, 'waiter').steps.map((s) => s.name)).toEqual(['sync']); // no rollback on abort
  expect(workflowOf(doc, 'worker').status).toBe('aborted');
  // The shell step was cancelled, not left to run its 60 s.
  const deploy = stepOf(doc, 'worker', 'deploy');
  expect(Date.parse(deploy.endedAt!) - Date.parse(deploy.startedAt!)).toBeLessThan(10_000);
});

test('operator release and break: validated, unknown barriers rejected with a reason', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: operator
stages:
  - name: deploy
    workflows:
      - { name: a, steps: [{ name: s, type: barrier, identifier: gate }, { name: t, type: barrier, identifier: gate2 }] }
      - { name: b, steps: [{ name: w, type: shell, command: "sleep 60" }, { name: s, type: barrier, identifier: gate }, { name: t, type: barrier, identifier: gate2 }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'a').status === 'waiting-at-barrier',
  );
  await expect(overrideBarrier(env.client, started.pipelineId, 'release', 'deploy', 'nope')).rejects.toThrow(
    /no barrier nope in stage deploy/,
  );
  await expect(overrideBarrier(env.client, started.pipelineId, 'release', 'nostage', 'gate')).rejects.toThrow(
    /no stage named nostage/,
  );
  await overrideBarrier(env.client, started.pipelineId, 'release', 'deploy', 'gate', 'b is known slow');
  await expect(overrideBarrier(env.client, started.pipelineId, 'break', 'deploy', 'gate')).rejects.toThrow(
    /already forced/,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => barrierOf(doc, 'deploy', 'gate2').arrivals.a !== undefined,
  );
  await overrideBarrier(env.client, started.pipelineId, 'break', 'deploy', 'gate2', 'change freeze');
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  expect(barrierOf(doc, 'deploy', 'gate')).toMatchObject({ status: 'forced', reason: 'b is known slow' });
  expect(barrierOf(doc, 'deploy', 'gate2')).toMatchObject({ status: 'broken', reason: 'change freeze' });
  expect(stepOf(doc, 'a', 's').status).toBe('succeeded');
  expect(stepOf(doc, 'a', 't').error?.type).toBe('barrier-broken');
});

test('children survive their pipeline workflow being terminated: they end aborted, not stranded', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: orphaned
stages:
  - name: deploy
    workflows:
      - { name: waiter, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - { name: busy, steps: [{ name: w, type: shell, command: "sleep 60" }, { name: sync, type: barrier, identifier: gate }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'waiter').status === 'waiting-at-barrier',
  );
  await env.client.workflow.getHandle(started.pipelineId).terminate('operator pulled the plug');
  for (const name of ['waiter', 'busy']) {
    const child = await workflowDocument(env.client.workflow.getHandle(`${started.pipelineId}/${name}`));
    expect(child).toMatchObject({ name, status: 'aborted' });
  }
});

test('manual intervention nobody answers ends by its onTimeout action', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: intervention-timeout
stages:
  - name: deploy
    workflows:
      - name: lonely
        steps:
          - name: deploy
            type: shell
            command: "exit 2"
            failureStrategies:
              - { on: [step-failed], action: manual-intervention, timeoutMs: 1000, onTimeout: ignore }
          - { name: after, type: shell, command: "echo carried on" }
      - name: strict
        steps:
          - name: deploy
            type: shell
            command: "exit 2"
            failureStrategies: [{ on: [any], action: manual-intervention, timeoutMs: 1000 }]
`,
  );
  expect(stepOf(doc, 'lonely', 'deploy').status).toBe('ignored');
  expect(stepOf(doc, 'lonely', 'after').status).toBe('succeeded');
  expect(workflowOf(doc, 'lonely').status).toBe('succeeded');
  // onTimeout defaults to abort.
  expect(workflowOf(doc, 'strict').status).toBe('aborted');
});

test('rule precedence: a step rule beats the workflow rule, which beats the pipeline rule', async () => {
  const doc = await runYamlPipeline(
    env,
    `
name: precedence
failureStrategies: [{ on: [any], action: abort }]
stages:
  - name: deploy
    workflows:
      - name: layered
        failureStrategies: [{ on: [step-failed], action: rollback }]
        steps:
          - name: ignored-by-step-rule
            type: shell
            command: "exit 1"
            failureStrategies: [{ on: [step-failed], action: ignore }]
          - { name: rolled-back-by-workflow-rule, type: shell, command: "exit 1" }
        rollbackSteps: [{ name: undo, type: shell, command: "echo undo" }]
      - name: plain
        steps:
          - { name: aborted-by-pipeline-rule, type: shell, command: "exit 1" }
        rollbackSteps: [{ name: undo, type: shell, command: "echo never" }]
`,
  );
  expect(stepOf(doc, 'layered', 'ignored-by-step-rule').status).toBe('ignored');
  expect(workflowOf(doc, 'layered').status).toBe('rolled-back');
  expect(workflowOf(doc, 'plain').status).toBe('aborted');
  expect(workflowOf(doc, 'plain').steps.map((s) => s.name)).toEqual(['aborted-by-pipeline-rule']);
});
