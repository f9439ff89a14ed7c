/**
 * How many workflows a worker keeps cached, from the memory it may use. A cached workflow costs
 * RSS (its V8 state and history); past the container's limit the kernel kills the worker, while
 * a smaller cache only makes the worker replay an evicted workflow's history when it next runs.
 *
 * The figures are measured by `npm run bench` (`memory.rssPerCachedWorkflowMb` in
 * bench/results/latest.json; README "Run workers in Kubernetes" has the sizing rule).
 */
import { totalmem } from 'node:os';

/** RSS of a worker that has started polling and holds no workflow (measured: 188 MiB). */
export const WORKER_BASELINE_RSS_MB = 190;
/**
 * RSS each cached workflow adds, with a pipeline's plan in its input: 2.26 MiB measured at the
 * peak of a 500-workflow x 4-barrier pipeline (1,318 MiB with 501 workflows cached), rounded up.
 */
export const RSS_PER_CACHED_WORKFLOW_MB = 2.5;
/** Share of the memory limit the worker plans to use; the rest absorbs garbage-collection peaks. */
export const MEMORY_HEADROOM = 0.8;
/** Never fewer: a pipeline and its children should stay cached while they run. */
export const MIN_CACHED_WORKFLOWS = 10;

/**
 * Share of the container's memory limit given to V8's old space (`--max-old-space-size`, set by
 * the image's entry point, workers/entrypoint.sh): workflow state lives on the V8 heap, while
 * the SDK's Rust core, buffers and the young generation need the rest.
 */
export const V8_HEAP_PERCENT = 75;

/** Where the worker's memory budget came from. */
export type MemorySource = 'CONVOY_WORKER_MEMORY_MB' | 'container limit' | 'host memory';

/** The cache size for a memory budget of `memoryMb`. */
export function cachedWorkflowsFor(memoryMb: number): number {
  const usable = memoryMb * MEMORY_HEADROOM - WORKER_BASELINE_RSS_MB;
  return Math.max(MIN_CACHED_WORKFLOWS, Math.floor(usable / RSS_PER_CACHED_WORKFLOW_MB));
}

/** The memory a worker has: the container's (cgroup) limit when there is one, else the host's. */
export function availableMemoryMb(
  constrained: number | undefined = process.constrainedMemory?.(),
  host: number = totalmem(),
): { mb: number; source: MemorySource } {
  // Node reports 2^64 (or 0) when no cgroup limit applies.
  if (constrained !== undefined && constrained > 0 && constrained < host) {
    return { mb: Math.floor(constrained / 2 ** 20), source: 'container limit' };
  }
  return { mb: Math.floor(host / 2 ** 20), source: 'host memory' };
}
