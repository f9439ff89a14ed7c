/**
 * Convoy on a full Temporal service: PostgreSQL and two server nodes built from source, each with
 * all four services, and two real `convoy worker` processes, one on each node's frontend. The
 * tests run in order on one cluster: the examples, then the loss of a server node at a barrier,
 * of a worker in a step, and a restart of the whole cluster in the middle of a pipeline.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describePipeline, waitForPipeline } from '../../src/client/pipelines';
import { packageRoot } from '../../src/package/root';
import { pipelineResultSchema, type PipelineResult } from '../../src/model/result';
import { STEP_HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/steps';
import { barrierOf, eventually, stepOf, workflowOf } from '../integration/harness';
import {
  CLUSTER_NAMESPACE,
  CONVOY_SEARCH_ATTRIBUTES,
  startLocalCluster,
  type LocalCluster,
} from './support/cluster';
import {
  connectClient,
  CONVOY_BIN,
  fromGlobalSetup,
  historyOf,
  outcomesByTarget,
  shardAcquisitions,
  shardOf,
  shardOwner,
  startConvoyWorker,
  startYaml,
  timerLateness,
  type ConvoyWorker,
  type FrontendClient,
} from './helpers';

const execFileAsync = promisify(execFile);
// A node's restart and the cluster's are waited for within a test: more than the default 2 minutes
// on a loaded machine.
jest.setTimeout(300_000);
const log = (line: string) => process.stdout.write(`${line}\n`);
const taskQueue = `cluster-${process.pid}`;

let cluster: LocalCluster;
/** One client per node, index for index. */
let clients: FrontendClient[] = [];
/** One `convoy worker` per node, polling that node's frontend. */
let workers: ConvoyWorker[] = [];
const finished: PipelineResult[] = [];

async function reconnectClients(): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  clients = await Promise.all(cluster.addresses.map(connectClient));
}

/** Starts a worker on each node that has none alive. */
async function ensureWorkers(): Promise<void> {
  workers = await Promise.all(
    cluster.addresses.map(async (address, i) => {
      const current = workers[i];
      return current?.alive() ? current : startConvoyWorker(address, taskQueue);
    }),
  );
}

beforeAll(async () => {
  const { stateDir, postgres } = fromGlobalSetup();
  const started = Date.now();
  cluster = await startLocalCluster({ stateDir, postgres, log });
  log(
    `cluster of ${cluster.nodes.length} nodes serving after ${Math.round((Date.now() - started) / 1000)} s`,
  );
  await reconnectClients();
  await ensureWorkers();
}, 300_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await cluster?.stop();
}, 60_000);

/** `convoy run FILE --json` against one frontend, as a user runs it. */
async function convoyRun(
  file: string,
  address: string,
): Promise<{ code: number; doc: PipelineResult; stderr: string }> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: CLUSTER_NAMESPACE,
    TEMPORAL_TASK_QUEUE: taskQueue,
  };
  try {
    const { stdout, stderr } = await execFileAsync(CONVOY_BIN, ['run', file, '--json'], {
      env,
      timeout: 180_000,
    });
    return { code: 0, doc: pipelineResultSchema.parse(JSON.parse(stdout)), stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    throw new Error(`convoy run ${file} on ${address} exited ${code}:\n${stdout}\n${stderr}`);
  }
}

/** Every worker identity that started a workflow or activity task of the pipeline or its children. */
async function identitiesOf(doc: PipelineResult): Promise<Set<string>> {
  const ids = [
    doc.pipelineId,
    ...doc.workflows.filter((w) => w.status !== 'not-started').map((w) => `${doc.pipelineId}/${w.name}`),
  ];
  const identities = new Set<string>();
  for (const id of ids) {
    for (const event of await historyOf(clients[0]!.client, id)) {
      const identity =
        event.raw.workflowTaskStartedEventAttributes?.identity ??
        event.raw.activityTaskStartedEventAttributes?.identity;
      if (identity) identities.add(identity);
    }
  }
  return identities;
}

test('the cluster serves the default namespace with Convoy search attributes through every frontend', async () => {
  for (const { client } of clients) {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: CLUSTER_NAMESPACE,
    });
    for (const [name, type] of Object.entries(CONVOY_SEARCH_ATTRIBUTES)) {
      expect(customAttributes?.[name]).toBe(
        type === 'Keyword' ? 2 /* INDEXED_VALUE_TYPE_KEYWORD */ : 7 /* INDEXED_VALUE_TYPE_KEYWORD_LIST */,
      );
    }
  }
  // Two nodes, each with its own frontend: distinct addresses, one ring.
  expect(new Set(cluster.addresses).size).toBe(2);
});

test('the examples run to success through two convoy worker processes, started through either frontend', async () => {
  const examples = readdirSync(join(packageRoot(), 'examples')).filter((f) => f.endsWith('.yaml'));
  expect(examples.length).toBeGreaterThanOrEqual(3);
  const runs = await Promise.all(
    examples.map((file, i) => convoyRun(join(packageRoot(), 'examples', file), cluster.addresses[i % 2]!)),
  );
  const identities = new Set<string>();
  for (const [i, run] of runs.entries()) {
    expect({ example: examples[i], status: run.doc.status }).toEqual({
      example: examples[i],
      status: 'succeeded',
    });
    expect(run.doc.barriers.every((b) => b.status === 'crossed')).toBe(true);
    finished.push(run.doc);
    for (const identity of await identitiesOf(run.doc)) identities.add(identity);
  }
  // Both worker processes did part of the work.
  expect([...identities].sort()).toEqual(expect.arrayContaining(workers.map((w) => w.identity).sort()));
});

test('a server node SIGKILLed while a pipeline waits at a barrier: the other node finishes it, on time', async () => {
  const yaml = `
name: node-loss
stages:
  - name: deploy
    workflows:
      - { name: early-1, steps: [{ name: sync, type: barrier, identifier: services-deployed }] }
      - { name: early-2, steps: [{ name: sync, type: barrier, identifier: services-deployed }] }
      - name: late
        steps:
          - { name: deploy, type: wait, durationMs: 6000 }
          - { name: sync, type: barrier, identifier: services-deployed }
      # The canary barrier times out 20 s after the patient workflow arrives: after the node died.
      - name: patient
        failureStrategies: [{ on: [barrier-timeout], action: ignore }]
        steps: [{ name: gate, type: barrier, identifier: canary-verified, timeoutMs: 20000 }]
      - name: straggler
        failureStrategies: [{ on: [barrier-timeout], action: ignore }]
        steps:
          - { name: deploy, type: wait, durationMs: 24000 }
          - { name: gate, type: barrier, identifier: canary-verified }
`;
  const pipelineId = await startYaml(clients[0]!.client, taskQueue, yaml);
  await eventually(
    () => describePipeline(clients[0]!.client, pipelineId),
    (doc) =>
      ['early-1', 'early-2', 'patient'].every((w) => workflowOf(doc, w).status === 'waiting-at-barrier'),
  );
  // Kill the node that owns the coordinator's history shard, so its state must move.
  const shard = await shardOf(cluster.postgres, pipelineId);
  const owner = shardOwner(cluster.nodes, shard);
  expect(owner).toBeDefined();
  const survivor = cluster.nodes.find((n) => n !== owner)!;
  const killedAt = Date.now();
  await owner!.kill('SIGKILL');
  log(`node ${owner!.index} (owner of shard ${shard}) SIGKILLed; node ${survivor.index} carries on`);

  // A client reaches the cluster through the surviving node's frontend.
  const client = clients[survivor.index - 1]!.client;
  const doc = await waitForPipeline(client, pipelineId);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'services-deployed').status).toBe('crossed');
  expect(barrierOf(doc, 'deploy', 'canary-verified').status).toBe('timed-out');
  expect(stepOf(doc, 'patient', 'gate')).toMatchObject({
    status: 'ignored',
    error: { type: 'barrier-timeout' },
  });

  // The shard moved: the survivor acquired it after the kill.
  const acquiredBySurvivor = shardAcquisitions([survivor], shard).get(survivor);
  expect(acquiredBySurvivor).toBeGreaterThan(killedAt);

  // Each participant was released exactly once.
  const history = await historyOf(client, pipelineId);
  const outcomes = outcomesByTarget(history);
  expect(outcomes).toEqual(
    Object.fromEntries(
      ['early-1', 'early-2', 'late', 'patient', 'straggler'].map((w) => [`${pipelineId}/${w}`, 1]),
    ),
  );
  // The barrier's deadline timer fired on time by the server's own clock, though its shard moved.
  const timers = timerLateness(history);
  expect(timers.length).toBeGreaterThan(0);
  const lateness = Math.max(...timers.map((t) => t.latenessMs));
  log(
    `node loss: shard ${shard} re-acquired ${acquiredBySurvivor! - killedAt} ms after the kill; ` +
      `barrier deadline timers fired at most ${Math.round(lateness)} ms late`,
  );
  expect(lateness).toBeLessThan(5_000);

  // Bring the node back for the next tests.
  owner!.start();
  await cluster.waitUntilServing();
  await reconnectClients();
  finished.push(doc);
});

test('a convoy worker SIGKILLed in the middle of a step: the other worker finishes the pipeline', async () => {
  await ensureWorkers();
  const yaml = `
name: worker-loss
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "sleep 6; echo deployed" }
          - { name: sync, type: barrier, identifier: done }
      - { name: db, steps: [{ name: sync, type: barrier, identifier: done }] }
`;
  const pipelineId = await startYaml(clients[0]!.client, taskQueue, yaml);
  // The child exists once the coordinator has started it; its step once a worker picked it up.
  const running = await eventually(
    () =>
      clients[0]!.client.workflow
        .getHandle(`${pipelineId}/api`)
        .describe()
        .catch(() => undefined),
    (d) => Boolean(d?.raw.pendingActivities?.[0]?.lastWorkerIdentity),
  );
  const identity = running!.raw.pendingActivities![0]!.lastWorkerIdentity!;
  const victim = workers.find((w) => w.identity === identity);
  expect(victim).toBeDefined();
  await victim!.kill('SIGKILL');
  const other = workers.find((w) => w !== victim)!;

  const doc = await waitForPipeline(clients[0]!.client, pipelineId);
  expect(doc.status).toBe('succeeded');
  const step = stepOf(doc, 'api', 'deploy');
  expect(step).toMatchObject({ status: 'succeeded', attempts: 2, workerRestarts: 1 });
  expect(step.output?.stdoutTail).toContain('deployed');
  // The server's record: the attempt that completed ran on the other worker.
  const started = (await historyOf(clients[0]!.client, `${pipelineId}/api`)).find(
    (e) => e.raw.activityTaskStartedEventAttributes,
  )!.raw.activityTaskStartedEventAttributes!;
  expect({ attempt: started.attempt, identity: started.identity }).toEqual({
    attempt: 2,
    identity: other.identity,
  });
  // Noticed through the step's heartbeat timeout, not Temporal's 10-minute default.
  expect(Date.parse(step.endedAt!) - Date.parse(step.startedAt!)).toBeLessThan(
    STEP_HEARTBEAT_TIMEOUT_MS + 30_000,
  );
  finished.push(doc);
  await ensureWorkers();
});

test('the whole cluster stopped and restarted on the same database mid-pipeline: nothing is lost', async () => {
  const yaml = `
name: cluster-restart
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "echo api-deployed" }
          - { name: sync, type: barrier, identifier: deployed }
          - { name: verify, type: shell, command: "echo api-verified" }
      - name: web
        steps:
          - { name: deploy, type: wait, durationMs: 3000 }
          - { name: sync, type: barrier, identifier: deployed }
          - { name: verify, type: shell, command: "echo web-verified" }
  - name: verify
    workflows:
      - { name: smoke, steps: [{ name: check, type: shell, command: "echo smoke-ok" }] }
`;
  const pipelineId = await startYaml(clients[1]!.client, taskQueue, yaml);
  await eventually(
    () => describePipeline(clients[1]!.client, pipelineId),
    (doc) => workflowOf(doc, 'api').status === 'waiting-at-barrier',
  );
  await Promise.all(cluster.nodes.map((n) => n.stop()));
  // The web workflow's timer comes due while no server runs at all.
  await new Promise((r) => setTimeout(r, 4000));
  expect(cluster.nodes.every((n) => !n.running)).toBe(true);
  await cluster.startNodes();
  await reconnectClients();

  const doc = await waitForPipeline(clients[0]!.client, pipelineId);
  expect(doc.status).toBe('succeeded');
  expect(barrierOf(doc, 'deploy', 'deployed')).toMatchObject({
    status: 'crossed',
    participants: ['api', 'web'],
  });
  expect(stepOf(doc, 'api', 'verify').output?.stdoutTail).toContain('api-verified');
  expect(stepOf(doc, 'web', 'verify').output?.stdoutTail).toContain('web-verified');
  expect(stepOf(doc, 'smoke', 'check').output?.stdoutTail).toContain('smoke-ok');
  const attempts = doc.workflows.flatMap((w) => w.steps.map((s) => [`${w.name}/${s.name}`, s.attempts]));
  expect(Object.fromEntries(attempts)).toEqual(Object.fromEntries(attempts.map(([step]) => [step, 1])));
  expect(outcomesByTarget(await historyOf(clients[0]!.client, pipelineId))).toEqual({
    [`${pipelineId}/api`]: 1,
    [`${pipelineId}/web`]: 1,
  });
  // What ran before the restart is still there, word for word, through either frontend.
  for (const [i, before] of finished.entries()) {
    expect(await describePipeline(clients[i % 2]!.client, before.pipelineId)).toEqual(before);
  }
});
