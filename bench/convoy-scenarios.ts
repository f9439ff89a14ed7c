/**
 * The workloads that only Convoy runs: timeout precision (with a raw timer of the same length
 * alongside each barrier), scale, throughput, the server at idle, and the worker's memory. Each
 * starts real pipelines (plans from bench/plans.ts) on a worker process of its own and reads the
 * outcome from the workflow histories (bench/analysis.ts); the matching bench/scenarios/*.ts
 * turns what it returns into the report's figures. The workloads Convoy and the floor run alike
 * are in bench/barrier-workloads.ts.
 */
import { startPipeline } from '../src/client/pipelines';
import { childWorkflowId } from '../src/model/protocol';
import { predictParentHistoryEvents } from '../src/pipeline-file/history-budget';
import { CONVOY, RAW, analyzeTimeout, timerObservations, type TimeoutObservation } from './analysis';
import { rawChildId, type RawTimeoutInput } from './floor-workflows';
import { convoySystem } from './barrier-systems';
import { runRelease, type ReleaseRun } from './barrier-workloads';
import {
  measureResources,
  pipelineResult,
  withBenchWorker,
  type BenchContext,
  type ResourceUse,
} from './context';
import { EventType, signalsReceived } from './history';
import {
  LATECOMER,
  MIN_WAIT_MS,
  TIMEOUT_BARRIER,
  TIMEOUT_LATE_MS,
  TIMEOUT_RANGE_MS,
  WAITER,
  barrierPlan,
  fanWaits,
  heldWaits,
  timeoutFor,
  timeoutPlan,
  type Waits,
} from './plans';
import { manifestWorkerMemoryMb } from './manifest-memory';
import { rawTaskQueue, type WorkerProcess } from './worker-host';
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

/** Gap between the starts of the timeout pipelines: about ten are in flight at any time. */
export const TIMEOUT_STAGGER_MS = 150;

export interface TimeoutRun {
  observations: (TimeoutObservation & { timeoutMs: number })[];
  /** Per barrier, a raw timer of its timeoutMs started with it: TimerFired − TimerStarted − timeoutMs. */
  rawTimers: { timeoutMs: number; latenessMs: number }[];
  /**
   * Per barrier, the raw coordinator's timeout of the same length (bench/floor-workflows.ts
   * `rawTimeoutParent`), started with it: the same measure as Convoy's, from its waiter's history.
   */
  rawCoordinator: (TimeoutObservation & { timeoutMs: number })[];
  leftovers: { cancelled: number; terminated: number };
}

/**
 * How the timeout pipelines overlap: `alone` starts each once the one before has timed out for
 * both waiters (Convoy's and the raw coordinator's), so that the figures are the timers'
 * precision; `under-load` starts them {@link TIMEOUT_STAGGER_MS} apart, about ten in flight, on
 * a 2-core machine shared with the server: a saturated worker and server.
 */
export type TimeoutLoad = 'alone' | 'under-load';

/**
 * Timeout precision: `pipelines` pipelines started as `load` says, each with a
 * barrier that times out (within {@link TIMEOUT_RANGE_MS}) for its waiter while the latecomer
 * sleeps 30 s; leftovers are cancelled. Alongside each, the floor's worker runs a raw timer of
 * the same length, started when the waiter arrives (after the same settling wait), and a raw
 * coordinator timing out a waiter after the same wait and timeout: the floor of the whole measure
 * (timer, the coordinator's task, the outcome's signal), under the same load.
 */
export async function runTimeouts(
  ctx: BenchContext,
  taskQueue: string,
  pipelines: number,
  load: TimeoutLoad,
): Promise<TimeoutRun> {
  const ids: string[] = [];
  const timeouts: number[] = [];
  const started = load === 'alone' ? 'one at a time' : `started ${TIMEOUT_STAGGER_MS} ms apart`;
  log(
    `timeout (${load}): ${pipelines} pipelines, barrier timeouts ${TIMEOUT_RANGE_MS.min}..${TIMEOUT_RANGE_MS.max} ms, ${started}, each with a raw timer and a raw coordinator`,
  );
  const rawTimerId = (id: string) => `${id}-raw-timer`;
  const rawCoordinatorId = (id: string) => `${id}-raw-coordinator`;
  const rawWaiterId = (id: string) => rawChildId(rawCoordinatorId(id), WAITER);
  for (let i = 0; i < pipelines; i++) {
    const pipelineId = `${ctx.tag}-timeout-${load}-${i + 1}`;
    const timeoutMs = timeoutFor(i);
    ids.push(pipelineId);
    timeouts.push(timeoutMs);
    await startPipeline(ctx.client, timeoutPlan(pipelineId, timeoutMs), taskQueue);
    await ctx.client.workflow.start('timerProbe', {
      workflowId: rawTimerId(pipelineId),
      taskQueue: rawTaskQueue(taskQueue),
      args: [[MIN_WAIT_MS, timeoutMs]],
    });
    const rawInput: RawTimeoutInput = {
      identifier: TIMEOUT_BARRIER,
      waitMs: MIN_WAIT_MS,
      timeoutMs,
      lateMs: TIMEOUT_LATE_MS,
    };
    await ctx.client.workflow.start('rawTimeoutParent', {
      workflowId: rawCoordinatorId(pipelineId),
      taskQueue: rawTaskQueue(taskQueue),
      args: [rawInput],
    });
    if (load === 'under-load') await sleepMs(TIMEOUT_STAGGER_MS);
    else {
      await waitClosed(ctx.client, childWorkflowId(pipelineId, WAITER), 90_000);
      await waitClosed(ctx.client, rawCoordinatorId(pipelineId), 90_000);
    }
  }
  const observations: TimeoutRun['observations'] = [];
  const rawTimers: TimeoutRun['rawTimers'] = [];
  const rawCoordinator: TimeoutRun['rawCoordinator'] = [];
  let leftovers = { cancelled: 0, terminated: 0 };
  try {
    // The waiter ends (aborted by its barrier-timeout) once the outcome reached it.
    await mapLimit(ids, 8, (id) => waitClosed(ctx.client, childWorkflowId(id, WAITER), 90_000));
    await mapLimit(ids, 8, (id) => waitClosed(ctx.client, rawTimerId(id), 90_000));
    await mapLimit(ids, 8, (id) => waitClosed(ctx.client, rawCoordinatorId(id), 90_000));
    const histories = await fetchMany(
      ctx.client,
      ids.map((id) => childWorkflowId(id, WAITER)),
    );
    const parents = await fetchMany(ctx.client, ids);
    const timers = await fetchMany(ctx.client, ids.map(rawTimerId));
    const rawWaiters = await fetchMany(ctx.client, ids.map(rawWaiterId));
    const rawParents = await fetchMany(ctx.client, ids.map(rawCoordinatorId));
    histories.forEach((events, i) => {
      const parent = { events: parents[i]!, waiterId: childWorkflowId(ids[i]!, WAITER) };
      const timeoutMs = timeouts[i]!;
      observations.push({ ...analyzeTimeout(events, TIMEOUT_BARRIER, timeoutMs, parent), timeoutMs });
      const timer = timerObservations(timers[i]!)[1];
      if (timer) rawTimers.push({ timeoutMs, latenessMs: timer.firedAfterMs - timer.requestedMs });
      const rawParent = { events: rawParents[i]!, waiterId: rawWaiterId(ids[i]!) };
      rawCoordinator.push({
        ...analyzeTimeout(rawWaiters[i]!, TIMEOUT_BARRIER, timeoutMs, rawParent, RAW),
        timeoutMs,
      });
    });
  } finally {
    leftovers = await cleanUp(ctx, ids, [WAITER, LATECOMER]);
  }
  return { observations, rawTimers, rawCoordinator, leftovers };
}

/** Cancels still-running pipelines and waits for them; terminates what is still running after 60 s. */
export async function cleanUp(ctx: BenchContext, ids: readonly string[], children: readonly string[]) {
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

/** Counts events by type name, most frequent first. */
export function countByType(events: readonly { eventType: number }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const name = (EventType[e.eventType] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/** The upper bound `convoy validate` predicts for the parent history of Convoy running `waits`. */
export function predictedParentEvents(waits: Waits): number {
  return predictParentHistoryEvents(barrierPlan('p', 'p', waits).stages).events;
}

export interface ScaleRun {
  workflows: number;
  barriers: number;
  /** The pipeline, its barriers' releases and its parent's history. */
  release: ReleaseRun;
  /** What history-budget.ts predicts for the parent's history. */
  predictedParentEvents: number;
  /** The parent's events by type (EVENT_TYPE_ prefix dropped), most frequent first. */
  parentEventsByType: Record<string, number>;
  /** The worker's resident set right after it started polling, before any workflow. */
  workerBaselineRssMb: number | undefined;
  workerPeakRssMb: number | undefined;
  /** The manifests' memory limit the worker was sized for (MiB). */
  memoryLimitMb: number;
  use: ResourceUse;
}

/**
 * One pipeline of `workflows` parallel workflows crossing `barriers` shared barriers, on a fresh
 * worker sized as the Kubernetes manifests' pod (their memory limit, the worker's sizing rule), so
 * that its peak RSS is checked against the limit it would run under.
 */
export async function runScale(ctx: BenchContext, workflows: number, barriers: number): Promise<ScaleRun> {
  const memoryLimitMb = manifestWorkerMemoryMb();
  return withBenchWorker(
    ctx,
    'scale',
    async (taskQueue, worker) => {
      const workerBaselineRssMb = worker.rssMb();
      const use = await measureResources(ctx, worker);
      const waits = fanWaits(workflows, barriers);
      log(`scale: ${workflows} workflows × ${barriers} barriers`);
      const release = await runRelease(
        ctx,
        convoySystem(ctx, taskQueue, worker),
        `${ctx.tag}-scale-${workflows}x${barriers}`,
        waits,
      );
      return {
        workflows,
        barriers,
        release,
        predictedParentEvents: predictedParentEvents(waits),
        parentEventsByType: countByType(release.parentEvents),
        workerBaselineRssMb,
        workerPeakRssMb: worker.peakRssMb(),
        memoryLimitMb,
        use: await use(),
      };
    },
    { convoy: true, memoryLimitMb },
  );
}

export interface ThroughputRun {
  pipelines: number;
  wallSeconds: number;
  statuses: Record<string, number>;
  use: ResourceUse;
}

/** `pipelines` pipelines of 10 workflows × 2 barriers started at once on a fresh worker. */
export async function runThroughput(ctx: BenchContext, pipelines: number): Promise<ThroughputRun> {
  return withBenchWorker(
    ctx,
    'throughput',
    async (taskQueue, worker) => {
      const use = await measureResources(ctx, worker);
      log(`throughput: ${pipelines} concurrent pipelines of 10 workflows × 2 barriers`);
      const ids = Array.from({ length: pipelines }, (_, i) => `${ctx.tag}-throughput-${i + 1}`);
      const startedAt = Date.now();
      await mapLimit(ids, 16, (id) =>
        startPipeline(ctx.client, barrierPlan(id, 'bench-throughput', fanWaits(10, 2)), taskQueue),
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
      return { pipelines, wallSeconds: (Date.now() - startedAt) / 1000, statuses, use: await use() };
    },
    { convoy: true },
  );
}

/** The server with a Convoy worker polling and nothing to do: `seconds`, after `settleSeconds` unmeasured. */
export async function runIdle(ctx: BenchContext, seconds: number, settleSeconds = 0): Promise<ResourceUse> {
  return withBenchWorker(
    ctx,
    'idle',
    async (_taskQueue, worker) => {
      await sleepMs(settleSeconds * 1000);
      const use = await measureResources(ctx, worker);
      await sleepMs(seconds * 1000);
      return use();
    },
    { convoy: true },
  );
}

// ---------------------------------------------------------------------------------------------

/** The worker's resident set before and while `workflows` workflows sat in its cache. */
export interface CachedMemory {
  pipelines: number;
  /** Workflows in the cache: every pipeline's parent and children. */
  workflows: number;
  beforeRssMb: number | undefined;
  whileCachedRssMb: number | undefined;
}

/** How long the held participant of a memory pipeline waits: longer than any measurement. */
const HOLD_MS = 600_000;

/**
 * Worker memory: on a fresh worker, one small pipeline to load the bundle, then the resident
 * set; then `pipelines` pipelines of `workflowsPerPipeline` workflows that all wait at a barrier
 * (its last participant holds it, {@link heldWaits}), and the resident set once every early
 * arrival has reached its parent. The pipelines are then cancelled.
 */
export async function runMemory(
  ctx: BenchContext,
  name: string,
  pipelines: number,
  workflowsPerPipeline: number,
): Promise<CachedMemory> {
  return withBenchWorker(
    ctx,
    `memory-${name}`,
    async (taskQueue, worker: WorkerProcess) => {
      const convoy = convoySystem(ctx, taskQueue, worker);
      await convoy.run(`${ctx.tag}-memory-${name}-warm-up`, 'bench-warm-up', fanWaits(2, 1));
      const beforeRssMb = worker.rssMb();
      const ids = Array.from({ length: pipelines }, (_, i) => `${ctx.tag}-memory-${name}-${i + 1}`);
      const waits = heldWaits(workflowsPerPipeline, HOLD_MS);
      log(
        `memory (${name}): ${pipelines} pipeline(s) of ${workflowsPerPipeline} workflows waiting at a barrier`,
      );
      await mapLimit(ids, 16, (id) =>
        startPipeline(ctx.client, barrierPlan(id, 'bench-memory', waits), taskQueue),
      );
      try {
        await mapLimit(ids, 8, (id) => waitForArrivals(ctx, id, workflowsPerPipeline - 1, 180_000));
        await sleepMs(2000);
        return {
          pipelines,
          workflows: pipelines * (workflowsPerPipeline + 1),
          beforeRssMb,
          whileCachedRssMb: worker.rssMb(),
        };
      } finally {
        await cleanUp(ctx, ids, []);
      }
    },
    { convoy: true },
  );
}

/** Waits until the pipeline workflow has received `count` arrivals. */
async function waitForArrivals(ctx: BenchContext, pipelineId: string, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const arrived = signalsReceived(await fetchEvents(ctx.client, pipelineId), CONVOY.arrive).length;
    if (arrived >= count) return;
    if (Date.now() > deadline)
      throw new Error(
        `${pipelineId}: ${arrived} of ${count} arrivals after ${Math.round(timeoutMs / 1000)} s`,
      );
    await sleepMs(1000);
  }
}
