/**
 * Child pipelines (issue 14 item 2) on a real Temporal dev server, with real shell processes: a
 * `type: pipeline` step runs another pipeline file as a child of the workflow, and the child's
 * `parent.<id>` barrier steps join the calling stage's barrier `<id>` as `<caller>/<workflow>`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType, historyOfPipeline } from './history';
import { describePipeline, intervene, overrideBarrier } from '../../src/client/pipelines';
import { barrierArriveSignal, barrierOutcomeSignal } from '../../src/model/protocol';
import { pipelineResultSchema, type PipelineResult } from '../../src/model/result';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  recordHistories,
  runConvoy,
  startYamlFiles,
  stepOf,
  workflowOf,
  writeYamlFiles,
  type TestEnv,
} from './harness';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('child-pipelines');
  await env.startWorker();
});
afterAll(() => env.close());

/** The child pipeline's document nested in the step that ran it. */
function childDocument(doc: PipelineResult, workflow: string, step: string): PipelineResult {
  const nested = stepOf(doc, workflow, step).pipeline;
  if (!nested) throw new Error(`step ${workflow}/${step} has no child pipeline document`);
  return nested;
}

async function finish(started: { result: () => Promise<PipelineResult> }): Promise<PipelineResult> {
  const doc = pipelineResultSchema.parse(await started.result());
  await recordHistories(env, doc);
  return doc;
}

const caller = (name: string, webSteps: string, extra = '') => `
name: ${name}
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: build, type: shell, command: "echo build" }
          - { name: db, type: pipeline, file: ./db.yaml, variables: { region: eu } }
          - { name: rollout, type: shell, command: "echo rollout" }
      - name: web
        steps:
${webSteps}
${extra}`;

test('a child pipeline crosses its parent barrier together with the calling stage', async () => {
  const started = await startYamlFiles(
    env,
    {
      'main.yaml': caller(
        'child-crossing',
        `          - { name: deploy, type: shell, command: "sleep 1.2" }
          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 60000 }
          - { name: switch, type: shell, command: "echo switched" }`,
      ),
      'db.yaml': `
name: db
variables: { region: us }
stages:
  - name: migrate
    workflows:
      - name: migrate
        steps:
          - { name: apply, type: shell, command: "echo applying in $CONVOY_VAR_REGION" }
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 60000 }
          - { name: cleanup, type: shell, command: "echo cleanup" }
`,
    },
    'main.yaml',
  );
  const doc = await finish(started);
  expect(doc.status).toBe('succeeded');
  const barrier = barrierOf(doc, 'deploy', 'schema-ready');
  expect(barrier).toMatchObject({ status: 'crossed', participants: ['web', 'api/migrate'] });
  const lastArrival = Math.max(...Object.values(barrier.arrivals).map(Date.parse));
  // web arrives last (it sleeps); nobody passes before it.
  expect(Date.parse(barrier.arrivals.web!)).toBe(lastArrival);

  const child = childDocument(doc, 'api', 'db');
  expect(child).toMatchObject({ pipelineId: `${doc.pipelineId}/api/db`, name: 'db', status: 'succeeded' });
  const ready = stepOf(child, 'migrate', 'ready');
  expect(ready.status).toBe('succeeded');
  expect(Date.parse(ready.endedAt!)).toBeGreaterThanOrEqual(lastArrival);
  expect(Date.parse(stepOf(doc, 'web', 'switch').startedAt!)).toBeGreaterThanOrEqual(lastArrival);
  // The variable the step passed won over the child's default.
  expect(stepOf(child, 'migrate', 'apply').output?.stdoutTail).toContain('applying in eu');
  expect(stepOf(doc, 'api', 'rollout').status).toBe('succeeded');

  // The coordinator reached the child pipeline's workflow through the child pipeline workflow.
  const history = await historyOfPipeline(env, doc.pipelineId);
  const outcomes = history.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
      e.signalName === barrierOutcomeSignal.name,
  );
  const targets = outcomes.map(
    (e) => e.raw.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId,
  );
  expect(targets.sort()).toEqual([`${doc.pipelineId}/api/db`, `${doc.pipelineId}/web`]);
  // Both released in the same workflow task.
  expect(new Set(outcomes.map((e) => e.workflowTaskCompletedEventId)).size).toBe(1);
});

test('a child pipeline failing before arrival breaks the parent barrier; each peer follows its own strategy', async () => {
  const started = await startYamlFiles(
    env,
    {
      'main.yaml': `
name: child-breaks
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: db, type: pipeline, file: ./db.yaml }
          - { name: rollout, type: shell, command: "echo rollout" }
      - name: web
        steps:
          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 60000 }
          - { name: switch, type: shell, command: "echo switched" }
        failureStrategies: [{ on: [barrier-broken], action: rollback }]
        rollbackSteps: [{ name: restore, type: shell, command: "echo restored" }]
      - name: worker
        steps:
          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 60000 }
          - { name: drain, type: shell, command: "echo drained" }
        failureStrategies: [{ on: [barrier-broken], action: ignore }]
`,
      'db.yaml': `
name: db
stages:
  - name: backup
    workflows:
      - name: backup
        steps:
          - { name: snapshot, type: shell, command: "sleep 0.5; exit 3" }
  - name: migrate
    workflows:
      - name: migrate
        steps:
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 60000 }
`,
    },
    'main.yaml',
  );
  const doc = await finish(started);
  expect(doc.status).toBe('failed');
  const barrier = barrierOf(doc, 'deploy', 'schema-ready');
  expect(barrier.status).toBe('broken');
  expect(barrier.reason).toMatch(/api\/migrate/);
  expect(barrier.reason).toMatch(/child pipeline db ended failed before migrate started/);
  // Peers were waiting and follow their own strategies.
  expect(workflowOf(doc, 'web').status).toBe('rolled-back');
  expect(stepOf(doc, 'web', 'schema-ready').error?.type).toBe('barrier-broken');
  expect(workflowOf(doc, 'worker').status).toBe('succeeded');
  expect(stepOf(doc, 'worker', 'schema-ready').status).toBe('ignored');
  // The calling workflow's step failed with the child's document nested in it.
  expect(workflowOf(doc, 'api').status).toBe('aborted');
  expect(stepOf(doc, 'api', 'db')).toMatchObject({ status: 'failed', error: { type: 'step-failed' } });
  expect(stepOf(doc, 'api', 'db').error?.message).toMatch(
    /child pipeline db \(\.\/db\.yaml\) ended failed: backup failed|backup aborted/,
  );
  const child = childDocument(doc, 'api', 'db');
  expect(child.status).toBe('failed');
  expect(workflowOf(child, 'migrate').status).toBe('not-started');
});

test('a child workflow that fails before its parent barrier breaks it at once', async () => {
  const started = await startYamlFiles(
    env,
    {
      'main.yaml': caller(
        'child-workflow-fails',
        `          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 60000 }`,
      ),
      'db.yaml': `
name: db
variables: { region: us }
stages:
  - name: migrate
    workflows:
      - name: migrate
        steps:
          - { name: apply, type: shell, command: "sleep 0.3; exit 4" }
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 60000 }
`,
    },
    'main.yaml',
  );
  const doc = await finish(started);
  const barrier = barrierOf(doc, 'deploy', 'schema-ready');
  expect(barrier.status).toBe('broken');
  expect(barrier.reason).toMatch(/^api\/migrate/);
  expect(stepOf(doc, 'web', 'schema-ready').error?.type).toBe('barrier-broken');
  expect(workflowOf(childDocument(doc, 'api', 'db'), 'migrate').status).toBe('aborted');
});

test('a worker restart while the child pipeline waits at the parent barrier loses nothing; forged messages are refused', async () => {
  const gate = join(writeYamlFiles({}), 'gate');
  const started = await startYamlFiles(
    env,
    {
      'main.yaml': caller(
        'child-restart',
        `          - name: wait-for-gate
            type: shell
            command: while [ ! -f ${gate} ]; do sleep 0.1; done
          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 120000 }`,
      ),
      'db.yaml': `
name: db
variables: { region: us }
stages:
  - name: migrate
    workflows:
      - name: migrate
        steps:
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 120000 }
          - { name: after, type: shell, command: "echo after" }
`,
    },
    'main.yaml',
  );
  const { pipelineId } = started;
  // The child pipeline's workflow waits at the parent barrier; web has not arrived.
  await eventually(
    () => describePipeline(env.client, pipelineId),
    (doc) => doc.barriers[0]?.arrivals['api/migrate'] !== undefined,
  );

  // Forged: an arrival for web without the capability, a release for the child without the
  // calling pipeline's capability (sent to the child pipeline), and one naming a stranger.
  await env.client.workflow.getHandle(pipelineId).signal(barrierArriveSignal, {
    workflow: 'web',
    identifier: 'schema-ready',
    timeoutMs: 120000,
    arrivedAt: 0,
  });
  const childPipeline = env.client.workflow.getHandle(`${pipelineId}/api/db`);
  await childPipeline.signal(barrierOutcomeSignal, {
    identifier: 'schema-ready',
    participant: 'migrate',
    kind: 'released',
    message: 'forged',
    capability: 'f'.repeat(36),
  });
  await childPipeline.signal(barrierOutcomeSignal, {
    identifier: 'schema-ready',
    participant: 'mallory',
    kind: 'released',
    message: 'forged',
  });

  await env.stopWorkers();
  await env.startWorker();
  const waiting = await describePipeline(env.client, pipelineId);
  expect(barrierOf(waiting, 'deploy', 'schema-ready').status).toBe('standing');
  expect(waiting.rejectedMessages).toEqual({ count: 1, bySender: { web: 1 } });
  const liveChild = childDocument(waiting, 'api', 'db');
  expect(liveChild.rejectedMessages?.count).toBe(2);
  expect(stepOf(liveChild, 'migrate', 'ready').status).toBe('waiting');

  writeFileSync(gate, '');
  const doc = await finish(started);
  expect(existsSync(gate)).toBe(true);
  expect(doc.status).toBe('succeeded');
  const barrier = barrierOf(doc, 'deploy', 'schema-ready');
  expect(barrier.status).toBe('crossed');
  const child = childDocument(doc, 'api', 'db');
  // Released by the real crossing, after web's real arrival, not by a forged outcome.
  expect(Date.parse(stepOf(child, 'migrate', 'ready').endedAt!)).toBeGreaterThanOrEqual(
    Date.parse(barrier.arrivals.web!),
  );
  expect(child.rejectedMessages).toEqual({ count: 2, bySender: { migrate: 1, mallory: 1 } });
}, 120_000);

test('convoy run refuses invalid nesting before anything starts: missing parent. target, cycle, deadlock, unknown variable', async () => {
  const dir = writeYamlFiles({
    'missing.yaml': `
name: missing
stages:
  - name: deploy
    workflows:
      - name: api
        steps: [{ name: db, type: pipeline, file: ./child.yaml, variables: { nope: x } }]
      - name: web
        steps: [{ name: other, type: barrier, identifier: other }, { name: more, type: barrier, identifier: more }]
`,
    'child.yaml': `
name: child
stages:
  - name: s
    workflows:
      - name: migrate
        steps: [{ name: ready, type: barrier, identifier: parent.schema-ready }]
`,
    'a.yaml': `
name: a
stages:
  - name: s
    workflows:
      - name: w
        steps: [{ name: b, type: pipeline, file: ./b.yaml }]
`,
    'b.yaml': `
name: b
stages:
  - name: s
    workflows:
      - name: w
        steps: [{ name: a, type: pipeline, file: ./a.yaml }]
`,
    'deadlock.yaml': `
name: deadlock
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: db, type: pipeline, file: ./child.yaml }
          - { name: verified, type: barrier, identifier: verified }
      - name: web
        steps:
          - { name: verified, type: barrier, identifier: verified }
          - { name: schema-ready, type: barrier, identifier: schema-ready }
`,
  });
  const missing = await runConvoy(['run', join(dir, 'missing.yaml')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(
    "missing.yaml: stages[0].workflows[0].steps[0].variables.nope: ./child.yaml declares no variable 'nope'",
  );

  const noVars = writeYamlFiles({
    'missing.yaml': `
name: missing
stages:
  - name: deploy
    workflows:
      - name: api
        steps: [{ name: db, type: pipeline, file: ./child.yaml }]
      - name: web
        steps: [{ name: other, type: barrier, identifier: other }]
`,
    'child.yaml': `
name: child
stages:
  - name: s
    workflows:
      - name: migrate
        steps: [{ name: ready, type: barrier, identifier: parent.schema-ready }]
`,
  });
  const target = await runConvoy(['validate', join(noVars, 'missing.yaml')]);
  expect(target.code).toBe(2);
  expect(target.stderr).toContain(
    "stages[0].workflows[0].steps[0].file: ./child.yaml: workflow migrate: barrier 'parent.schema-ready' joins barrier 'schema-ready' of the calling stage 'deploy', which no workflow of that stage has (its barriers: other)",
  );

  const cycle = await runConvoy(['validate', join(dir, 'a.yaml')]);
  expect(cycle.code).toBe(2);
  expect(cycle.stderr).toMatch(
    /a\.yaml: stages\[0\]\.workflows\[0\]\.steps\[0\]\.file: \.\/b\.yaml: .*child pipelines include each other in a cycle: .*a\.yaml → .*b\.yaml → .*a\.yaml/,
  );

  const deadlock = await runConvoy(['run', join(dir, 'deadlock.yaml')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(deadlock.code).toBe(2);
  expect(deadlock.stderr).toContain(
    'deadlock.yaml: stages[0]: barrier order deadlock: api reaches schema-ready before verified, but web reaches verified before schema-ready',
  );
});

test('operator actions reach inside a child pipeline: intervene by path, release of the parent barrier', async () => {
  const started = await startYamlFiles(
    env,
    {
      'main.yaml': caller(
        'child-operator',
        `          - { name: schema-ready, type: barrier, identifier: schema-ready, timeoutMs: 120000 }`,
      ),
      'db.yaml': `
name: db
variables: { region: us }
stages:
  - name: migrate
    workflows:
      - name: migrate
        steps:
          - name: apply
            type: shell
            command: exit 5
            failureStrategies: [{ on: [step-failed], action: manual-intervention }]
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 120000 }
`,
    },
    'main.yaml',
  );
  const { pipelineId } = started;
  const waiting = await eventually(
    () => describePipeline(env.client, pipelineId),
    (doc) =>
      doc.workflows.some((w) => w.name === 'web' && w.status === 'waiting-at-barrier') &&
      doc.workflows.find((w) => w.name === 'api')?.steps.find((s) => s.name === 'db')?.pipeline?.workflows[0]
        ?.status === 'waiting-for-intervention',
  );
  expect(childDocument(waiting, 'api', 'db').workflows[0]?.intervention?.step).toBe('apply');

  await overrideBarrier(env.client, pipelineId, 'release', 'deploy', 'schema-ready', 'db team says go');
  await eventually(
    () => describePipeline(env.client, pipelineId),
    (doc) => workflowOf(doc, 'web').status === 'succeeded',
  );
  // The workflow inside the child pipeline, named by its path.
  await expect(intervene(env.client, pipelineId, 'api/db/migrate', 'ignore')).resolves.toBe(
    'migrate: ignore',
  );
  const doc = await finish(started);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'schema-ready')).toMatchObject({
    status: 'forced',
    reason: 'db team says go',
  });
  const child = childDocument(doc, 'api', 'db');
  expect(stepOf(child, 'migrate', 'apply').status).toBe('ignored');
  expect(stepOf(child, 'migrate', 'ready').status).toBe('succeeded');
}, 120_000);
