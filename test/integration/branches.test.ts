/**
 * Parallel step groups on a real dev server: branches of one workflow run side by side, a barrier
 * step in a branch makes it a participant `<workflow>/<branch>`, and branches meet each other and
 * other workflows there. A failing branch breaks its barriers at once and its siblings are
 * cancelled (breaking theirs); a worker lost while a branch waits changes nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelPipeline, describePipeline } from '../../src/client/pipelines';
import { barrierArriveSignal, barrierOutcomeSignal, workflowStatusQuery } from '../../src/model/protocol';
import type { PipelineResult, StepResult } from '../../src/model/result';
import { EventType, historyOfPipeline } from './history';
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

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('branches');
});
afterAll(() => env.close());
afterEach(() => env.stopWorkers());

/** A branch of a parallel step in the document, failing clearly when absent. */
function branchOf(doc: PipelineResult, workflow: string, step: string, branch: string) {
  const found = stepOf(doc, workflow, step).branches?.find((b) => b.name === branch);
  if (!found) throw new Error(`no branch ${branch} in ${workflow}.${step}`);
  return found;
}

function branchStep(
  doc: PipelineResult,
  workflow: string,
  step: string,
  branch: string,
  name: string,
): StepResult {
  const found = branchOf(doc, workflow, step, branch).steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in branch ${branch}`);
  return found;
}

const ms = (iso: string | undefined): number => Date.parse(iso!);

test('branches of one workflow meet each other and another workflow, and cross together', async () => {
  await env.startWorker();
  const doc = await runYamlPipeline(
    env,
    `
name: branches-cross
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - { name: prepare, type: shell, command: 'true' }
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps:
                  - { name: canary-deploy, type: shell, command: 'true' }
                  - { name: canary-synced, type: barrier, identifier: branches-synced }
                  - { name: canary-cut, type: barrier, identifier: cutover }
                  - { name: canary-after, type: shell, command: 'true' }
              - name: migrate
                steps:
                  - { name: migrate-db, type: wait, durationMs: 1500 }
                  - { name: migrate-synced, type: barrier, identifier: branches-synced }
                  - { name: migrate-cut, type: barrier, identifier: cutover }
          - { name: finish, type: shell, command: 'true' }
      - name: web
        steps:
          - { name: web-cut, type: barrier, identifier: cutover }
          - { name: web-after, type: shell, command: 'true' }
`,
  );
  expect(doc.status).toBe('succeeded');
  const synced = barrierOf(doc, 'deploy', 'branches-synced');
  expect(synced.participants).toEqual(['app/canary', 'app/migrate']);
  expect(synced.status).toBe('crossed');
  const cutover = barrierOf(doc, 'deploy', 'cutover');
  expect(cutover.participants).toEqual(['app/canary', 'app/migrate', 'web']);
  expect(cutover.status).toBe('crossed');
  expect(Object.keys(cutover.arrivals).sort()).toEqual(['app/canary', 'app/migrate', 'web']);

  // Nobody crossed before the last arrival: the branches, once the slow migration let them sync.
  const lastArrival = Math.max(...Object.values(cutover.arrivals).map((a) => ms(a)));
  expect(ms(cutover.arrivals['web'])).toBeLessThan(lastArrival);
  expect(ms(synced.resolvedAt)).toBeGreaterThanOrEqual(
    ms(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').endedAt),
  );
  expect(ms(cutover.arrivals['app/canary'])).toBeGreaterThanOrEqual(ms(synced.resolvedAt));
  expect(ms(cutover.resolvedAt)).toBeGreaterThanOrEqual(lastArrival);
  expect(ms(branchStep(doc, 'app', 'rollout', 'canary', 'canary-after').startedAt)).toBeGreaterThanOrEqual(
    lastArrival,
  );
  expect(ms(stepOf(doc, 'web', 'web-after').startedAt)).toBeGreaterThanOrEqual(lastArrival);

  // The branches ran side by side, and the step after the group waited for both.
  const rollout = stepOf(doc, 'app', 'rollout');
  expect(rollout.status).toBe('succeeded');
  expect(rollout.branches?.map((b) => [b.participant, b.status])).toEqual([
    ['app/canary', 'succeeded'],
    ['app/migrate', 'succeeded'],
  ]);
  expect(ms(branchStep(doc, 'app', 'rollout', 'canary', 'canary-synced').startedAt)).toBeLessThan(
    ms(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').endedAt),
  );
  expect(ms(stepOf(doc, 'app', 'finish').startedAt)).toBeGreaterThanOrEqual(ms(rollout.endedAt));
});

test('a failing branch breaks its barrier for the others at once; its siblings are cancelled and break theirs', async () => {
  await env.startWorker();
  const started = Date.now();
  const doc = await runYamlPipeline(
    env,
    `
name: branch-fails
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps:
                  - { name: canary-deploy, type: shell, command: 'sleep 1; exit 3' }
                  - { name: canary-cut, type: barrier, identifier: cutover, timeoutMs: 120000 }
              - name: migrate
                steps:
                  - { name: migrate-db, type: shell, command: 'sleep 120' }
                  - { name: migrate-done, type: barrier, identifier: migrated, timeoutMs: 120000 }
          - { name: never, type: shell, command: 'true' }
        rollbackSteps:
          - { name: undo, type: shell, command: 'true' }
      - name: web
        steps:
          - { name: web-cut, type: barrier, identifier: cutover, timeoutMs: 120000 }
      - name: api
        steps:
          - { name: api-migrated, type: barrier, identifier: migrated, timeoutMs: 120000 }
`,
  );
  expect(doc.status).toBe('failed');
  // Far sooner than any barrier timeout or the migration's sleep.
  expect(Date.now() - started).toBeLessThan(60_000);

  const cutover = barrierOf(doc, 'deploy', 'cutover');
  expect(cutover.status).toBe('broken');
  expect(cutover.reason).toContain('app/canary');
  expect(cutover.reason).toContain('canary-deploy');
  expect(stepOf(doc, 'web', 'web-cut').error?.type).toBe('barrier-broken');
  expect(stepOf(doc, 'web', 'web-cut').error?.message).toContain('app/canary');

  // Broken at once: before the sibling branch had even been stopped.
  expect(ms(cutover.resolvedAt)).toBeLessThanOrEqual(
    ms(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').endedAt),
  );

  // The sibling was cancelled mid step, and broke the barrier it had not reached.
  const migrate = branchOf(doc, 'app', 'rollout', 'migrate');
  expect(migrate.status).toBe('cancelled');
  expect(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').error?.type).toBe('cancelled');
  const migrated = barrierOf(doc, 'deploy', 'migrated');
  expect(migrated.status).toBe('broken');
  // Broken by the sibling's own cancellation, not by the workflow as a whole.
  expect(migrated.reason).toContain('app/migrate was cancelled: app/canary failed');
  expect(stepOf(doc, 'api', 'api-migrated').error?.type).toBe('barrier-broken');

  // The failing branch's failure strategy (the default: rollback) is the workflow's end.
  expect(branchOf(doc, 'app', 'rollout', 'canary').status).toBe('failed');
  expect(stepOf(doc, 'app', 'rollout').error?.type).toBe('branch-failed');
  expect(workflowOf(doc, 'app').status).toBe('rolled-back');
  expect(stepOf(doc, 'app', 'undo').status).toBe('succeeded');
  expect(workflowOf(doc, 'app').steps.some((s) => s.name === 'never')).toBe(false);
});

test('a branch waiting at a barrier survives the loss of its worker', async () => {
  const first = await env.startWorker();
  const started = await startYamlPipeline(
    env,
    `
name: branch-durable
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps:
                  - { name: canary-cut, type: barrier, identifier: cutover }
                  - { name: canary-after, type: shell, command: 'true' }
              - name: migrate
                steps:
                  - { name: migrate-db, type: wait, durationMs: 4000 }
                  - { name: migrate-cut, type: barrier, identifier: cutover }
      - name: web
        steps:
          - { name: web-cut, type: barrier, identifier: cutover }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => {
      const arrivals = doc.barriers.find((b) => b.identifier === 'cutover')?.arrivals ?? {};
      return 'app/canary' in arrivals && 'web' in arrivals;
    },
  );
  const live = await describePipeline(env.client, started.pipelineId);
  expect(branchOf(live, 'app', 'rollout', 'canary').status).toBe('waiting-at-barrier');
  await first.stop();
  // No worker at all while the migrate branch's timer fires: nothing may be lost meanwhile.
  await new Promise((r) => setTimeout(r, 5000));
  await env.startWorker();

  const doc = await started.result();
  await recordHistories(env, doc);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'cutover').status).toBe('crossed');
  expect(branchStep(doc, 'app', 'rollout', 'canary', 'canary-after').attempts).toBe(1);

  // Each participant was released exactly once: two branches and a workflow.
  const history = await historyOfPipeline(env, started.pipelineId);
  const outcomes = history.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
      e.signalName === barrierOutcomeSignal.name,
  );
  expect(outcomes).toHaveLength(3);
});

test('forged messages about branches move nothing: another workflow’s branch, a made-up one, a participant name as sender', async () => {
  await env.startWorker();
  const gate = join(mkdtempSync(join(tmpdir(), 'convoy-branches-')), 'gate');
  const hold = `{ name: hold, type: shell, command: 'while [ ! -e "$CONVOY_VAR_GATE" ]; do sleep 0.1; done' }`;
  const started = await startYamlPipeline(
    env,
    `
name: branch-forged
variables: { gate: '' }
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps: [{ name: canary-cut, type: barrier, identifier: cutover }]
              - name: migrate
                steps:
                  - ${hold.replace('name: hold', 'name: migrate-hold')}
                  - { name: migrate-cut, type: barrier, identifier: cutover }
      - name: web
        steps:
          - ${hold}
          - { name: web-cut, type: barrier, identifier: cutover }
`,
    { vars: { gate } },
  );
  const appId = `${started.pipelineId}/app`;
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => 'app/canary' in (doc.barriers.find((b) => b.identifier === 'cutover')?.arrivals ?? {}),
  );
  // The capability, as anyone who can read a child's input finds it: forgers are assumed to have it.
  const history = await env.client.workflow.getHandle(appId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const { capability } = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { capability: string };

  const parent = env.client.workflow.getHandle(started.pipelineId);
  const arrival = { identifier: 'cutover', timeoutMs: 600_000, arrivedAt: Date.now(), capability };
  await parent.signal(barrierArriveSignal, { ...arrival, workflow: 'web', branch: 'migrate' });
  await parent.signal(barrierArriveSignal, { ...arrival, workflow: 'app/migrate' });
  await parent.signal(barrierArriveSignal, { ...arrival, workflow: 'app', branch: 'rogue' });
  const child = env.client.workflow.getHandle(appId);
  const released = { identifier: 'cutover', kind: 'released' as const, message: 'crossed' };
  await child.signal(barrierOutcomeSignal, { ...released, branch: 'rogue', capability });
  await child.signal(barrierOutcomeSignal, { ...released, branch: 'canary' });

  const during = await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => doc.rejectedMessages?.count === 3,
  );
  expect(during.rejectedMessages?.bySender).toEqual({ web: 1, 'app/migrate': 1, app: 1 });
  expect(barrierOf(during, 'deploy', 'cutover').status).toBe('standing');
  expect(Object.keys(barrierOf(during, 'deploy', 'cutover').arrivals)).toEqual(['app/canary']);
  const app = await eventually(
    () => child.query(workflowStatusQuery),
    (wf) => wf.rejectedMessages?.count === 2,
  );
  expect(app.steps[0]!.branches!.map((b) => [b.name, b.status])).toEqual([
    ['canary', 'waiting-at-barrier'],
    ['migrate', 'running'],
  ]);

  const openedAt = Date.now();
  writeFileSync(gate, '');
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  const cutover = barrierOf(doc, 'deploy', 'cutover');
  expect(cutover.status).toBe('crossed');
  for (const participant of ['app/migrate', 'web'])
    expect(ms(cutover.arrivals[participant])).toBeGreaterThanOrEqual(openedAt - 1000);
});

test('aborting the pipeline cancels every branch and breaks the barrier they stand at', async () => {
  await env.startWorker();
  const started = await startYamlPipeline(
    env,
    `
name: branch-aborted
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps: [{ name: canary-cut, type: barrier, identifier: cutover }]
              - name: migrate
                steps:
                  - { name: migrate-db, type: shell, command: 'sleep 120' }
                  - { name: migrate-cut, type: barrier, identifier: cutover }
      - name: web
        steps:
          - { name: web-cut, type: barrier, identifier: cutover }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => {
      const app = doc.workflows.find((w) => w.name === 'app');
      const branches = app?.steps[0]?.branches ?? [];
      return branches[0]?.status === 'waiting-at-barrier' && branches[1]?.steps[0]?.status === 'running';
    },
  );
  await cancelPipeline(env.client, started.pipelineId);
  const doc = await started.result();
  expect(doc.status).toBe('aborted');
  expect(barrierOf(doc, 'deploy', 'cutover')).toMatchObject({ status: 'broken', reason: 'pipeline aborted' });
  expect(workflowOf(doc, 'app').status).toBe('aborted');
  expect(branchOf(doc, 'app', 'rollout', 'canary').status).toBe('cancelled');
  expect(branchOf(doc, 'app', 'rollout', 'migrate').status).toBe('cancelled');
  expect(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').error?.type).toBe('cancelled');
  expect(branchStep(doc, 'app', 'rollout', 'canary', 'canary-cut').error?.type).toBe('cancelled');
  // Every branch step had ended by the time the pipeline did.
  expect(ms(branchStep(doc, 'app', 'rollout', 'migrate', 'migrate-db').endedAt)).toBeLessThanOrEqual(
    ms(doc.endedAt),
  );
});
