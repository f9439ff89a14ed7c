/**
 * Where the benchmarks run: one dev server, Convoy's workflow bundle and the floor's, worker
 * processes that host Convoy's worker and the floor's side by side, and what the server and the
 * worker used meanwhile (CPU seconds, database requests).
 */
import type { Client } from '@temporalio/client';
import { setMaxListeners } from 'node:events';
import type { DevServer } from '../src/dev-server/dev-server';
import { workflowDocument } from '../src/client/pipelines';
import { childWorkflowId } from '../src/model/protocol';
import { cpuSeconds } from './proc';
import { countersByLabel, diffCounts } from './prometheus';
import { startWorkerProcess, type WorkerProcess } from './worker-host';
import { fetchMany, withTimeout } from './util';

export interface BenchContext {
  client: Client;
  address: string;
  namespace: string;
  /** Prefix of every workflow ID and task queue of the run. */
  tag: string;
  /** Convoy's workflow bundle. */
  bundlePath: string;
  /** The floor's workflow bundle (bench/floor.ts). */
  floorBundlePath: string;
  /** The dev server's process: its CPU time is reported next to the worker's. */
  serverPid?: number;
  /** The dev server's Prometheus endpoint, when it has one. */
  metricsUrl?: string;
}

/** The context of one dev server. */
export function benchContext(
  dev: DevServer,
  client: Client,
  tag: string,
  bundles: Pick<BenchContext, 'bundlePath' | 'floorBundlePath'>,
): BenchContext {
  return {
    client,
    address: dev.address,
    namespace: dev.namespace,
    tag,
    ...bundles,
    serverPid: dev.process.pid,
    metricsUrl: dev.metricsUrl,
  };
}

/** Which workers a worker process runs: Convoy's, the floor's, or both (the default). */
export interface WorkerParts {
  convoy?: boolean;
  floor?: boolean;
  /** Size Convoy's worker as a pod with this memory limit (MiB) would be sized; see worker-host.ts. */
  memoryLimitMb?: number;
}

/**
 * Runs `body` with a fresh worker process on task queues of its own: Convoy's worker on
 * `taskQueue`, the floor's on `rawTaskQueue(taskQueue)`.
 *
 * Every client call `body` makes is cancelled when it ends. A call can outlive its benchmark: a
 * pipeline's result long-poll raced against the crash of its worker goes on polling. Left alone,
 * it is still waiting when its dev server stops; the client then retries it from a timer on a
 * closed channel, which throws ("Channel has been shut down") where nobody can catch it and takes
 * the whole run down.
 */
export async function withBenchWorker<T>(
  ctx: BenchContext,
  name: string,
  body: (taskQueue: string, worker: WorkerProcess) => Promise<T>,
  parts: WorkerParts = { convoy: true, floor: true },
): Promise<T> {
  const taskQueue = `${ctx.tag}-${name}`;
  const worker = await startWorkerProcess({
    address: ctx.address,
    namespace: ctx.namespace,
    taskQueue,
    convoyBundle: parts.convoy ? ctx.bundlePath : undefined,
    floorBundle: parts.floor ? ctx.floorBundlePath : undefined,
    memoryLimitMb: parts.memoryLimitMb,
  });
  const calls = new AbortController();
  // The client adds a listener per call and never removes it: a few thousand per benchmark.
  setMaxListeners(0, calls.signal);
  try {
    return await ctx.client.withAbortSignal(calls.signal, () => body(taskQueue, worker));
  } finally {
    calls.abort();
    await worker.stop();
  }
}

/** What the server and the worker used during a benchmark; undefined where it could not be read. */
export interface ResourceUse {
  serverSeconds: number | undefined;
  workerSeconds: number | undefined;
  /** The server's database requests by operation (Prometheus `persistence_requests`). */
  persistence: Record<string, number> | undefined;
}

async function persistenceRequests(
  metricsUrl: string | undefined,
): Promise<Record<string, number> | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const response = await fetch(metricsUrl);
    return countersByLabel(await response.text(), 'persistence_requests', 'operation');
  } catch {
    return undefined;
  }
}

/** Starts counting; call the result to read what was used since. */
export async function measureResources(
  ctx: BenchContext,
  worker?: WorkerProcess,
): Promise<() => Promise<ResourceUse>> {
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  const server0 = cpuSeconds(ctx.serverPid);
  const worker0 = cpuSeconds(worker?.pid);
  const persistence0 = await persistenceRequests(ctx.metricsUrl);
  return async () => {
    const persistence1 = await persistenceRequests(ctx.metricsUrl);
    return {
      serverSeconds: diff(server0, cpuSeconds(ctx.serverPid)),
      workerSeconds: diff(worker0, cpuSeconds(worker?.pid)),
      persistence: persistence0 && persistence1 ? diffCounts(persistence0, persistence1) : undefined,
    };
  };
}

/** The pipeline's status from its result document (read loosely: a malformed document is reported, not thrown). */
export async function pipelineResult(
  ctx: BenchContext,
  pipelineId: string,
  timeoutMs: number,
): Promise<string> {
  const raw: unknown = await withTimeout(
    workflowDocument(ctx.client.workflow.getHandle(pipelineId)),
    timeoutMs,
    `pipeline ${pipelineId}`,
  );
  const status = (raw as { status?: unknown } | null)?.status;
  return typeof status === 'string' ? status : `unreadable result ${JSON.stringify(raw)?.slice(0, 200)}`;
}

/** Histories of a pipeline's children by name; `childId` names their workflows (Convoy's by default). */
export async function childHistories(
  ctx: BenchContext,
  pipelineId: string,
  names: readonly string[],
  childId: (pipelineId: string, name: string) => string = childWorkflowId,
) {
  const events = await fetchMany(
    ctx.client,
    names.map((n) => childId(pipelineId, n)),
  );
  return new Map(names.map((n, i) => [n, events[i]!] as const));
}
