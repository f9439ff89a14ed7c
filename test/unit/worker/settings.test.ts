/** How `convoy worker` sizes its workflow cache, and how it rejects bad settings. */
import {
  MIN_CACHED_WORKFLOWS,
  RSS_PER_CACHED_WORKFLOW_MB,
  WORKER_BASELINE_RSS_MB,
  availableMemoryMb,
  cachedWorkflowsFor,
} from '../../../src/worker/sizing';
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  WorkerSettingsError,
  workerSettingsFromEnv,
} from '../../../src/worker/settings';

const GiB = 2 ** 30;

test('the cache fills 80% of the memory after the baseline, at the measured cost per workflow', () => {
  expect(cachedWorkflowsFor(1024)).toBe(
    Math.floor((1024 * 0.8 - WORKER_BASELINE_RSS_MB) / RSS_PER_CACHED_WORKFLOW_MB),
  );
  expect(cachedWorkflowsFor(2048)).toBeGreaterThan(2 * cachedWorkflowsFor(1024));
  expect(cachedWorkflowsFor(128)).toBe(MIN_CACHED_WORKFLOWS);
  // The planned RSS of a full cache stays inside the budget.
  for (const mb of [512, 1024, 2048, 8192]) {
    expect(WORKER_BASELINE_RSS_MB + cachedWorkflowsFor(mb) * RSS_PER_CACHED_WORKFLOW_MB).toBeLessThanOrEqual(
      mb * 0.8,
    );
  }
});

test('the container limit counts when there is one; Node reports 2^64 when there is none', () => {
  expect(availableMemoryMb(GiB, 24 * GiB)).toEqual({ mb: 1024, source: 'container limit' });
  expect(availableMemoryMb(2 ** 64, 24 * GiB)).toEqual({ mb: 24 * 1024, source: 'host memory' });
  expect(availableMemoryMb(undefined, 8 * GiB)).toEqual({ mb: 8192, source: 'host memory' });
  expect(availableMemoryMb(0, 8 * GiB)).toEqual({ mb: 8192, source: 'host memory' });
});

test('settings: an explicit cache size wins, then CONVOY_WORKER_MEMORY_MB, then the measured memory', () => {
  const memory = () => ({ mb: 2048, source: 'container limit' as const });
  expect(
    workerSettingsFromEnv({ CONVOY_MAX_CACHED_WORKFLOWS: '42', CONVOY_WORKER_MEMORY_MB: '512' }, memory),
  ).toMatchObject({
    maxCachedWorkflows: 42,
    sizing: 'CONVOY_MAX_CACHED_WORKFLOWS',
  });
  expect(workerSettingsFromEnv({ CONVOY_WORKER_MEMORY_MB: '1024' }, memory)).toMatchObject({
    maxCachedWorkflows: cachedWorkflowsFor(1024),
    sizing: '1024 MiB (CONVOY_WORKER_MEMORY_MB)',
  });
  expect(workerSettingsFromEnv({}, memory)).toMatchObject({
    maxCachedWorkflows: cachedWorkflowsFor(2048),
    sizing: '2048 MiB (container limit)',
  });
});

test('settings: defaults when unset (empty counts as unset), every value when set', () => {
  const memory = () => ({ mb: 2048, source: 'container limit' as const });
  expect(workerSettingsFromEnv({ CONVOY_HEALTH_PORT: '', TEMPORAL_TASK_QUEUE: '' }, memory)).toEqual({
    taskQueue: 'convoy',
    maxCachedWorkflows: cachedWorkflowsFor(2048),
    sizing: '2048 MiB (container limit)',
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
    sizing: 'CONVOY_MAX_CACHED_WORKFLOWS',
    maxConcurrentActivities: 50,
    maxConcurrentWorkflowTasks: 20,
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
  expect(() => workerSettingsFromEnv({ [name]: value })).toThrow(new WorkerSettingsError(message));
});
