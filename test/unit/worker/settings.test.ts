/** How `convoy worker` sizes itself from its settings and memory limit, and how it rejects bad settings. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLimitError } from '../../../src/worker/memory-limit';
import { MEASURED_COSTS, sizeWorker } from '../../../src/worker/sizing';
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  WorkerSettingsError,
  describeSizing,
  workerSettingsFromEnv,
} from '../../../src/worker/settings';

const MiB = 2 ** 20;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
const GiB = 2 ** 30;
const container = (bytes: number) => () => ({ bytes, source: 'cgroup v2 /sys/fs/cgroup/memory.max' });

test('derived from the container limit unless set: the cache and both kinds of slots', () => {
  const settings = workerSettingsFromEnv({}, container(2 * GiB));
  const rule = sizeWorker(2 * GiB);
  expect(settings).toMatchObject({
    maxCachedWorkflows: rule.maxCachedWorkflows,
    maxConcurrentActivities: rule.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTasks: rule.maxConcurrentWorkflowTaskExecutions,
    sizing: {
      ...rule,
      source: 'cgroup v2 /sys/fs/cgroup/memory.max',
      stepMemoryMb: MEASURED_COSTS.perStepMb,
      chosenBy: {
        maxCachedWorkflows: 'memory',
        maxConcurrentActivityTaskExecutions: 'memory',
        maxConcurrentWorkflowTaskExecutions: 'memory',
      },
    },
  });
  expect(describeSizing(settings.sizing)).toBe(
    `sized for 2048 MiB (cgroup v2 /sys/fs/cgroup/memory.max): ${rule.maxCachedWorkflows} cached workflows (from memory), ` +
      `${rule.maxConcurrentWorkflowTaskExecutions} workflow tasks (from memory), ` +
      `${rule.maxConcurrentActivityTaskExecutions} steps at 10 MiB each (from memory), plan ${rule.plannedMb} of 1638.4 MiB`,
  );
});

test('explicit values win; CONVOY_WORKER_MEMORY_MB wins over the container limit; CONVOY_STEP_MEMORY_MB prices the step slots', () => {
  const explicit = workerSettingsFromEnv(
    { CONVOY_MAX_CACHED_WORKFLOWS: '42', CONVOY_MAX_CONCURRENT_ACTIVITIES: '7' },
    container(2 * GiB),
  );
  expect(explicit).toMatchObject({
    maxCachedWorkflows: 42,
    maxConcurrentActivities: 7,
    maxConcurrentWorkflowTasks: sizeWorker(2 * GiB).maxConcurrentWorkflowTaskExecutions,
    sizing: {
      chosenBy: {
        maxCachedWorkflows: 'CONVOY_MAX_CACHED_WORKFLOWS',
        maxConcurrentActivityTaskExecutions: 'CONVOY_MAX_CONCURRENT_ACTIVITIES',
        maxConcurrentWorkflowTaskExecutions: 'memory',
      },
    },
  });
  expect(describeSizing(explicit.sizing)).toContain(
    '42 cached workflows (set by CONVOY_MAX_CACHED_WORKFLOWS)',
  );

  const unread = () => {
    throw new Error('the cgroup must not be read when CONVOY_WORKER_MEMORY_MB is set');
  };
  expect(workerSettingsFromEnv({ CONVOY_WORKER_MEMORY_MB: '1024' }, unread)).toMatchObject({
    maxCachedWorkflows: sizeWorker(GiB).maxCachedWorkflows,
    sizing: { limitMb: 1024, source: 'CONVOY_WORKER_MEMORY_MB' },
  });

  const heavySteps = workerSettingsFromEnv({ CONVOY_STEP_MEMORY_MB: '50' }, container(2 * GiB));
  const rule = sizeWorker(2 * GiB, {}, { ...MEASURED_COSTS, perStepMb: 50 });
  expect(heavySteps.maxConcurrentActivities).toBe(rule.maxConcurrentActivityTaskExecutions);
  expect(heavySteps.maxConcurrentActivities).toBeLessThan(
    sizeWorker(2 * GiB).maxConcurrentActivityTaskExecutions,
  );
  expect(heavySteps.sizing.stepMemoryMb).toBe(50);
});

test('the cgroup files are read under CONVOY_CGROUP_ROOT; a bad one stops the worker naming the file', () => {
  const root = mkdtempSync(join(tmpdir(), 'convoy-cgroup-'));
  try {
    writeFileSync(join(root, 'memory.max'), `${768 * MiB}\n`);
    expect(workerSettingsFromEnv({ CONVOY_CGROUP_ROOT: root })).toMatchObject({
      maxCachedWorkflows: sizeWorker(768 * MiB).maxCachedWorkflows,
      sizing: { limitMb: 768, source: `cgroup v2 ${join(root, 'memory.max')}` },
    });
    writeFileSync(join(root, 'memory.max'), 'plenty\n');
    const error = thrown(() => workerSettingsFromEnv({ CONVOY_CGROUP_ROOT: root }));
    expect(error).toBeInstanceOf(WorkerSettingsError);
    expect(error.message).toBe(`${join(root, 'memory.max')}: expected a byte count or "max", got "plenty"`);
    expect(error.cause).toBeInstanceOf(MemoryLimitError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('settings: defaults when unset (empty counts as unset), every value when set', () => {
  const memory = container(2 * GiB);
  const rule = sizeWorker(2 * GiB);
  expect(workerSettingsFromEnv({ CONVOY_HEALTH_PORT: '', TEMPORAL_TASK_QUEUE: '' }, memory)).toEqual({
    taskQueue: 'convoy',
    maxCachedWorkflows: rule.maxCachedWorkflows,
    maxConcurrentActivities: rule.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTasks: rule.maxConcurrentWorkflowTaskExecutions,
    sizing: expect.objectContaining({ limitMb: 2048 }),
    shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS,
    logFormat: 'text',
  });
  expect(
    workerSettingsFromEnv(
      {
        TEMPORAL_TASK_QUEUE: 'deploys',
        CONVOY_MAX_CACHED_WORKFLOWS: '100',
        CONVOY_MAX_CONCURRENT_ACTIVITIES: '50',
        CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS: '20',
        CONVOY_HEALTH_PORT: '8080',
        CONVOY_METRICS_PORT: '9464',
        CONVOY_SHUTDOWN_GRACE_MS: '45000',
        CONVOY_LOG_FORMAT: 'json',
      },
      memory,
    ),
  ).toEqual({
    taskQueue: 'deploys',
    maxCachedWorkflows: 100,
    maxConcurrentActivities: 50,
    maxConcurrentWorkflowTasks: 20,
    sizing: expect.objectContaining({ limitMb: 2048, fits: true }),
    healthPort: 8080,
    metricsPort: 9464,
    shutdownGraceMs: 45000,
    logFormat: 'json',
  });
});

test.each([
  [
    'CONVOY_MAX_CACHED_WORKFLOWS',
    'lots',
    'CONVOY_MAX_CACHED_WORKFLOWS=lots: expected a number of workflows (a positive integer)',
  ],
  [
    'CONVOY_MAX_CACHED_WORKFLOWS',
    '0',
    'CONVOY_MAX_CACHED_WORKFLOWS=0: expected a number of workflows (a positive integer)',
  ],
  ['CONVOY_WORKER_MEMORY_MB', '1.5', 'CONVOY_WORKER_MEMORY_MB=1.5: expected megabytes (a positive integer)'],
  ['CONVOY_STEP_MEMORY_MB', '0', 'CONVOY_STEP_MEMORY_MB=0: expected megabytes (a positive integer)'],
  ['CONVOY_HEALTH_PORT', '70000', 'CONVOY_HEALTH_PORT=70000: expected a TCP port (1-65535)'],
  ['CONVOY_METRICS_PORT', 'http', 'CONVOY_METRICS_PORT=http: expected a TCP port (1-65535)'],
  [
    'CONVOY_SHUTDOWN_GRACE_MS',
    '-5',
    'CONVOY_SHUTDOWN_GRACE_MS=-5: expected milliseconds (a positive integer)',
  ],
  ['CONVOY_LOG_FORMAT', 'xml', 'CONVOY_LOG_FORMAT=xml: expected text or json'],
  [
    'CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS',
    '1',
    'CONVOY_MAX_CONCURRENT_WORKFLOW_TASKS=1: expected at least 2',
  ],
  [
    'CONVOY_MAX_CONCURRENT_ACTIVITIES',
    'all',
    'CONVOY_MAX_CONCURRENT_ACTIVITIES=all: expected a number of activities (a positive integer)',
  ],
  [
    'TEMPORAL_TASK_QUEUE',
    'x'.repeat(1001),
    `TEMPORAL_TASK_QUEUE=${'x'.repeat(1001)}: Too big: expected string to have <=1000 characters`,
  ],
])('a bad %s=%s is rejected naming the variable', (name, value, message) => {
  expect(() => workerSettingsFromEnv({ [name]: value }, container(2 * GiB))).toThrow(
    new WorkerSettingsError(message),
  );
});
