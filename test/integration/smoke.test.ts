/**
 * Smoke test of the foundation: the real dev server the suite started runs a workflow, and its
 * Web UI answers HTTP.
 */
import { pipelineResultSchema } from '../../src/model/result';
import type { PipelinePlan } from '../../src/model/plan';
import { connectTestEnv, type TestEnv } from './harness';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('smoke');
  await env.startWorker();
});
afterAll(() => env.close());

test('a pipeline workflow runs to completion on the real dev server', async () => {
  const plan: PipelinePlan = {
    pipelineId: `smoke-${Date.now()}`,
    name: 'smoke',
    source: 'inline',
    failureStrategies: [],
    stages: [
      {
        name: 'only',
        barriers: [],
        workflows: [
          {
            name: 'hello',
            stage: 'only',
            variables: {},
            failureStrategies: [],
            rollbackSteps: [],
            steps: [{ name: 'pause', type: 'wait', durationMs: 10, skip: false, failureStrategies: [] }],
          },
        ],
      },
    ],
  };
  const result = await env.client.workflow.execute('pipelineWorkflow', {
    workflowId: plan.pipelineId,
    taskQueue: env.taskQueue,
    args: [{ plan }],
  });
  const doc = pipelineResultSchema.parse(result);
  expect(doc.status).toBe('succeeded');
  expect(doc.workflows).toEqual([
    expect.objectContaining({
      name: 'hello',
      status: 'succeeded',
      steps: [expect.objectContaining({ name: 'pause', status: 'succeeded' })],
    }),
  ]);
  // The history really is on the server.
  const history = await env.client.workflow.getHandle(plan.pipelineId).fetchHistory();
  expect(history.events?.length).toBeGreaterThan(5);
});

test("the dev server's Web UI answers HTTP", async () => {
  const ui = process.env.CONVOY_TEST_TEMPORAL_UI!;
  expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(ui);
  expect(response.status).toBe(200);
  expect(await response.text()).toMatch(/<html/i);
});
