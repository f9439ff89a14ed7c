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
import { DEFAULT_CGROUP_ROOT, MemoryLimitError, readMemoryLimit, type MemoryLimit } from './memory-limit';
import { MEASURED_COSTS, sizeWorker, type WorkerCapacity, type WorkerSizing } from './sizing';

/** The environment variables of `convoy worker`, by setting. */
export const WorkerVariables = {
  taskQueue: TASK_QUEUE_VARIABLE,
  memoryMb: 'CONVOY_WORKER_MEMORY_MB',
  /** Where the cgroup files are (default /sys/fs/cgroup); the image's entry point reads it too. */
  cgroupRoot: 'CONVOY_CGROUP_ROOT',
  /** The memory one running step may take (its processes), for sizing the step slots. */
  stepMemoryMb: 'CONVOY_STEP_MEMORY_MB',
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
  [WorkerVariables.cgroupRoot]: z.string().default(DEFAULT_CGROUP_ROOT),
  [WorkerVariables.stepMemoryMb]: positiveInteger('megabytes').optional(),
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

/** Where a derived or explicit value came from: the memory rule, or the variable that set it. */
export type SizingChoice =
  | 'memory'
  | (typeof WorkerVariables)['maxCachedWorkflows' | 'maxConcurrentActivities' | 'maxConcurrentWorkflowTasks'];

/** How the worker was sized, for its log line and its readiness body. */
export interface SizingReport extends WorkerSizing {
  /** Where the limit came from: `CONVOY_WORKER_MEMORY_MB`, `cgroup v2 /sys/fs/cgroup/memory.max`, `host memory, ...`. */
  readonly source: string;
  /** The memory planned per running step. */
  readonly stepMemoryMb: number;
  readonly chosenBy: { readonly [K in keyof WorkerCapacity]: SizingChoice };
}

/** What `convoy worker` runs with, and why. */
export interface WorkerSettings {
  readonly taskQueue: string;
  readonly maxCachedWorkflows: number;
  readonly maxConcurrentActivities: number;
  readonly maxConcurrentWorkflowTasks: number;
  /** How the three above were chosen. */
  readonly sizing: SizingReport;
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
 * Reads the worker's variables ({@link WorkerVariables}). The cache and the workflow-task and
 * step slots are the explicit `CONVOY_MAX_*` values where set, and otherwise derived
 * ({@link sizeWorker}) from `CONVOY_WORKER_MEMORY_MB`, else the container's memory limit
 * (`readLimit`, reading the cgroup files under `CONVOY_CGROUP_ROOT`), else the host's memory.
 * @throws {@link WorkerSettingsError} naming the first bad variable, or an unreadable cgroup file.
 */
export function workerSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  readLimit: (cgroupRoot: string) => MemoryLimit = readMemoryLimit,
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
  const limit =
    values.CONVOY_WORKER_MEMORY_MB !== undefined
      ? { bytes: values.CONVOY_WORKER_MEMORY_MB * 2 ** 20, source: WorkerVariables.memoryMb }
      : readLimitOrThrow(readLimit, values.CONVOY_CGROUP_ROOT);
  const explicit = {
    maxCachedWorkflows: values.CONVOY_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivityTaskExecutions: values.CONVOY_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: values.CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS,
  };
  const stepMemoryMb = values.CONVOY_STEP_MEMORY_MB ?? MEASURED_COSTS.perStepMb;
  const sized = sizeWorker(
    limit.bytes,
    Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)),
    { ...MEASURED_COSTS, perStepMb: stepMemoryMb },
  );
  const chosenBy = (value: number | undefined, variable: Exclude<SizingChoice, 'memory'>): SizingChoice =>
    value === undefined ? 'memory' : variable;
  return {
    taskQueue: values.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: sized.maxCachedWorkflows,
    maxConcurrentActivities: sized.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTasks: sized.maxConcurrentWorkflowTaskExecutions,
    sizing: {
      ...sized,
      source: limit.source,
      stepMemoryMb,
      chosenBy: {
        maxCachedWorkflows: chosenBy(explicit.maxCachedWorkflows, WorkerVariables.maxCachedWorkflows),
        maxConcurrentActivityTaskExecutions: chosenBy(
          explicit.maxConcurrentActivityTaskExecutions,
          WorkerVariables.maxConcurrentActivities,
        ),
        maxConcurrentWorkflowTaskExecutions: chosenBy(
          explicit.maxConcurrentWorkflowTaskExecutions,
          WorkerVariables.maxConcurrentWorkflowTasks,
        ),
      },
    },
    ...optional('healthPort', values.CONVOY_HEALTH_PORT),
    ...optional('metricsPort', values.CONVOY_METRICS_PORT),
    shutdownGraceMs: values.CONVOY_SHUTDOWN_GRACE_MS,
    logFormat: values.CONVOY_LOG_FORMAT,
  };
}

/** The worker's memory limit; a cgroup file it cannot make sense of stops the worker like a bad variable. */
function readLimitOrThrow(readLimit: (cgroupRoot: string) => MemoryLimit, cgroupRoot: string): MemoryLimit {
  try {
    return readLimit(cgroupRoot);
  } catch (error) {
    if (error instanceof MemoryLimitError) throw new WorkerSettingsError(error.message, { cause: error });
    throw error;
  }
}

/**
 * One line on how the worker was sized: the limit and where it came from, the memory planned
 * of the budget, and each value with what chose it.
 */
export function describeSizing(sizing: SizingReport): string {
  const why = (key: keyof WorkerCapacity) =>
    sizing.chosenBy[key] === 'memory' ? 'from memory' : `set by ${sizing.chosenBy[key]}`;
  return (
    `sized for ${sizing.limitMb} MiB (${sizing.source}): ` +
    `${sizing.maxCachedWorkflows} cached workflows (${why('maxCachedWorkflows')}), ` +
    `${sizing.maxConcurrentWorkflowTaskExecutions} workflow tasks (${why('maxConcurrentWorkflowTaskExecutions')}), ` +
    `${sizing.maxConcurrentActivityTaskExecutions} steps at ${sizing.stepMemoryMb} MiB each (${why('maxConcurrentActivityTaskExecutions')}), ` +
    `plan ${sizing.plannedMb} of ${sizing.budgetMb} MiB` +
    (sizing.fits
      ? ''
      : ': more than the budget, the kernel may kill the worker; raise the limit or lower the values')
  );
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
