/**
 * What the cluster suite does to Convoy: real `convoy worker` processes on either node's
 * frontend, pipelines started from YAML through a client on a chosen frontend, and the facts the
 * tests check (which shard a workflow lives on and which node owns it, what each history says).
 */
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startPipeline } from '../../src/client/pipelines';
import { barrierOutcomeSignal } from '../../src/model/protocol';
import { compilePipeline } from '../../src/pipeline-file';
import { packageRoot } from '../../src/package/root';
import { flatten, EventType, type FlatEvent } from '../integration/history';
import { CLUSTER_NAMESPACE, readServerEnv, type ServerNode } from './support/cluster';
import { postgresConnection, type PostgresConnection } from './support/postgres';

/** The PostgreSQL instance and state folder that global-setup.ts prepared. */
export function fromGlobalSetup(): { stateDir: string; postgres: PostgresConnection } {
  const stateDir = process.env.CONVOY_CLUSTER_STATE_DIR;
  const postgres = process.env.CONVOY_CLUSTER_POSTGRES;
  if (!stateDir || !postgres)
    throw new Error('the cluster suite needs its jest globalSetup (run it through `npm test`)');
  const { port, password } = JSON.parse(postgres) as { port: number; password: string };
  return { stateDir, postgres: postgresConnection(port, password) };
}

/** A client on one frontend. */
export interface FrontendClient {
  address: string;
  client: Client;
  close(): Promise<void>;
}

export async function connectClient(address: string): Promise<FrontendClient> {
  const connection = await Connection.connect({ address });
  return {
    address,
    client: new Client({ connection, namespace: CLUSTER_NAMESPACE }),
    close: () => connection.close(),
  };
}

/** A `convoy worker` process. */
export interface ConvoyWorker {
  pid: number;
  /** The frontend it polls. */
  address: string;
  /** Its Temporal identity, as history events record it (the SDK's default: pid@host). */
  identity: string;
  exited: Promise<void>;
  alive(): boolean;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `./bin/convoy` (it runs dist/: `npm run build` first). */
export const CONVOY_BIN = join(packageRoot(), 'bin', 'convoy');

/** Starts `./bin/convoy worker` against `address` and resolves once it polls. */
export async function startConvoyWorker(address: string, taskQueue: string): Promise<ConvoyWorker> {
  const child = spawn(CONVOY_BIN, ['worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: CLUSTER_NAMESPACE,
      TEMPORAL_TASK_QUEUE: taskQueue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let alive = true;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      alive = false;
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  while (!output.includes('convoy worker polling')) {
    if (!alive) throw new Error(`convoy worker on ${address} exited before polling:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`convoy worker on ${address} did not poll within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    address,
    identity: `${child.pid}@${hostname()}`,
    exited,
    alive: () => alive,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (!alive) return;
      child.kill(signal);
      await exited;
    },
  };
}

let counter = 0;

/** Compiles YAML as `convoy run` would and starts it through `client`. */
export async function startYaml(client: Client, taskQueue: string, yaml: string): Promise<string> {
  // In the suite's state folder, which the global teardown removes.
  const dir = join(fromGlobalSetup().stateDir, 'pipelines');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `pipeline-${++counter}.yaml`);
  writeFileSync(file, yaml);
  const pipelineId = `cluster-${process.pid}-${counter}-${Date.now()}`;
  const { plan } = compilePipeline(file, { pipelineId });
  await startPipeline(client, plan, taskQueue);
  return pipelineId;
}

export async function historyOf(client: Client, workflowId: string): Promise<FlatEvent[]> {
  return flatten(await client.workflow.getHandle(workflowId).fetchHistory());
}

/** How many barrier outcomes the coordinator sent each child, by child workflow ID. */
export function outcomesByTarget(history: FlatEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of history) {
    if (
      e.eventType === EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
      e.signalName === barrierOutcomeSignal.name
    )
      counts[e.target!] = (counts[e.target!] ?? 0) + 1;
  }
  return counts;
}

/**
 * How late each fired timer of a history was: fired time − (start time + requested duration),
 * all three from the server's events.
 */
export function timerLateness(
  history: FlatEvent[],
): { timerId: string; requestedMs: number; latenessMs: number }[] {
  const started = new Map(
    history.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).map((e) => [e.timerId!, e]),
  );
  return history
    .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)
    .map((fired) => {
      const start = started.get(fired.timerId!)!;
      return {
        timerId: fired.timerId!,
        requestedMs: start.timerRequestedMs!,
        latenessMs: fired.timeMs - (start.timeMs + start.timerRequestedMs!),
      };
    });
}

/** The history shard a workflow lives on, from the database's own record. */
export async function shardOf(postgres: PostgresConnection, workflowId: string): Promise<number> {
  const shard = await postgres.query(
    `select shard_id from current_executions where workflow_id = '${workflowId.replace(/'/g, "''")}'`,
    readServerEnv().DBNAME,
  );
  if (!/^\d+$/.test(shard)) throw new Error(`no single shard for ${workflowId}: "${shard}"`);
  return Number(shard);
}

/** When each node last acquired `shardId` (epoch ms), from the nodes' logs; absent when it never did. */
export function shardAcquisitions(nodes: ServerNode[], shardId: number): Map<ServerNode, number> {
  const acquired = new Map<ServerNode, number>();
  for (const node of nodes) {
    for (const line of node.logLines()) {
      if (line.msg === 'Acquired shard' && Number(line['shard-id']) === shardId)
        acquired.set(node, Date.parse(line.ts));
    }
  }
  return acquired;
}

/** The node that acquired `shardId` last: its owner now. */
export function shardOwner(nodes: ServerNode[], shardId: number): ServerNode | undefined {
  let owner: ServerNode | undefined;
  let latest = -Infinity;
  for (const [node, at] of shardAcquisitions(nodes, shardId)) {
    if (at > latest) [owner, latest] = [node, at];
  }
  return owner;
}
