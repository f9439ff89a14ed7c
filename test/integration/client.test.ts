/**
 * The client library (src/index.ts) against the real dev server: start, watch, result, operator
 * commands, cancel, list, and the errors a script sees.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ConvoyClient,
  OperatorCommandRejectedError,
  PipelineAlreadyExistsError,
  PipelineNotFoundError,
  PipelineValidationError,
  TemporalUnreachableError,
  type PipelineDefinition,
  type PipelineEvent,
} from '../../src/index';
import { freePort } from '../../src/dev-server/dev-server';
import { connectTestEnv, eventually, testServerAddress, type TestEnv } from './harness';

let env: TestEnv;
let client: ConvoyClient;
beforeAll(async () => {
  env = await connectTestEnv('client');
  await env.startWorker();
  client = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue });
});
afterAll(() => env.close());

const release: PipelineDefinition = {
  name: 'client-release',
  variables: { version: '1.0.0' },
  stages: [
    {
      name: 'deploy',
      workflows: [
        {
          name: 'api',
          steps: [
            { name: 'deploy', type: 'shell', command: 'echo api ${{ vars.version }}' },
            { name: 'sync', type: 'barrier', identifier: 'deployed' },
          ],
        },
        {
          name: 'web',
          steps: [
            { name: 'deploy', type: 'shell', command: 'sleep 0.5' },
            { name: 'sync', type: 'barrier', identifier: 'deployed' },
          ],
        },
      ],
    },
  ],
};

function describeEvent(event: PipelineEvent): string {
  switch (event.type) {
    case 'pipeline-status':
      return `pipeline ${event.to}`;
    case 'stage-status':
      return `stage ${event.stage} ${event.from ?? ''}->${event.to}`;
    case 'workflow-status':
      return `workflow ${event.workflow} ${event.from ?? ''}->${event.to}`;
    case 'branch-status':
      return `branch ${event.participant} ${event.from ?? ''}->${event.to}`;
    case 'step-started':
      return `started ${event.workflow}.${event.step.name}#${event.attempt}`;
    case 'step-ended':
      return `ended ${event.workflow}.${event.step.name} ${event.step.status}`;
    case 'barrier-arrival':
      return `arrival ${event.workflow}`;
    case 'barrier-resolved':
      return `resolved ${event.status}`;
  }
}

test('start an object with an id and variables, watch it to the end, read its result', async () => {
  const id = `client-release-${Date.now()}`;
  const handle = await client.start(release, { id, variables: { version: '2.0.0' } });
  expect(handle.pipelineId).toBe(id);

  const again = client.start(release, { id });
  await expect(again).rejects.toBeInstanceOf(PipelineAlreadyExistsError);
  await expect(again).rejects.toMatchObject({
    name: 'PipelineAlreadyExistsError',
    pipelineId: id,
    cause: expect.any(WorkflowExecutionAlreadyStartedError),
  });

  const events: string[] = [];
  for await (const event of handle.watch({ intervalMs: 100 })) events.push(describeEvent(event));
  // A workflow may go back to a status (running, waiting at a barrier, running), but no change
  // from one status to another is reported twice.
  expect(events[0]).toBe('pipeline running');
  expect(events.at(-1)).toBe('pipeline succeeded');
  for (const expected of [
    'arrival api',
    'arrival web',
    'resolved crossed',
    'ended api.deploy succeeded',
    'ended web.sync succeeded',
  ]) {
    expect(events).toContain(expected);
  }
  expect(events.indexOf('arrival web')).toBeLessThan(events.indexOf('resolved crossed'));
  expect(events.filter((event, index) => events.indexOf(event) !== index)).toEqual([]);

  const result = await handle.result();
  expect(result).toMatchObject({ pipelineId: id, status: 'succeeded' });
  expect(result.workflows[0]!.steps[0]!.output?.stdoutTail).toContain('api 2.0.0');
  expect(await client.getHandle(id).status()).toEqual(result);
});

test('operator commands: release, rejected commands with their reason and cause, cancel, list', async () => {
  const handle = await client.start({
    name: 'client-operator',
    stages: [
      {
        name: 'deploy',
        workflows: [
          {
            name: 'fast',
            steps: [
              { name: 'gate', type: 'barrier', identifier: 'gate' },
              { name: 'later', type: 'barrier', identifier: 'later' },
            ],
          },
          {
            name: 'slow',
            steps: [
              { name: 'work', type: 'shell', command: 'sleep 60' },
              { name: 'gate', type: 'barrier', identifier: 'gate' },
              { name: 'later', type: 'barrier', identifier: 'later' },
            ],
          },
        ],
      },
    ],
  });
  expect(handle.pipelineId).toMatch(/^client-operator-\d{8}-\d{6}Z-[0-9a-f]{6}$/);
  expect(handle.warnings).toEqual([]);

  for await (const event of handle.watch({ intervalMs: 100 })) {
    if (event.type === 'barrier-arrival' && event.identifier === 'gate') break;
  }
  expect(
    await handle.releaseBarrier({ stage: 'deploy', identifier: 'gate', reason: 'slow is known slow' }),
  ).toBe('barrier gate in stage deploy: forced');

  const rejected = await handle
    .breakBarrier({ stage: 'deploy', identifier: 'gate' })
    .catch((error: unknown) => error);
  expect(rejected).toBeInstanceOf(OperatorCommandRejectedError);
  expect(rejected).toMatchObject({
    name: 'OperatorCommandRejectedError',
    command: 'break-barrier',
    pipelineId: handle.pipelineId,
    reason: expect.stringMatching(/already forced/),
    cause: expect.any(WorkflowUpdateFailedError),
  });
  await expect(handle.intervene({ workflow: 'fast', action: 'retry' })).rejects.toMatchObject({
    name: 'OperatorCommandRejectedError',
    command: 'intervene',
    reason: expect.stringMatching(/not waiting for manual intervention/),
  });

  const listed = await eventually(
    () => client.list({ taskQueue: env.taskQueue, status: 'running' }),
    (pipelines) => pipelines.some((p) => p.pipelineId === handle.pipelineId),
  );
  expect(listed.find((p) => p.pipelineId === handle.pipelineId)).toMatchObject({
    name: 'client-operator',
    source: 'pipeline definition',
    executionStatus: 'RUNNING',
    taskQueue: env.taskQueue,
    startedAt: expect.any(Date),
  });

  await handle.cancel();
  const result = await handle.result();
  expect(result.status).toBe('aborted');
  expect(result.barriers.find((b) => b.identifier === 'gate')).toMatchObject({
    status: 'forced',
    reason: 'slow is known slow',
  });
  expect(result.barriers.find((b) => b.identifier === 'later')).toMatchObject({
    status: 'broken',
    reason: 'pipeline aborted',
  });
  // An ended pipeline is left alone, and the error says how it ended.
  await expect(handle.cancel()).rejects.toMatchObject({
    name: 'PipelineAlreadyEndedError',
    pipelineId: handle.pipelineId,
    status: 'aborted',
  });
  const closed = await eventually(
    () => client.list({ taskQueue: env.taskQueue, status: 'closed', limit: 5 }),
    (pipelines) => pipelines.some((p) => p.pipelineId === handle.pipelineId),
  );
  expect(closed.length).toBeLessThanOrEqual(5);
  expect(closed.find((p) => p.pipelineId === handle.pipelineId)).toMatchObject({
    executionStatus: 'FAILED', // aborted: a failed workflow carrying its document
    closedAt: expect.any(Date),
  });
});

test("start on another task queue than the client's: the pipeline runs where the option says", async () => {
  // This client's own task queue has no worker: only the `taskQueue` option can get the pipeline run.
  const elsewhere = new ConvoyClient({ client: env.client, taskQueue: `${env.taskQueue}-no-worker` });
  const handle = await elsewhere.start(release, { taskQueue: env.taskQueue });
  expect((await env.client.workflow.getHandle(handle.pipelineId).describe()).taskQueue).toBe(env.taskQueue);
  expect((await handle.result()).status).toBe('succeeded');
});

test('unknown pipelines, invalid pipelines and an unreachable server are typed errors', async () => {
  // Over a connection of the script's own, in the namespace TEMPORAL_NAMESPACE names (default).
  const unknown = new ConvoyClient({ connection: env.connection }).getHandle('no-such-pipeline');
  await expect(unknown.status()).rejects.toMatchObject({
    name: 'PipelineNotFoundError',
    pipelineId: 'no-such-pipeline',
    cause: expect.anything(),
  });
  await expect(unknown.result()).rejects.toBeInstanceOf(PipelineNotFoundError);
  await expect(unknown.releaseBarrier({ stage: 's', identifier: 'b' })).rejects.toBeInstanceOf(
    PipelineNotFoundError,
  );
  await expect(unknown.cancel()).rejects.toBeInstanceOf(PipelineNotFoundError);

  await expect(client.start({ ...release, stages: [] })).rejects.toBeInstanceOf(PipelineValidationError);

  const connected = await ConvoyClient.connect({
    env: { TEMPORAL_ADDRESS: testServerAddress(), TEMPORAL_TASK_QUEUE: 'from-env' },
  });
  expect(connected.taskQueue).toBe('from-env');
  await connected.close();

  const port = await freePort();
  const unreachable = await ConvoyClient.connect({ address: `127.0.0.1:${port}` }).catch((e: unknown) => e);
  expect(unreachable).toBeInstanceOf(TemporalUnreachableError);
  expect(unreachable).toMatchObject({ name: 'TemporalUnreachableError', cause: expect.any(Error) });
});
