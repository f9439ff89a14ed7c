/**
 * The worker as Kubernetes operates it, in a real process (`node bin/convoy worker`, what the
 * image runs) on the run's dev server: readiness false until it polls and again while it
 * drains, Prometheus metrics with Temporal's worker metrics, JSON log lines, SIGTERM draining
 * an in-flight step within the grace time before exiting 0, and sizing itself from a (fake)
 * cgroup memory limit unless told otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/dev-server/dev-server';
import { HealthPaths, METRICS_PATH, WorkerVariables } from '../../src/worker/settings';
import { sizeWorker } from '../../src/worker/sizing';
import {
  CONVOY_BIN,
  connectTestEnv,
  eventually,
  startYamlPipeline,
  testServerAddress,
  type TestEnv,
} from './harness';

const entry = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

/**
 * A TCP relay to the dev server that holds every connection until opened: the worker cannot
 * reach Temporal before the test says so, so "not ready before polling" is observed for sure.
 */
async function gatedRelay(target: string): Promise<{ address: string; open(): void; close(): void }> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  let opened = false;
  const waiting: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.pause();
    const relay = () => {
      const upstream = new (require('node:net').Socket)() as Socket;
      sockets.add(upstream);
      upstream.connect(port, host, () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    };
    if (opened) relay();
    else waiting.push(relay);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    open() {
      opened = true;
      for (const relay of waiting.splice(0)) relay();
    },
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

interface WorkerUnderTest {
  child: ChildProcess;
  healthPort: number;
  metricsPort: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function spawnWorker(env: TestEnv, temporalAddress: string, extra: NodeJS.ProcessEnv = {}) {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [CONVOY_BIN, 'worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      [WorkerVariables.taskQueue]: env.taskQueue,
      [WorkerVariables.healthPort]: String(healthPort),
      [WorkerVariables.metricsPort]: String(metricsPort),
      [WorkerVariables.logFormat]: 'json',
      [WorkerVariables.memoryMb]: '1024',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, healthPort, metricsPort, stderr: () => stderr, exited } satisfies WorkerUnderTest;
}

/** The status of a probe; 0 while nothing listens yet. */
async function probe(port: number, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  } catch {
    return 0;
  }
}

let env: TestEnv;
const started: WorkerUnderTest[] = [];
beforeAll(async () => {
  env = await connectTestEnv('worker-ops');
});
afterAll(async () => {
  for (const w of started) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await env.close();
});

test('readiness is false until the worker polls, then true; metrics carry Temporal worker metrics; logs are JSON', async () => {
  const relay = await gatedRelay(testServerAddress());
  try {
    const worker = await spawnWorker(env, relay.address);
    started.push(worker);
    // The health server answers before Temporal is reachable: live, not ready.
    await eventually(
      () => probe(worker.healthPort, HealthPaths.liveness),
      (status) => status === 200,
    );
    expect(await probe(worker.healthPort, HealthPaths.readiness)).toBe(503);
    relay.open();
    await eventually(
      () => probe(worker.healthPort, HealthPaths.readiness),
      (status) => status === 200,
    );
    const readiness = await (
      await fetch(`http://127.0.0.1:${worker.healthPort}${HealthPaths.readiness}`)
    ).json();
    expect(readiness).toMatchObject({ ok: true, state: 'RUNNING', polled: true, sizing: { limitMb: 1024 } });

    // Work through it, so task metrics exist too.
    const pipeline = await startYamlPipeline(
      env,
      'name: metrics\nstages:\n  - name: s\n    workflows:\n      - name: a\n        steps:\n          - { name: ok, type: shell, command: "true" }\n',
    );
    expect((await pipeline.result()).status).toBe('succeeded');
    const metrics = await eventually(
      async () => (await fetch(`http://127.0.0.1:${worker.metricsPort}${METRICS_PATH}`)).text(),
      (text) => /^temporal_activity_execution_latency/m.test(text),
    );
    for (const name of ['temporal_worker_start', 'temporal_num_pollers', 'temporal_workflow_completed']) {
      expect(metrics).toMatch(new RegExp(`^${name}\\S*\\{[^}]*task_queue="${env.taskQueue}"`, 'm'));
    }

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const lines = worker.stderr().trimEnd().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const e of entries)
      expect(e).toEqual(
        expect.objectContaining({
          time: expect.any(String),
          level: expect.any(String),
          message: expect.any(String),
        }),
      );
    expect(entries.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^convoy worker polling /), 'convoy worker stopped']),
    );
  } finally {
    relay.close();
  }
});

test('SIGTERM: readiness turns false at once, the in-flight step finishes within the grace time, exit 0', async () => {
  const worker = await spawnWorker(env, testServerAddress(), { [WorkerVariables.shutdownGraceMs]: '20000' });
  started.push(worker);
  await eventually(
    () => probe(worker.healthPort, HealthPaths.readiness),
    (status) => status === 200,
  );
  const marker = join(require('node:os').tmpdir(), `convoy-drain-${process.pid}-${Date.now()}`);
  const pipeline = await startYamlPipeline(
    env,
    `name: drain
stages:
  - name: s
    workflows:
      - name: a
        steps:
          - name: slow
            type: shell
            command: "touch ${marker}.started; sleep 3; touch ${marker}.done"
`,
  );
  await eventually(
    async () => existsSync(`${marker}.started`),
    (yes) => yes,
  );
  worker.child.kill('SIGTERM');
  // Draining: still live, no longer ready.
  const seen = await eventually(
    async () => [
      await probe(worker.healthPort, HealthPaths.readiness),
      await probe(worker.healthPort, HealthPaths.liveness),
    ],
    ([ready]) => ready === 503,
  );
  expect(seen).toEqual([503, 200]);
  expect(existsSync(`${marker}.done`)).toBe(false);
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  // It waited for the step rather than cancelling it.
  expect(existsSync(`${marker}.done`)).toBe(true);
  await pipeline.handle.terminate('test over').catch(() => undefined);
});

test('a bad setting exits 2 with one line naming the variable, before listening or connecting', async () => {
  const worker = await spawnWorker(env, '127.0.0.1:1', { [WorkerVariables.healthPort]: '99999' });
  expect(await worker.exited).toEqual({ code: 2, signal: null });
  expect(worker.stderr()).toBe('convoy: CONVOY_HEALTH_PORT=99999: expected a TCP port (1-65535)\n');
});

/** The worker's JSON log entries so far. */
function logEntries(worker: WorkerUnderTest): Record<string, unknown>[] {
  return worker
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A gauge's value for this task queue and worker type, from the worker's Prometheus text. */
function slotsAvailable(metrics: string, taskQueue: string, workerType: string): number | undefined {
  const line = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith('temporal_worker_task_slots_available{') &&
        l.includes(`task_queue="${taskQueue}"`) &&
        l.includes(`worker_type="${workerType}"`),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('sizing from the memory limit', () => {
  const MiB = 2 ** 20;
  let cgroupRoot: string;
  beforeAll(() => {
    cgroupRoot = mkdtempSync(join(tmpdir(), 'convoy-cgroup-'));
    // A 768 MiB container, as cgroup v2 says it.
    writeFileSync(join(cgroupRoot, 'memory.max'), `${768 * MiB}\n`);
  });
  afterAll(() => rmSync(cgroupRoot, { recursive: true, force: true }));

  /** Starts a worker under the fake cgroup, waits until it is ready, and returns what it says about its sizing. */
  async function sizedWorker(
    extra: NodeJS.ProcessEnv,
    expectedSlots: { activity: number; workflow: number },
  ) {
    const worker = await spawnWorker(env, testServerAddress(), {
      [WorkerVariables.cgroupRoot]: cgroupRoot,
      // Empty counts as unset: the limit comes from the cgroup file.
      [WorkerVariables.memoryMb]: '',
      ...extra,
    });
    started.push(worker);
    await eventually(
      () => probe(worker.healthPort, HealthPaths.readiness),
      (status) => status === 200,
    );
    const readiness = (await (
      await fetch(`http://127.0.0.1:${worker.healthPort}${HealthPaths.readiness}`)
    ).json()) as { sizing: unknown };
    const logged = logEntries(worker).find((e) => String(e.message).startsWith('convoy worker sized for'));
    // The SDK got the values: its slot gauges show them all free once the worker is idle (a
    // workflow task of an earlier test's pipeline may hold one for a moment).
    const slots = await eventually(
      async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}${METRICS_PATH}`)).text();
        return {
          activity: slotsAvailable(metrics, env.taskQueue, 'ActivityWorker'),
          workflow: slotsAvailable(metrics, env.taskQueue, 'WorkflowWorker'),
        };
      },
      (seen) => seen.activity === expectedSlots.activity && seen.workflow === expectedSlots.workflow,
    );
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    return { logged, readiness, slots };
  }

  test('unless set, the cache and the slots are derived from the cgroup limit, logged and shown by /readyz', async () => {
    const rule = sizeWorker(768 * MiB);
    const { logged, readiness, slots } = await sizedWorker(
      {},
      {
        activity: rule.maxConcurrentActivityTaskExecutions,
        workflow: rule.maxConcurrentWorkflowTaskExecutions,
      },
    );
    const expected = {
      ...rule,
      source: `cgroup v2 ${join(cgroupRoot, 'memory.max')}`,
      stepMemoryMb: 10,
      chosenBy: {
        maxCachedWorkflows: 'memory',
        maxConcurrentActivityTaskExecutions: 'memory',
        maxConcurrentWorkflowTaskExecutions: 'memory',
      },
    };
    expect(logged).toMatchObject({ level: 'INFO', sizing: expected });
    expect(logged!.message).toContain(`sized for 768 MiB (cgroup v2 ${join(cgroupRoot, 'memory.max')})`);
    expect(readiness).toEqual({ ok: true, state: 'RUNNING', polled: true, sizing: expected });
    expect(slots).toEqual({
      activity: rule.maxConcurrentActivityTaskExecutions,
      workflow: rule.maxConcurrentWorkflowTaskExecutions,
    });
  });

  test('explicit settings win over the derived values, and the rest are sized around them', async () => {
    const rule = sizeWorker(768 * MiB, { maxConcurrentActivityTaskExecutions: 3, maxCachedWorkflows: 33 });
    // 33 cached workflows leave room for only 33 workflow tasks at once.
    expect(rule.maxConcurrentWorkflowTaskExecutions).toBe(33);
    const { logged, slots } = await sizedWorker(
      { [WorkerVariables.maxConcurrentActivities]: '3', [WorkerVariables.maxCachedWorkflows]: '33' },
      { activity: 3, workflow: 33 },
    );
    expect(logged).toMatchObject({
      sizing: {
        maxCachedWorkflows: 33,
        maxConcurrentActivityTaskExecutions: 3,
        maxConcurrentWorkflowTaskExecutions: rule.maxConcurrentWorkflowTaskExecutions,
        chosenBy: {
          maxCachedWorkflows: 'CONVOY_MAX_CACHED_WORKFLOWS',
          maxConcurrentActivityTaskExecutions: 'CONVOY_MAX_CONCURRENT_ACTIVITIES',
          maxConcurrentWorkflowTaskExecutions: 'memory',
        },
      },
    });
    expect(logged!.message).toContain('33 cached workflows (set by CONVOY_MAX_CACHED_WORKFLOWS)');
    expect(slots).toEqual({ activity: 3, workflow: 33 });
  });

  test('a cgroup file it cannot read as a limit stops the worker with one line naming the file, exit 2', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'convoy-cgroup-'));
    try {
      writeFileSync(join(bad, 'memory.max'), 'lots\n');
      const worker = await spawnWorker(env, '127.0.0.1:1', {
        [WorkerVariables.cgroupRoot]: bad,
        [WorkerVariables.memoryMb]: '',
      });
      expect(await worker.exited).toEqual({ code: 2, signal: null });
      expect(worker.stderr()).toBe(
        `convoy: ${join(bad, 'memory.max')}: expected a byte count or "max", got "lots"\n`,
      );
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
