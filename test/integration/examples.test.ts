/**
 * The scripts in examples/scripts/ as users run them: compiled by `npm run build`, started with
 * `node` from the repository root, importing `convoy-pipelines` (the package's own entry point),
 * against the test dev server and a worker on this file's task queue. The example pipelines that
 * show a feature no script uses (parallel branches) run with `convoy run` as the README says.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ConvoyClient } from '../../src/index';
import { pipelineResultSchema } from '../../src/model/result';
import { connectTestEnv, eventually, runConvoy, testServerAddress, type TestEnv } from './harness';

const repo = resolve(__dirname, '..', '..');
const scripts = join(repo, 'dist', 'examples', 'scripts');
const execFileAsync = promisify(execFile);

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a compiled example script with `node`, as the README says; never rejects. */
async function runScript(name: string, args: string[] = []): Promise<ScriptRun> {
  const options = {
    cwd: repo,
    env: { ...process.env, TEMPORAL_ADDRESS: testServerAddress(), TEMPORAL_TASK_QUEUE: env.taskQueue },
    timeout: 60_000,
  };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(scripts, name), ...args], options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: unknown; stdout: string; stderr: string };
    return { code: typeof code === 'number' ? code : null, stdout, stderr };
  }
}

let env: TestEnv;
let client: ConvoyClient;
beforeAll(async () => {
  if (!existsSync(join(scripts, 'start-and-wait.js'))) {
    throw new Error('dist/examples/scripts is missing: run `npm ci` or `npm run build` before this test');
  }
  env = await connectTestEnv('examples');
  await env.startWorker();
  client = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue });
});
afterAll(() => env.close());

test('start-and-wait.js runs an example pipeline to its result', async () => {
  const run = await runScript('start-and-wait.js');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(run.stdout).toMatch(/^started microservice-release-/);
  expect(run.stdout).toContain('barrier deploy/services-deployed: crossed');
  expect(run.stdout).toMatch(/pipeline microservice-release-\S+: succeeded\n$/);
});

test('start-watch-intervene.js watches the changes and decides for the workflow that waits', async () => {
  const run = await runScript('start-watch-intervene.js', ['ignore']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const lines = run.stdout.trim().split('\n');
  // A watch sees the states its polls catch: api may go to the wait from `running` or, when a
  // poll fell between, from another state; what matters is the order of what happened.
  const order = [
    /^barrier deploy\/services-deployed: web arrived$/,
    /^barrier deploy\/services-deployed: crossed$/,
    /^api: \S+ -> waiting-for-intervention$/,
    /^decided: api: ignore$/,
    /^api: waiting-for-intervention -> succeeded$/,
  ].map((pattern) => lines.findIndex((line) => pattern.test(line)));
  expect(order).toEqual([...order].sort((a, b) => a - b));
  expect(order).not.toContain(-1);
  expect(lines).toContainEqual(expect.stringMatching(/^api: step smoke-test failed \(step-failed: .*502/));
  expect(lines.at(-1)).toMatch(/^pipeline smoke-tested-release-\S+: running -> succeeded$/);
});

test('release-barrier.js forces a standing barrier open, and reports a refusal', async () => {
  const pipeline = await client.start({
    name: 'examples-release',
    stages: [
      {
        name: 'deploy',
        workflows: [
          { name: 'fast', steps: [{ name: 'gate', type: 'barrier', identifier: 'gate' }] },
          {
            name: 'slow',
            steps: [
              { name: 'work', type: 'shell', command: 'sleep 60' },
              { name: 'gate', type: 'barrier', identifier: 'gate' },
            ],
          },
        ],
      },
    ],
  });
  try {
    for await (const event of pipeline.watch({ intervalMs: 100 })) {
      if (event.type === 'barrier-arrival') break;
    }
    const args = [pipeline.pipelineId, 'deploy', 'gate', 'slow is known slow'];
    const released = await runScript('release-barrier.js', args);
    expect(released).toMatchObject({ code: 0, stderr: '' });
    expect(released.stdout).toBe(
      'barrier gate in stage deploy: forced\nalready there: fast; the others will pass when they arrive\n',
    );
    const { barriers } = await pipeline.status();
    expect(barriers[0]).toMatchObject({ status: 'forced', reason: 'slow is known slow' });

    const again = await runScript('release-barrier.js', args);
    expect(again).toMatchObject({
      code: 1,
      stderr: 'refused: barrier gate in stage deploy is already forced\n',
    });
  } finally {
    await pipeline.cancel();
  }
});

test('the two release-train examples, started independently, cut over together', async () => {
  const files = ['train-payments-release.yaml', 'train-checkout-release.yaml'].map((f) =>
    join(repo, 'examples', f),
  );
  // One after the other, as two teams would: the first waits at the train for the second.
  const payments = await client.start(files[0]!);
  await eventually(
    () =>
      client
        .getTrain('spring-release', 'traffic-cutover')
        .status()
        .catch(() => undefined),
    (status) => status?.status === 'standing' && status.arrivals['payments-release'] !== undefined,
  );
  const checkout = await client.start(files[1]!);
  const docs = await Promise.all([payments.result(), checkout.result()]);
  for (const doc of docs) {
    expect(doc.status).toBe('succeeded');
    const barrier = doc.barriers.find((b) => b.identifier === 'traffic-cutover')!;
    expect(barrier).toMatchObject({
      status: 'crossed',
      train: { name: 'spring-release', status: 'crossed' },
    });
  }
  expect(docs[0]!.barriers[0]!.train!.runId).toBe(docs[1]!.barriers[0]!.train!.runId);
});

test('canary-with-migration.yaml: the canary branch meets the migrate branch, then both meet payments', async () => {
  const run = await runConvoy(['run', join(repo, 'examples', 'canary-with-migration.yaml'), '--json'], {
    TEMPORAL_ADDRESS: testServerAddress(),
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const doc = pipelineResultSchema.parse(JSON.parse(run.stdout));
  expect(doc.status).toBe('succeeded');
  expect(doc.barriers.map((b) => [b.identifier, b.status, b.participants])).toEqual([
    ['schema-ready', 'crossed', ['checkout/canary', 'checkout/migrate']],
    ['cutover', 'crossed', ['checkout/canary', 'checkout/migrate', 'payments']],
  ]);
  const rollout = doc.workflows.find((w) => w.name === 'checkout')!.steps.find((s) => s.name === 'rollout')!;
  expect(rollout.branches?.map((b) => [b.participant, b.status])).toEqual([
    ['checkout/canary', 'succeeded'],
    ['checkout/migrate', 'succeeded'],
  ]);
});

test('release-with-db-pipeline.yaml runs: its child pipeline (pipelines/db-schema.yaml) crosses schema-ready with it', async () => {
  const pipeline = await client.start(join(repo, 'examples', 'release-with-db-pipeline.yaml'));
  const doc = await pipeline.result();
  expect(doc.status).toBe('succeeded');
  expect(doc.barriers).toEqual([
    expect.objectContaining({
      identifier: 'schema-ready',
      status: 'crossed',
      participants: ['web', 'worker', 'api/migrate'],
    }),
  ]);
  const db = doc.workflows.find((w) => w.name === 'api')?.steps.find((s) => s.name === 'db');
  expect(db?.pipeline).toMatchObject({ name: 'db-schema', status: 'succeeded' });
  const apply = db?.pipeline?.workflows.find((w) => w.name === 'migrate')?.steps[0];
  expect(apply?.output?.stdoutTail).toBe('applying schema v5.2.0 in eu\n');
});
