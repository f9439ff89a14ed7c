/**
 * How much a worker takes on, from the memory it may use: the workflows it keeps cached and the
 * workflow and activity tasks it runs at once. Pure: the limit comes from ./memory-limit.
 *
 * A container's memory holds the worker (a baseline, plus every cached workflow's V8 state and
 * history) and every running shell step's processes, which live outside the worker's heap but
 * inside the same cgroup. Past the limit the kernel kills the worker; a smaller cache only makes
 * the worker replay an evicted workflow's history when it next has work, and fewer step slots
 * only make steps wait in Temporal's task queue for a free one.
 *
 * The figures are measured by `npm run bench -- --only memory` (the worker, and a shell step's
 * process group, bench/step-memory.ts); README "Run workers in Kubernetes" has them and the rule.
 */

/** What a worker's parts cost in resident memory, in MiB. */
export interface MemoryCosts {
  /** A worker that has started polling and holds no workflow. */
  readonly baselineMb: number;
  /** Each workflow in the cache (a pipeline workflow or one of its children). */
  readonly perCachedWorkflowMb: number;
  /** Each step running at once (an activity slot): its processes, and its buffers in the worker. */
  readonly perStepMb: number;
}

/**
 * The measured costs, rounded up (README "Run workers in Kubernetes" has the runs).
 *
 * Baseline: 241-244 MiB RSS of a fresh worker process after one small pipeline (benchmark).
 * Per cached workflow: 1.69 MiB each with one 500-workflow pipeline cached, 1.72 MiB each with 50
 * pipelines of 10 workflows in flight (18.9 MiB per pipeline of 11 workflows); an earlier run
 * measured 2.35 MiB each in the second shape (25.9 MiB per pipeline), and the 500 x 4 benchmark
 * peaked at 2.0 MiB per workflow while its barriers crossed. 2.5 MiB covers all of them.
 * Per step: a shell step is `/bin/sh -c command` plus its watchdog (../activities/supervisor) plus
 * what the command runs: 4.1 MiB RSS for a small script, 8.7 MiB for a three-command pipe, under
 * 1 MiB of either private; a Go tool such as kubectl (measured by hand) adds 8.6 MiB of private
 * memory, its 32 MiB binary being page cache the container is charged for once. 10 MiB covers such a step; steps
 * that run heavier programs need `CONVOY_STEP_MEMORY_MB`.
 */
export const MEASURED_COSTS: MemoryCosts = { baselineMb: 250, perCachedWorkflowMb: 2.5, perStepMb: 10 };

/** Share of the memory limit the worker plans to fill; the rest absorbs garbage-collection peaks and shared pages. */
export const MEMORY_HEADROOM = 0.8;
/** At most this share of the planned memory (after the baseline) goes to running steps; the cache gets the rest. */
export const STEP_SHARE = 0.25;

/** The SDK's defaults (`@temporalio/worker` 1.24), which the derived values never exceed. */
export const SDK_DEFAULTS = {
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskExecutions: 40,
};
/**
 * Never fewer: the SDK takes no cache below 2 and no fewer than 2 workflow task slots (one for
 * the sticky queue, one for the normal one), and at most as many as cached workflows.
 */
export const SDK_MINIMUMS = {
  maxCachedWorkflows: 2,
  maxConcurrentWorkflowTaskExecutions: 2,
  maxConcurrentActivityTaskExecutions: 1,
};

/**
 * Share of the container's memory limit given to V8's old space (`--max-old-space-size`, set by
 * the image's entry point, workers/entrypoint.sh): workflow state lives on the V8 heap, while
 * the SDK's Rust core, buffers and the young generation need the rest.
 *
 * The limit applies to each V8 isolate, and a busy worker's heap grows to it before V8 collects
 * hard: its RSS follows this share, not its cache. In the benchmark's 1,000 × 4 row, sized as the
 * manifests' 2,560 MiB pod (539 cached workflows), the worker peaked at 2,544 MiB with 75 %
 * (1,920 MiB heap) and at 2,388 MiB with 65 % (1,664 MiB): 620-720 MiB lived outside the
 * workflow heap (the main isolate, the Rust core's allocator arenas). 65 % leaves that room.
 */
export const V8_HEAP_PERCENT = 65;

/** The SDK worker options the rule decides. */
export interface WorkerCapacity {
  readonly maxCachedWorkflows: number;
  readonly maxConcurrentWorkflowTaskExecutions: number;
  readonly maxConcurrentActivityTaskExecutions: number;
}

/** The rule's answer: the options, and the memory they plan for. */
export interface WorkerSizing extends WorkerCapacity {
  /** The memory limit, in MiB. */
  readonly limitMb: number;
  /** What the worker may plan to fill: the limit times {@link MEMORY_HEADROOM}. */
  readonly budgetMb: number;
  /** Baseline + cached workflows + steps at their measured costs. */
  readonly plannedMb: number;
  /** False when even the minimums (or explicit values) plan more than the budget. */
  readonly fits: boolean;
}

const MiB = 2 ** 20;

/**
 * Sizes a worker for a memory limit of `limitBytes`. Values in `fixed` (explicit settings) are
 * kept, and the others are derived around them: explicit step slots take their memory from the
 * cache, not from the budget's headroom.
 *
 * Steps get up to {@link STEP_SHARE} of what the budget leaves after the baseline, at most the
 * SDK's 100 slots; the cache gets the rest; workflow task slots are the SDK's 40, fewer when the
 * cache is smaller (a workflow task runs a cached workflow: its memory is the cache's). Every
 * derived value grows with the limit and is at least the SDK's minimum.
 */
export function sizeWorker(
  limitBytes: number,
  fixed: Partial<WorkerCapacity> = {},
  costs: MemoryCosts = MEASURED_COSTS,
): WorkerSizing {
  const limitMb = limitBytes / MiB;
  const budgetMb = limitMb * MEMORY_HEADROOM;
  const usableMb = Math.max(0, budgetMb - costs.baselineMb);

  const stepMemoryMb =
    fixed.maxConcurrentActivityTaskExecutions !== undefined
      ? fixed.maxConcurrentActivityTaskExecutions * costs.perStepMb
      : Math.min(SDK_DEFAULTS.maxConcurrentActivityTaskExecutions * costs.perStepMb, usableMb * STEP_SHARE);
  const activities =
    fixed.maxConcurrentActivityTaskExecutions ??
    clamp(
      Math.floor((usableMb * STEP_SHARE) / costs.perStepMb),
      SDK_MINIMUMS.maxConcurrentActivityTaskExecutions,
      SDK_DEFAULTS.maxConcurrentActivityTaskExecutions,
    );
  const cached =
    fixed.maxCachedWorkflows ??
    Math.max(
      SDK_MINIMUMS.maxCachedWorkflows,
      Math.floor(Math.max(0, usableMb - stepMemoryMb) / costs.perCachedWorkflowMb),
    );
  const workflowTasks =
    fixed.maxConcurrentWorkflowTaskExecutions ??
    clamp(
      cached,
      SDK_MINIMUMS.maxConcurrentWorkflowTaskExecutions,
      SDK_DEFAULTS.maxConcurrentWorkflowTaskExecutions,
    );

  const plannedMb = costs.baselineMb + cached * costs.perCachedWorkflowMb + activities * costs.perStepMb;
  return {
    maxCachedWorkflows: cached,
    maxConcurrentWorkflowTaskExecutions: workflowTasks,
    maxConcurrentActivityTaskExecutions: activities,
    limitMb: round1(limitMb),
    budgetMb: round1(budgetMb),
    plannedMb: round1(plannedMb),
    fits: plannedMb <= budgetMb,
  };
}

/**
 * The smallest limit, in bytes, at which the derived values fit the budget: steps get a share of
 * what is left after the baseline, which must hold one step, and the rest must hold the
 * smallest cache.
 */
export function minimumLimitBytes(costs: MemoryCosts = MEASURED_COSTS): number {
  const usableMb = Math.max(
    (SDK_MINIMUMS.maxConcurrentActivityTaskExecutions * costs.perStepMb) / STEP_SHARE,
    (SDK_MINIMUMS.maxCachedWorkflows * costs.perCachedWorkflowMb) / (1 - STEP_SHARE),
  );
  return Math.ceil(((costs.baselineMb + usableMb) / MEMORY_HEADROOM) * MiB);
}

/**
 * The memory limit, in MiB, that caches `workflows` workflows (with the step slots the rule
 * gives that limit): for the README's sizing table and the manifests.
 */
export function limitMbFor(workflows: number, costs: MemoryCosts = MEASURED_COSTS): number {
  let mb = Math.ceil(minimumLimitBytes(costs) / MiB);
  while (sizeWorker(mb * MiB, {}, costs).maxCachedWorkflows < workflows) mb += 1;
  return mb;
}

/** The cache size the rule gives a memory limit of `memoryMb` MiB. */
export function cachedWorkflowsFor(memoryMb: number): number {
  return sizeWorker(memoryMb * MiB).maxCachedWorkflows;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
