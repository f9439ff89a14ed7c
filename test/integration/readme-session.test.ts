/**
 * README's session against a long-running server, command by command, with the example it
 * names: the pipeline is still waiting at its barrier when the reader reaches `barrier release`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectTestEnv, eventually, runConvoy, type TestEnv } from './harness';

const repo = resolve(__dirname, '..', '..');

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('readme');
  await env.startWorker();
});
afterAll(() => env.close());

test("README's long-running-server session works as written", async () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const session = /A typical session against a long-running server:\n\n```sh\n([\s\S]*?)```/.exec(
    readme,
  )![1]!;
  const commands = session
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('./bin/convoy ') && !line.startsWith('./bin/convoy dev'))
    .map((line) => line.replace(/^\.\/bin\/convoy /, ''));
  const [run, watch, release, cancel] = commands;
  expect(run).toMatch(/^run examples\/sessions\/canary-soak\.yaml --no-wait --id release-42$/);
  expect(watch).toBe('status release-42 --watch');
  expect(release).toMatch(/^barrier release release-42 rollout canary-healthy --reason /);
  expect(cancel).toBe('cancel release-42');

  const id = `release-42-${Date.now()}`;
  const serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  const args = (command: string) =>
    command
      .replace(/release-42/g, id)
      .trim()
      .split(/\s+/);
  expect((await runConvoy(args(run!), serverEnv)).code).toBe(0);
  // What `status --watch` shows a reader: the fleet waits at the barrier while the canary soaks.
  const waiting = await eventually(
    () => runConvoy(['status', id, '--json'], serverEnv),
    (r) =>
      (JSON.parse(r.stdout) as { workflows: { name: string; status: string }[] }).workflows.filter(
        (w) => w.name.startsWith('fleet') && w.status === 'waiting-at-barrier',
      ).length === 2,
  );
  expect(JSON.parse(waiting.stdout).barriers[0].status).toBe('standing');

  const released = await runConvoy(
    [...args(release!.replace(/--reason .*$/, '')), '--reason', 'canary metrics are fine'],
    serverEnv,
  );
  expect(released.code).toBe(0);
  const fleetDone = await eventually(
    () => runConvoy(['status', id, '--json'], serverEnv),
    (r) =>
      (JSON.parse(r.stdout) as { workflows: { name: string; status: string }[] }).workflows.filter(
        (w) => w.name.startsWith('fleet') && w.status === 'succeeded',
      ).length === 2,
  );
  const doc = JSON.parse(fleetDone.stdout);
  expect(doc.status).toBe('running'); // the canary still soaks
  expect(doc.barriers[0]).toMatchObject({ status: 'forced', reason: 'canary metrics are fine' });
  expect((await runConvoy(args(cancel!), serverEnv)).code).toBe(0);
});
