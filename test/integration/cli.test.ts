/**
 * The `convoy` command as users run it: a real process (`./bin/convoy`, built by `npm ci`),
 * real exit codes, one JSON document on stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipelineResultSchema } from '../../src/model/result';
import { freePort } from '../../src/dev-server/dev-server';
import {
  CONVOY_BIN,
  connectTestEnv,
  eventually,
  runConvoy,
  workflowIdsMatching,
  type TestEnv,
} from './harness';
import { cachedWorkflowsFor } from '../../src/worker/sizing';
import { createServer, type AddressInfo } from 'node:net';

const repo = resolve(__dirname, '..', '..');
const convoy = CONVOY_BIN;
const dir = mkdtempSync(join(tmpdir(), 'convoy-cli-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const twoServices = `
name: cli-release
variables: { version: "1.0.0" }
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "echo api \${{ vars.version }}" }
          - { name: sync, type: barrier, identifier: services-deployed }
      - name: web
        steps:
          - { name: deploy, type: shell, command: "sleep 0.3; echo web" }
          - { name: sync, type: barrier, identifier: services-deployed }
`;

let env: TestEnv;
beforeAll(async () => {
  if (!existsSync(join(repo, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm ci` or `npm run build` before the CLI tests');
  }
  env = await connectTestEnv('cli');
  await env.startWorker();
});
afterAll(() => env.close());

test('validate: exit 2 naming the file and field, nothing started', async () => {
  const bad = file(
    'bad.yaml',
    `
name: bad
stages:
  - name: s
    workflows:
      - name: w
        steps:
          - { name: b, type: barrier, identifier: "\${{ vars.x }}" }
          - { name: t, type: wait, durationMs: -5 }
`,
  );
  const result = await runConvoy(['validate', bad]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`${bad}: stages[0].workflows[0].steps[0].identifier:`);
  expect(result.stderr).toContain(`${bad}: stages[0].workflows[0].steps[1].durationMs:`);
  expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace

  const run = await runConvoy(['run', bad], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(run.code).toBe(2); // validation comes before any connection
});

test('validate: the examples pass', async () => {
  for (const example of [
    'microservice-release.yaml',
    'db-migration-rollout.yaml',
    'multi-region-rollout.yaml',
    'train-payments-release.yaml',
    'train-checkout-release.yaml',
    'release-with-db-pipeline.yaml',
  ]) {
    const result = await runConvoy(['validate', join(repo, 'examples', example)]);
    expect({ example, code: result.code, stderr: result.stderr }).toEqual({
      example,
      code: 0,
      stderr: expect.any(String),
    });
  }
});

test("validate: the README's pipeline example passes", async () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const example = /```yaml\n(name: checkout-release[\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const result = await runConvoy(['validate', file('readme-example.yaml', example!)]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
});

test('run against an unreachable Temporal exits 3', async () => {
  const port = await freePort();
  const result = await runConvoy(['run', file('ok.yaml', twoServices)], {
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
  });
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/cannot reach Temporal/);
});

test('run --json against a server prints exactly one result document; status and --no-wait work', async () => {
  const serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  const path = file('ok.yaml', twoServices);
  const result = await runConvoy(
    ['run', path, '--json', '--var', 'version=2.0.0', '--id', `cli-json-${Date.now()}`],
    serverEnv,
  );
  expect(result.code).toBe(0);
  const doc = pipelineResultSchema.parse(JSON.parse(result.stdout));
  expect(doc.status).toBe('succeeded');
  expect(doc.barriers[0]).toMatchObject({ identifier: 'services-deployed', status: 'crossed' });
  const api = doc.workflows.find((w) => w.name === 'api')!;
  expect(api.steps[0]!.output?.stdoutTail).toContain('api 2.0.0');

  const id = `cli-nowait-${Date.now()}`;
  const started = await runConvoy(['run', path, '--no-wait', '--id', id], serverEnv);
  expect(started.code).toBe(0);
  expect(started.stdout.trim()).toBe(id);
  const final = await eventually(
    () => runConvoy(['status', id, '--json'], serverEnv),
    (r) => r.code !== 0 || JSON.parse(r.stdout).status !== 'running',
  );
  expect(final.code).toBe(0);
  expect(JSON.parse(final.stdout).status).toBe('succeeded');

  const unknown = await runConvoy(['status', 'no-such-pipeline'], serverEnv);
  expect(unknown.code).toBe(2);
});

test('a failed pipeline exits 1', async () => {
  const serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  const failing = file(
    'fail.yaml',
    `
name: cli-fail
stages:
  - name: s
    workflows:
      - { name: w, steps: [{ name: boom, type: shell, command: "exit 4" }] }
`,
  );
  const result = await runConvoy(['run', failing, '--json'], serverEnv);
  expect(result.code).toBe(1);
  expect(JSON.parse(result.stdout).status).toBe('failed');
});

test('run --embedded runs an example end to end on its own dev server', async () => {
  const result = await runConvoy(
    ['run', join(repo, 'examples', 'microservice-release.yaml'), '--embedded', '--json'],
    {},
    120_000,
  );
  expect(result.stderr).toMatch(/temporal CLI: using .* \(source: .*temporal version/);
  expect(result.code).toBe(0);
  const doc = pipelineResultSchema.parse(JSON.parse(result.stdout));
  expect(doc.status).toBe('succeeded');
  expect(doc.barriers.find((b) => b.identifier === 'services-deployed')?.status).toBe('crossed');
});

test('usage errors exit 2', async () => {
  expect((await runConvoy(['frobnicate'])).code).toBe(2);
  expect((await runConvoy(['run'])).code).toBe(2);
  expect((await runConvoy(['intervene', 'x', 'y', '--action', 'explode'])).code).toBe(2);
  expect((await runConvoy(['run', join(dir, 'missing.yaml')])).code).toBe(2);
});

/** Starts a long-running convoy command and resolves once its output matches. */
function startConvoy(args: string[], env: NodeJS.ProcessEnv, ready: RegExp) {
  const child = spawn(convoy, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const up = new Promise<void>((resolveUp, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (ready.test(output)) resolveUp();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`convoy ${args.join(' ')} exited ${code} before ready:\n${output}`)),
    );
  });
  return { child, up, exited, output: () => output };
}

test('convoy worker runs pipelines from TEMPORAL_TASK_QUEUE and stops cleanly on SIGTERM', async () => {
  const queue = `cli-worker-${Date.now()}`;
  const serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: queue,
  };
  const worker = startConvoy(
    ['worker'],
    { ...serverEnv, CONVOY_WORKER_MEMORY_MB: '1024' },
    new RegExp(
      `convoy worker polling .* task queue cli-worker-.*; caching up to ${cachedWorkflowsFor(1024)} workflows for 1024 MiB \\(CONVOY_WORKER_MEMORY_MB\\)`,
    ),
  );
  await worker.up;
  const result = await runConvoy(['run', file('worker.yaml', twoServices), '--json'], serverEnv);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).status).toBe('succeeded');
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
});

test('convoy worker with a bad CONVOY_* setting exits 2 naming it, before connecting', async () => {
  const result = await runConvoy(['worker'], {
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    CONVOY_MAX_CACHED_WORKFLOWS: 'many',
  });
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe(
    'convoy: CONVOY_MAX_CACHED_WORKFLOWS=many: expected a number of workflows (a positive integer)',
  );
});

test('convoy dev on a taken port exits 3 naming the port, and starts nothing', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as AddressInfo).port;
  try {
    const result = await runConvoy(['dev', '--port', String(port), '--ui-port', String(await freePort())]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.stdout).not.toMatch(/ready/i);
  } finally {
    taken.close();
  }
});

test('convoy dev serves Temporal and its Web UI on the given ports until Ctrl-C', async () => {
  const [port, uiPort] = [await freePort(), await freePort()];
  const dev = startConvoy(
    ['dev', '--port', String(port), '--ui-port', String(uiPort)],
    {},
    /Press Ctrl-C to stop/,
  );
  await dev.up;
  expect(dev.output()).toContain(`Temporal: 127.0.0.1:${port}`);
  expect(dev.output()).toContain(`Web UI:   http://127.0.0.1:${uiPort}`);
  expect((await fetch(`http://127.0.0.1:${uiPort}`)).status).toBe(200);
  const result = await runConvoy(['run', file('dev.yaml', twoServices), '--json'], {
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
  });
  expect(result.code).toBe(0);
  // `convoy dev` registered Convoy's search attributes, and the pipeline carries them.
  const { pipelineId } = pipelineResultSchema.parse(JSON.parse(result.stdout));
  await eventually(
    () =>
      workflowIdsMatching(
        `127.0.0.1:${port}`,
        `ConvoyPipeline = "cli-release" AND ConvoyStatus = "succeeded"`,
      ),
    (ids) => ids.includes(pipelineId),
  );
  dev.child.kill('SIGINT');
  expect(await dev.exited).toBe(0);
});

test('operator commands from the command line: barrier release, rejected intervene, cancel', async () => {
  const serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  const id = `cli-operator-${Date.now()}`;
  const path = file(
    'operator.yaml',
    `
name: cli-operator
stages:
  - name: deploy
    workflows:
      - { name: fast, steps: [{ name: s, type: barrier, identifier: gate }, { name: t, type: barrier, identifier: later }] }
      - { name: slow, steps: [{ name: w, type: shell, command: "sleep 60" }, { name: s, type: barrier, identifier: gate }, { name: t, type: barrier, identifier: later }] }
`,
  );
  expect((await runConvoy(['run', path, '--no-wait', '--id', id], serverEnv)).code).toBe(0);
  await eventually(
    () => runConvoy(['status', id, '--json'], serverEnv),
    (r) =>
      JSON.parse(r.stdout).workflows.find((w: { name: string }) => w.name === 'fast').status ===
      'waiting-at-barrier',
  );
  const human = await runConvoy(['status', id], serverEnv);
  expect(human.stdout).toMatch(/fast .*waiting-at-barrier/);

  const unknown = await runConvoy(['barrier', 'release', id, 'deploy', 'nope'], serverEnv);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/no barrier nope in stage deploy/);
  const released = await runConvoy(
    ['barrier', 'release', id, 'deploy', 'gate', '--reason', 'slow is slow'],
    serverEnv,
  );
  expect(released.code).toBe(0);
  expect(released.stdout).toMatch(/gate in stage deploy: forced/);
  const intervene = await runConvoy(['intervene', id, 'fast', '--action', 'retry'], serverEnv);
  expect(intervene.code).toBe(2);
  expect(intervene.stderr).toMatch(/not waiting for manual intervention/);

  expect((await runConvoy(['cancel', id], serverEnv)).code).toBe(0);
  const final = await eventually(
    () => runConvoy(['status', id, '--json'], serverEnv),
    (r) => JSON.parse(r.stdout).status !== 'running',
  );
  expect(final.code).toBe(1);
  const doc = JSON.parse(final.stdout);
  expect(doc.status).toBe('aborted');
  expect(doc.barriers.find((b: { identifier: string }) => b.identifier === 'gate')).toMatchObject({
    status: 'forced',
    reason: 'slow is slow',
  });
  expect(doc.barriers.find((b: { identifier: string }) => b.identifier === 'later')).toMatchObject({
    status: 'broken',
    reason: 'pipeline aborted',
  });
});
