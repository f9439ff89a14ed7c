/**
 * Every state reads right: pipelines Temporal terminated or timed out, IDs of ended pipelines,
 * child workflow IDs given where a pipeline ID belongs, and an address where no Temporal listens,
 * through the `convoy` command and the client library.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ConvoyClient } from '../../src/client/convoy-client';
import { PipelineValidationError } from '../../src/pipeline-file/issues';
import { compilePipeline } from '../../src/pipeline-file';
import { PIPELINE_WORKFLOW_TYPE } from '../../src/client/pipelines';
import { pipelineResultSchema, type PipelineResult } from '../../src/model/result';
import { freePort } from '../../src/dev-server/dev-server';
import { connectTestEnv, eventually, runConvoy, type TestEnv } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'convoy-odd-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `fast` waits at the barrier while `slow` sleeps: the barrier stands for a long while. */
const waiting = file(
  'waiting.yaml',
  `
name: odd-waiting
stages:
  - name: deploy
    workflows:
      - { name: fast, steps: [{ name: sync, type: barrier, identifier: gate }] }
      - { name: slow, steps: [{ name: work, type: shell, command: "sleep 60" }, { name: sync, type: barrier, identifier: gate }] }
`,
);
const quick = file(
  'quick.yaml',
  `
name: odd-quick
stages:
  - name: deploy
    workflows:
      - { name: only, steps: [{ name: hello, type: shell, command: "echo hello" }] }
`,
);

let env: TestEnv;
let serverEnv: NodeJS.ProcessEnv;
let convoy: ConvoyClient;
beforeAll(async () => {
  env = await connectTestEnv('odd');
  await env.startWorker();
  serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  convoy = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue });
});
afterAll(() => env.close());

async function fastWaiting(id: string): Promise<void> {
  await eventually(
    () =>
      convoy
        .getHandle(id)
        .status()
        .catch(() => undefined), // not started yet
    (doc) => doc?.workflows.find((w) => w.name === 'fast')?.status === 'waiting-at-barrier',
  );
}

test('a terminated pipeline reads terminated everywhere, rebuilt from its history', async () => {
  const id = `odd-terminated-${Date.now()}`;
  const run = runConvoy(['run', waiting, '--id', id, '--json'], serverEnv);
  await fastWaiting(id);
  const watch = runConvoy(['status', id, '--watch', '--json'], serverEnv);
  await env.client.workflow.getHandle(id).terminate('testing');

  // The waiting run ends with a document, exit 1 (not 3).
  const ran = await run;
  expect(ran.code).toBe(1);
  const doc = pipelineResultSchema.parse(JSON.parse(ran.stdout));
  expect(doc.status).toBe('terminated');
  expect(doc.endedAt).toBeDefined();
  const gate = doc.barriers.find((b) => b.identifier === 'gate')!;
  expect(gate).toMatchObject({ status: 'broken', reason: 'pipeline terminated' });
  expect(Object.keys(gate.arrivals)).toEqual(['fast']);
  expect(doc.stages[0]!.status).toBe('aborted');

  // --watch returns, on the same document.
  const watched = await watch;
  expect(watched.code).toBe(1);
  // --watch --json: one document per line, the last one final.
  const lines = watched.stdout.trim().split('\n');
  expect(pipelineResultSchema.parse(JSON.parse(lines[lines.length - 1]!)).status).toBe('terminated');

  const status = await runConvoy(['status', id, '--json'], serverEnv);
  expect(status.code).toBe(1);
  expect(JSON.parse(status.stdout).status).toBe('terminated');

  // The library agrees, result() and status() alike; the children end as cancelled by their parent's end.
  const fromLibrary: PipelineResult = await convoy.getHandle(id).result();
  expect(fromLibrary.status).toBe('terminated');
  const settled = await eventually(
    () => convoy.getHandle(id).status(),
    (d) => d.workflows.every((w) => w.status === 'aborted'),
  );
  expect(settled.status).toBe('terminated');

  // cancel says it already ended, with its status.
  const cancel = await runConvoy(['cancel', id], serverEnv);
  expect(cancel.code).toBe(1);
  expect(cancel.stderr.trim()).toMatch(new RegExp(`^convoy: pipeline ${id} already ended: terminated at `));
});

test('a pipeline that timed out reads timed-out', async () => {
  const id = `odd-timeout-${Date.now()}`;
  const { plan } = compilePipeline(waiting, { pipelineId: id });
  await env.client.workflow.start(PIPELINE_WORKFLOW_TYPE, {
    workflowId: id,
    taskQueue: env.taskQueue,
    args: [{ plan }],
    workflowExecutionTimeout: '4s',
  });
  const watch = runConvoy(['status', id, '--watch', '--json'], serverEnv);
  const doc = await convoy.getHandle(id).result();
  expect(doc.status).toBe('timed-out');
  // --watch, following it while it ran, ends with it: the last line is the timed-out document.
  const watched = await watch;
  expect(watched.code).toBe(1);
  const lines = watched.stdout.trim().split('\n');
  expect(pipelineResultSchema.parse(JSON.parse(lines[lines.length - 1]!)).status).toBe('timed-out');
  expect(doc.barriers.find((b) => b.identifier === 'gate')).toMatchObject({
    status: 'broken',
    reason: 'pipeline timed out',
  });
  const status = await runConvoy(['status', id], serverEnv);
  expect(status.code).toBe(1);
  expect(status.stdout).toMatch(new RegExp(`Pipeline ${id} \\(odd-waiting\\): timed-out`));
});

test('cancel of a pipeline that ended says so and exits 1; reusing its id needs --allow-reuse', async () => {
  const id = `odd-reuse-${Date.now()}`;
  expect((await runConvoy(['run', quick, '--id', id], serverEnv)).code).toBe(0);

  const cancel = await runConvoy(['cancel', id], serverEnv);
  expect(cancel.code).toBe(1);
  expect(cancel.stderr.trim()).toMatch(new RegExp(`^convoy: pipeline ${id} already ended: succeeded at `));

  const again = await runConvoy(['run', quick, '--id', id], serverEnv);
  expect(again.code).toBe(2);
  expect(again.stderr.trim()).toEqual(
    expect.stringMatching(
      new RegExp(
        `^convoy: pipeline id ${id} belongs to a pipeline that ended \\(completed at .*\\); reuse it with --allow-reuse`,
      ),
    ),
  );
  const reused = await runConvoy(['run', quick, '--id', id, '--allow-reuse', '--json'], serverEnv);
  expect(reused.code).toBe(0);
  expect(JSON.parse(reused.stdout).status).toBe('succeeded');
});

test('a running pipeline id is never reused', async () => {
  const id = `odd-running-${Date.now()}`;
  expect((await runConvoy(['run', waiting, '--id', id, '--no-wait'], serverEnv)).code).toBe(0);
  for (const extra of [[], ['--allow-reuse']]) {
    const second = await runConvoy(['run', waiting, '--id', id, ...extra], serverEnv);
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toBe(
      `convoy: a pipeline with id ${id} is already running; choose another --id`,
    );
  }
  expect((await runConvoy(['cancel', id], serverEnv)).code).toBe(0);
});

test('a pipeline id that could make child ids ambiguous is refused before anything starts', async () => {
  const stamp = Date.now();
  // `team/release`'s child `w` would be `team/release/w`, as pipeline `team`'s child `release/w` would.
  for (const id of [`team/release-${stamp}`, `has space-${stamp}`, `-lead-${stamp}`]) {
    const run = await runConvoy(['run', quick, '--id', id, '--json'], serverEnv);
    expect({ id, code: run.code, stdout: run.stdout }).toEqual({ id, code: 2, stdout: '' });
    expect(run.stderr.trim()).toMatch(
      /^[^\n]*quick\.yaml: --id: a pipeline id is letters, digits, "\.", "_" and "-"/,
    );
    await expect(env.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }
  const fromScript = await convoy.start(quick, { id: `team/script-${stamp}` }).catch((e: unknown) => e);
  expect(fromScript).toBeInstanceOf(PipelineValidationError);
  expect((fromScript as PipelineValidationError).issues).toEqual([
    expect.objectContaining({ path: '--id', message: expect.stringMatching(/^a pipeline id is letters/) }),
  ]);
  await expect(env.client.workflow.getHandle(`team/script-${stamp}`).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );
});

test('status, cancel and intervene given a child workflow id point at the pipeline', async () => {
  const id = `odd-child-${Date.now()}`;
  expect((await runConvoy(['run', waiting, '--id', id, '--no-wait'], serverEnv)).code).toBe(0);
  await fastWaiting(id);
  const child = `${id}/fast`;
  for (const args of [
    ['status', child],
    ['status', child, '--watch'],
    ['cancel', child],
    ['intervene', child, 'fast', '--action', 'retry'],
    ['barrier', 'release', child, 'deploy', 'gate'],
  ]) {
    const result = await runConvoy(args, serverEnv);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr.trim()).toBe(
      `convoy: ${child} is not a pipeline: it is the workflow fast of pipeline ${id} (a child workflow); use the pipeline id ${id}`,
    );
  }
  await expect(convoy.getHandle(child).status()).rejects.toMatchObject({
    name: 'NotAPipelineError',
    pipelineId: id,
    workflow: 'fast',
  });
  expect((await runConvoy(['cancel', id], serverEnv)).code).toBe(0);
});

test('every command against a closed port says why in one line and exits 3', async () => {
  const closed = { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
  for (const args of [
    ['run', quick],
    ['status', 'x'],
    ['cancel', 'x'],
    ['intervene', 'x', 'w', '--action', 'retry'],
    ['barrier', 'break', 'x', 's', 'b'],
    ['worker'],
  ]) {
    const result = await runConvoy(args, closed);
    expect({ args, code: result.code }).toEqual({ args, code: 3 });
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          // The address, then what else was resolved (namespace, TLS), then the cause.
          `^convoy: cannot reach Temporal at ${closed.TEMPORAL_ADDRESS}(, [^:]*)?: connection refused: nothing listens there`,
        ),
      ),
    ]);
  }
  const dns = await runConvoy(['status', 'x'], { TEMPORAL_ADDRESS: 'no-such-host.invalid:7233' });
  expect(dns.code).toBe(3);
  expect(dns.stderr.trim()).toMatch(
    /^convoy: cannot reach Temporal at no-such-host\.invalid:7233(, [^:]*)?: DNS cannot resolve no-such-host\.invalid \([A-Z_]+\)/,
  );
});
