/**
 * Malformed signals and update payloads are rejected by the workflows without touching their
 * state: the pipeline afterwards behaves exactly as if they had never been sent.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePipeline } from '../../src/client/pipelines';
import {
  barrierOf,
  connectTestEnv,
  eventually,
  startYamlPipeline,
  workflowOf,
  type TestEnv,
} from './harness';
import {
  barrierArriveSignal,
  barrierOutcomeSignal,
  barrierWithdrawSignal,
  interventionDecisionSignal,
  interventionStateSignal,
  workflowAbandonSignal,
} from '../../src/model/protocol';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('bad-input');
  await env.startWorker();
});
afterAll(() => env.close());

test('garbage signals and updates change nothing', async () => {
  // The late workflow holds until the garbage has been sent, however slow the machine.
  const gate = join(mkdtempSync(join(tmpdir(), 'convoy-bad-input-')), 'gate');
  const started = await startYamlPipeline(
    env,
    `
name: bad-input
variables: { gate: '' }
stages:
  - name: deploy
    workflows:
      - { name: early, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - name: late
        steps:
          - { name: hold, type: shell, command: 'while [ ! -e "$CONVOY_VAR_GATE" ]; do sleep 0.1; done' }
          - { name: sync, type: barrier, identifier: gate }
`,
    { vars: { gate } },
  );
  const parent = env.client.workflow.getHandle(started.pipelineId);
  const child = env.client.workflow.getHandle(`${started.pipelineId}/early`);
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'early').status === 'waiting-at-barrier',
  );
  const before = barrierOf(await describePipeline(env.client, started.pipelineId), 'deploy', 'gate');

  // Malformed payloads, an unknown sender, a sender from no stage, and a forged arrival of the
  // late workflow's name with a bad type.
  await parent.signal(barrierArriveSignal.name, { workflow: 'late' });
  await parent.signal(barrierArriveSignal.name, {
    workflow: 'late',
    identifier: 'gate',
    timeoutMs: 'soon',
    arrivedAt: 1,
  });
  await parent.signal(barrierArriveSignal.name, {
    workflow: 'intruder',
    identifier: 'gate',
    timeoutMs: 1000,
    arrivedAt: 1,
  });
  await parent.signal(barrierArriveSignal.name, 42);
  await parent.signal(barrierWithdrawSignal.name, { identifier: ['gate'] });
  await parent.signal(workflowAbandonSignal.name, { workflow: 'late' });
  await parent.signal(workflowAbandonSignal.name, { workflow: 'ghost', reason: 'made up' });
  await parent.signal(interventionStateSignal.name, { workflow: 'early', waiting: 'yes' });
  await child.signal(barrierOutcomeSignal.name, { identifier: 'gate', kind: 'exploded' });
  await child.signal(interventionDecisionSignal.name, { action: 'retry' }); // not waiting: ignored
  for (const [update, args] of [
    ['barrierRelease', [{ stage: 'deploy' }]],
    ['barrierBreak', [{ stage: 7, identifier: 'gate' }]],
    ['intervene', [{ workflow: 'early', action: 'explode' }]],
  ] as const) {
    await expect(parent.executeUpdate(update, { args: [...args] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
  }

  // An outcome for a barrier the child is not waiting at does not release it.
  await child.signal(barrierOutcomeSignal.name, {
    identifier: 'other',
    kind: 'released',
    message: 'not ours',
  });

  const during = await describePipeline(env.client, started.pipelineId);
  expect(barrierOf(during, 'deploy', 'gate')).toEqual(before);
  expect(workflowOf(during, 'early').status).toBe('waiting-at-barrier');

  const openedAt = Date.now();
  writeFileSync(gate, '');
  const doc = await started.result();
  expect(doc.status).toBe('succeeded');
  const barrier = barrierOf(doc, 'deploy', 'gate');
  expect(barrier.status).toBe('crossed');
  expect(Object.keys(barrier.arrivals).sort()).toEqual(['early', 'late']);
  // The late workflow's real arrival, not a forged one, crossed the barrier.
  expect(Date.parse(barrier.arrivals.late!)).toBeGreaterThanOrEqual(openedAt - 1000);
});
