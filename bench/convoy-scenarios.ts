/**
 * The Convoy benchmarks' workloads: release latency, failure propagation, timeout precision,
 * scale and throughput. Each starts real pipelines (plans from bench/plans.ts) on a worker process
 * of its own and reads the outcome from the workflow histories (bench/analysis.ts); the matching
 * bench/scenarios/*.ts turns what it returns into the report's figures.
 */
import type { Client } from '@temporalio/client';
import { startPipeline } from '../src/client/pipelines';
import type { PipelinePlan } from '../src/model/plan';
import { childWorkflowId } from '../src/model/protocol';
import {
  workflowTaskStats,
  type WorkflowTaskStats,
  analyzeFailure,
  analyzeRelease,
  analyzeTimeout,
  type ReleaseRound,
  type TimeoutObservation,
} from './analysis';
import { EventType, firstOfType } from './history';
import {
  FAILER,
  FAILURE_BARRIER,
  LATECOMER,
  TIMEOUT_BARRIER,
  WAITER,
  failurePlan,
  fanPlan,
  releasePlan,
  releaseTiming,
  roundIdentifier,
  timeoutFor,
  timeoutPlan,
} from './plans';
import { cpuSeconds } from './proc';
import { startWorkerProcess, type WorkerProcess } from './worker-host';
import {
  describeError,
  fetchEvents,
  fetchMany,
  log,
  mapLimit,
  sleepMs,
  waitClosed,
  withTimeout,
} from './util';

export interface ConvoyContext {
  client: Client;
  address: string;
  namespace: string;
  tag: string;
  bundlePath: string;
  /** The dev server's process, when known: its CPU time is reported next to the worker's. */
  serverPid?: number;
}

/** CPU seconds the server and the worker used during a benchmark. */
export interface CpuUse {
  serverSeconds: number | undefined;
  workerSeconds: number | undefined;
}

/** Starts counting CPU time of the server and the worker; call the result to read the difference. */
export function measureCpu(ctx: ConvoyContext, worker: WorkerProcess): () => CpuUse {
  const server0 = cpuSeconds(ctx.serverPid);
  const worker0 = cpuSeconds(worker.pid);
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  return () => ({
    serverSeconds: diff(server0, cpuSeconds(ctx.serverPid)),
    workerSeconds: diff(worker0, cpuSeconds(worker.pid)),
  });
}

/** Runs `body` with a fresh Convoy worker process on a task queue of its own. */
export async function withConvoyWorker<T>(
  ctx: ConvoyContext,
  name: string,
  body: (taskQueue: string, worker: WorkerProcess) => Promise<T>,
): Promise<T> {
  const taskQueue = `${ctx.tag}-${name}`;
  const worker = await startWorkerProcess({
    kind: 'convoy',
    address: ctx.address,
    namespace: ctx.namespace,
    taskQueue,
    bundlePath: ctx.bundlePath,
  });
  try {
    return await body(taskQueue, worker);
  } finally {
    await worker.stop();
  }
}

/** The pipeline's status from its result document (read loosely: a malformed document is reported, not thrown). */
async function pipelineResult(ctx: ConvoyContext, pipelineId: string, timeoutMs: number): Promise<string> {
  const raw: unknown = await withTimeout(
    ctx.client.workflow.getHandle(pipelineId).result(),
    timeoutMs,
    `pipeline ${pipelineId}`,
  );
  const status = (raw as { status?: unknown } | null)?.status;
  return typeof status === 'string' ? status : `unreadable result ${JSON.stringify(raw)?.slice(0, 200)}`;
}

function workflowNames(plan: PipelinePlan): string[] {
  return plan.stages.flatMap((s) => s.workflows.map((w) => w.name));
}

async function childHistories(ctx: ConvoyContext, pipelineId: string, names: readonly string[]) {
  const events = await fetchMany(
    ctx.client,
    names.map((n) => childWorkflowId(pipelineId, n)),
  );
  return new Map(names.map((n, i) => [n, events[i]!] as const));
}

// ---------------------------------------------------------------------------------------------

export interface ReleaseRun {
  participants: number;
  rounds: ReleaseRound[];
  status: string;
  /** The pipeline (coordinator) workflow's tasks. */
  parentTasks: WorkflowTaskStats;
}

/** Release latency for one participant count: one pipeline crossing `rounds` barriers. */
export async function runRelease(
  ctx: ConvoyContext,
  taskQueue: string,
  participants: number,
  rounds: number,
): Promise<ReleaseRun> {
  const pipelineId = `${ctx.tag}-release-${participants}`;
  const timing = releaseTiming(participants);
  const plan = releasePlan(pipelineId, participants, rounds, timing);
  const expectedMs = timing.startupMs + rounds * (timing.lastQuietMs + 300);
  log(
    `release: ${participants} participants × ${rounds} barriers (≈ ${Math.round(expectedMs / 1000)} s of waits)`,
  );
  await startPipeline(ctx.client, plan, taskQueue);
  const status = await pipelineResult(ctx, pipelineId, expectedMs * 4 + 120_000);
  const names = workflowNames(plan);
  const [parentEvents, children] = await Promise.all([
    fetchEvents(ctx.client, pipelineId),
    childHistories(ctx, pipelineId, names),
  ]);
  const results: ReleaseRound[] = [];
  for (let r = 0; r < rounds; r++) {
    results.push(
      analyzeRelease(children, roundIdentifier(r), {
        events: parentEvents,
        childId: (n) => childWorkflowId(pipelineId, n),
      }),
    );
  }
  return { participants, rounds: results, status, parentTasks: workflowTaskStats(parentEvents) };
}

// ---------------------------------------------------------------------------------------------

export interface FailureRun {
  latencies: number[];
  fromAbandon: number[];
  kinds: Record<string, number>;
  missing: number;
  statuses: string[];
}

/** Failure propagation: `pipelines` pipelines one after the other, each with one failer and `peers` waiting peers. */
export async function runFailure(
  ctx: ConvoyContext,
  taskQueue: string,
  pipelines: number,
  peers: number,
): Promise<FailureRun> {
  const run: FailureRun = { latencies: [], fromAbandon: [], kinds: {}, missing: 0, statuses: [] };
  for (let i = 0; i < pipelines; i++) {
    const pipelineId = `${ctx.tag}-failure-${i + 1}`;
    const plan = failurePlan(pipelineId, peers, 2500);
    log(`failure: pipeline ${i + 1}/${pipelines} (1 failer, ${peers} peers)`);
    await startPipeline(ctx.client, plan, taskQueue);
    run.statuses.push(await pipelineResult(ctx, pipelineId, 120_000));
    const peerNames = workflowNames(plan).filter((n) => n !== FAILER);
    const [failer, peersHistories] = await Promise.all([
      fetchEvents(ctx.client, childWorkflowId(pipelineId, FAILER)),
      childHistories(ctx, pipelineId, peerNames),
    ]);
    const observed = analyzeFailure(failer, peersHistories, FAILURE_BARRIER);
    run.latencies.push(...observed.latencies.filter(Number.isFinite));
    run.fromAbandon.push(...observed.fromAbandon.filter(Number.isFinite));
    for (const [k, n] of Object.entries(observed.kinds)) run.kinds[k] = (run.kinds[k] ?? 0) + n;
    run.missing += observed.missing.length;
  }
  return run;
}

// ---------------------------------------------------------------------------------------------

/** Gap between the starts of the timeout pipelines: about ten are in flight at any time. */
export const TIMEOUT_STAGGER_MS = 150;

export interface TimeoutRun {
  observations: (TimeoutObservation & { timeoutMs: number })[];
  leftovers: { cancelled: number; terminated: number };
}

/**
 * Timeout precision: `pipelines` pipelines started {@link TIMEOUT_STAGGER_MS} apart, each with a barrier that times
 * out (500..1500 ms) for its waiter while the latecomer sleeps 30 s; leftovers are cancelled.
 */
export async function runTimeouts(
  ctx: ConvoyContext,
  taskQueue: string,
  pipelines: number,
): Promise<TimeoutRun> {
  const ids: string[] = [];
  const timeouts: number[] = [];
  log(
    `timeout: ${pipelines} pipelines, barrier timeouts 500..1500 ms, started ${TIMEOUT_STAGGER_MS} ms apart`,
  );
  for (let i = 0; i < pipelines; i++) {
    const pipelineId = `${ctx.tag}-timeout-${i + 1}`;
    const timeoutMs = timeoutFor(i);
    ids.push(pipelineId);
    timeouts.push(timeoutMs);
    await startPipeline(ctx.client, timeoutPlan(pipelineId, timeoutMs), taskQueue);
    await sleepMs(TIMEOUT_STAGGER_MS);
  }
  const observations: TimeoutRun['observations'] = [];
  let leftovers = { cancelled: 0, terminated: 0 };
  try {
    // The waiter ends (aborted by its barrier-timeout) once the outcome reached it.
    await mapLimit(ids, 8, (id) => waitClosed(ctx.client, childWorkflowId(id, WAITER), 90_000));
    const histories = await fetchMany(
      ctx.client,
      ids.map((id) => childWorkflowId(id, WAITER)),
    );
    const parents = await fetchMany(ctx.client, ids);
    histories.forEach((events, i) => {
      const parent = { events: parents[i]!, waiterId: childWorkflowId(ids[i]!, WAITER) };
      observations.push({
        ...analyzeTimeout(events, TIMEOUT_BARRIER, timeouts[i]!, parent),
        timeoutMs: timeouts[i]!,
      });
    });
  } finally {
    leftovers = await cleanUp(ctx, ids, [WAITER, LATECOMER]);
  }
  return { observations, leftovers };
}

/** Cancels still-running pipelines and waits for them; terminates what is still running after 60 s. */
export async function cleanUp(ctx: ConvoyContext, ids: readonly string[], children: readonly string[]) {
  let cancelled = 0;
  let terminated = 0;
  await mapLimit(ids, 8, async (id) => {
    const handle = ctx.client.workflow.getHandle(id);
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') return;
      await handle.cancel();
      cancelled++;
      await withTimeout(
        handle.result().catch(() => undefined),
        60_000,
        `cancelling ${id}`,
      );
    } catch (error) {
      log(`cleanup: ${describeError(error)}; terminating ${id}`);
      for (const wid of [id, ...children.map((c) => childWorkflowId(id, c))]) {
        try {
          await ctx.client.workflow.getHandle(wid).terminate('benchmark cleanup');
          terminated++;
        } catch {
          // Already closed.
        }
      }
    }
  });
  return { cancelled, terminated };
}

// ---------------------------------------------------------------------------------------------

export interface ScaleRun {
  workflows: number;
  barriers: number;
  status: string;
  wallSeconds: number;
  parentHistoryEvents: number;
  childEventsMax: number;
  /** The pipeline (coordinator) workflow's tasks. */
  parentTasks: WorkflowTaskStats;
  /** The parent's events by type (EVENT_TYPE_ prefix dropped), most frequent first. */
  parentEventsByType: Record<string, number>;
  /** The worker's resident set right after it started polling, before any workflow. */
  workerBaselineRssMb: number | undefined;
  workerPeakRssMb: number | undefined;
  cpu: CpuUse;
}

/** Counts events by type name, most frequent first. */
export function countByType(events: readonly { eventType: number }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const name = (EventType[e.eventType] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/** One pipeline of `workflows` parallel workflows crossing `barriers` shared barriers, on a fresh worker. */
export async function runScale(ctx: ConvoyContext, workflows: number, barriers: number): Promise<ScaleRun> {
  return withConvoyWorker(ctx, 'scale', async (taskQueue, worker) => {
    const workerBaselineRssMb = worker.rssMb();
    const cpu = measureCpu(ctx, worker);
    const pipelineId = `${ctx.tag}-scale-${workflows}x${barriers}`;
    const plan = fanPlan(pipelineId, workflows, barriers, `bench-scale-${workflows}x${barriers}`);
    log(`scale: ${workflows} workflows × ${barriers} barriers`);
    const startedAt = Date.now();
    await startPipeline(ctx.client, plan, taskQueue);
    const status = await pipelineResult(ctx, pipelineId, 20 * 60_000);
    const clientWallMs = Date.now() - startedAt;
    const cpuUse = cpu();
    const peak = worker.peakRssMb();
    const parent = await fetchEvents(ctx.client, pipelineId);
    const first = firstOfType(parent, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const closed = parent[parent.length - 1];
    const wallMs = first && closed ? closed.timeMs - first.timeMs : clientWallMs;
    const sample = await fetchMany(
      ctx.client,
      workflowNames(plan)
        .slice(0, 5)
        .map((n) => childWorkflowId(pipelineId, n)),
    );
    return {
      workflows,
      barriers,
      status,
      wallSeconds: wallMs / 1000,
      parentHistoryEvents: parent.length,
      childEventsMax: Math.max(...sample.map((e) => e.length)),
      parentEventsByType: countByType(parent),
      parentTasks: workflowTaskStats(parent),
      workerBaselineRssMb,
      workerPeakRssMb: peak,
      cpu: cpuUse,
    };
  });
}

export interface ThroughputRun {
  pipelines: number;
  wallSeconds: number;
  statuses: Record<string, number>;
  cpu: CpuUse;
}

/** `pipelines` pipelines of 10 workflows × 2 barriers started at once on a fresh worker. */
export async function runThroughput(ctx: ConvoyContext, pipelines: number): Promise<ThroughputRun> {
  return withConvoyWorker(ctx, 'throughput', async (taskQueue, worker) => {
    const cpu = measureCpu(ctx, worker);
    log(`throughput: ${pipelines} concurrent pipelines of 10 workflows × 2 barriers`);
    const ids = Array.from({ length: pipelines }, (_, i) => `${ctx.tag}-throughput-${i + 1}`);
    const startedAt = Date.now();
    await mapLimit(ids, 16, (id) =>
      startPipeline(ctx.client, fanPlan(id, 10, 2, 'bench-throughput'), taskQueue),
    );
    const statuses: Record<string, number> = {};
    await Promise.all(
      ids.map(async (id) => {
        const status = await pipelineResult(ctx, id, 15 * 60_000).catch(
          (error: unknown) => `error: ${describeError(error)}`,
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
      }),
    );
    return { pipelines, wallSeconds: (Date.now() - startedAt) / 1000, statuses, cpu: cpu() };
  });
}
