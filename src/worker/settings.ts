/**
 * Convoy's own worker settings from the environment, in one place and validated: a bad value
 * stops the worker with one line naming the variable, before it connects to anything. Where
 * Temporal is (address, namespace, TLS, API key) is not here: `src/connection/config.ts` reads it
 * as the `temporal` CLI does. The Kubernetes manifests and the image are checked against the
 * names and paths exported here (test/unit/worker/k8s.test.ts).
 */
import { z } from 'zod';
import { STEP_STATE_DIR_VARIABLE } from '../activities/attempt-guard';
import { TASK_QUEUE_VARIABLE, taskQueueSchema } from '../connection/config';
import { availableMemoryMb, cachedWorkflowsFor, type MemorySource } from './sizing';

/** The environment variables of `convoy worker`, by setting. */
export const WorkerVariables = {
  taskQueue: TASK_QUEUE_VARIABLE,
  memoryMb: 'CONVOY_WORKER_MEMORY_MB',
  maxCachedWorkflows: 'CONVOY_MAX_CACHED_WORKFLOWS',
  maxConcurrentActivities: 'CONVOY_MAX_CONCURRENT_ACTIVITIES',
  maxConcurrentWorkflowTasks: 'CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS',
  healthPort: 'CONVOY_HEALTH_PORT',
  metricsPort: 'CONVOY_METRICS_PORT',
  shutdownGraceMs: 'CONVOY_SHUTDOWN_GRACE_MS',
  logFormat: 'CONVOY_LOG_FORMAT',
  stepStateDir: STEP_STATE_DIR_VARIABLE,
  /** Read by the image's entry point (workers/entrypoint.sh) before Node starts. */
  v8HeapPercent: 'CONVOY_V8_HEAP_PERCENT',
} as const;

/** The HTTP paths of the health server on `CONVOY_HEALTH_PORT`. */
export const HealthPaths = { liveness: '/healthz', readiness: '/readyz' } as const;
/** Where the SDK's Prometheus exporter serves metrics on `CONVOY_METRICS_PORT`. */
export const METRICS_PATH = '/metrics';
/** How long a SIGTERMed worker lets in-flight tasks finish unless `CONVOY_SHUTDOWN_GRACE_MS` says. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

const positiveInteger = (what: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]*$/, { error: `expected ${what} (a positive integer)` })
    .transform(Number);

const port = z
  .string()
  .regex(/^[0-9]+$/, { error: 'expected a TCP port (1-65535)' })
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, { error: 'expected a TCP port (1-65535)' });

const workerEnvSchema = z.object({
  [WorkerVariables.taskQueue]: taskQueueSchema,
  [WorkerVariables.memoryMb]: positiveInteger('megabytes').optional(),
  [WorkerVariables.maxCachedWorkflows]: positiveInteger('a number of workflows').optional(),
  [WorkerVariables.maxConcurrentActivities]: positiveInteger('a number of activities').optional(),
  [WorkerVariables.maxConcurrentWorkflowTasks]: positiveInteger('a number of workflow tasks')
    // The SDK needs two slots: one for the sticky queue and one for the normal one.
    .refine((n) => n >= 2, { error: 'expected at least 2' })
    .optional(),
  [WorkerVariables.healthPort]: port.optional(),
  [WorkerVariables.metricsPort]: port.optional(),
  [WorkerVariables.shutdownGraceMs]: positiveInteger('milliseconds').default(DEFAULT_SHUTDOWN_GRACE_MS),
  [WorkerVariables.v8HeapPercent]: positiveInteger('a percentage')
    .refine((n) => n >= 10 && n <= 95, { error: 'expected a percentage from 10 to 95' })
    .optional(),
  [WorkerVariables.logFormat]: z.enum(['text', 'json'], { error: 'expected text or json' }).default('text'),
});

/** How the worker writes its logs: human lines, or one JSON object per line. */
export type LogFormat = 'text' | 'json';

/** What `convoy worker` runs with, and why. */
export interface WorkerSettings {
  readonly taskQueue: string;
  readonly maxCachedWorkflows: number;
  /** How `maxCachedWorkflows` was chosen, for the start-up log line. */
  readonly sizing: string;
  /** Unset: the SDK's defaults. */
  readonly maxConcurrentActivities?: number;
  readonly maxConcurrentWorkflowTasks?: number;
  /** Unset: no health server. */
  readonly healthPort?: number;
  /** Unset: no Prometheus exporter. */
  readonly metricsPort?: number;
  readonly shutdownGraceMs: number;
  readonly logFormat: LogFormat;
}

/** Raised for a bad `CONVOY_*` worker variable; the message names it. */
export class WorkerSettingsError extends Error {
  override readonly name = 'WorkerSettingsError';
}

/**
 * Reads the worker's variables ({@link WorkerVariables}). `maxCachedWorkflows` is
 * `CONVOY_MAX_CACHED_WORKFLOWS`, or derived from `CONVOY_WORKER_MEMORY_MB`, the container's
 * memory limit or the host's memory.
 * @throws {@link WorkerSettingsError} naming the first bad variable.
 */
export function workerSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  memory: () => { mb: number; source: MemorySource } = () => availableMemoryMb(),
): WorkerSettings {
  // An empty variable counts as unset.
  const present = Object.fromEntries(
    Object.values(WorkerVariables).map((name) => [name, env[name] || undefined]),
  );
  const parsed = workerEnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new WorkerSettingsError(`${name}=${env[name]}: ${issue.message}`);
  }
  const values = parsed.data;
  const budget =
    values.CONVOY_WORKER_MEMORY_MB !== undefined
      ? { mb: values.CONVOY_WORKER_MEMORY_MB, source: WorkerVariables.memoryMb }
      : undefined;
  const cache =
    values.CONVOY_MAX_CACHED_WORKFLOWS !== undefined
      ? { maxCachedWorkflows: values.CONVOY_MAX_CACHED_WORKFLOWS, sizing: WorkerVariables.maxCachedWorkflows }
      : ((b) => ({ maxCachedWorkflows: cachedWorkflowsFor(b.mb), sizing: `${b.mb} MiB (${b.source})` }))(
          budget ?? memory(),
        );
  return {
    taskQueue: values.TEMPORAL_TASK_QUEUE,
    ...cache,
    ...optional('maxConcurrentActivities', values.CONVOY_MAX_CONCURRENT_ACTIVITIES),
    ...optional('maxConcurrentWorkflowTasks', values.CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS),
    ...optional('healthPort', values.CONVOY_HEALTH_PORT),
    ...optional('metricsPort', values.CONVOY_METRICS_PORT),
    shutdownGraceMs: values.CONVOY_SHUTDOWN_GRACE_MS,
    logFormat: values.CONVOY_LOG_FORMAT,
  };
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
