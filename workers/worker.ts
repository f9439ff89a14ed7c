/**
 * The worker as a script of its own (`node dist/workers/worker.js`; the image runs
 * `convoy worker`, which is the same): ready for process managers and tests, it exits 0 once
 * drained — Temporal found as the `temporal` CLI finds it (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE), Convoy's settings from
 * TEMPORAL_TASK_QUEUE and CONVOY_* (src/worker/settings.ts).
 */
import { TemporalConfigError } from '../src/connection/errors';
import { runWorkerFromEnv } from '../src/worker/run-worker';
import { WorkerSettingsError } from '../src/worker/settings';
import { CodecSettingsError } from '../src/codec/settings';

runWorkerFromEnv().then(
  // The SDK's native runtime may keep handles open after the worker stopped: exit explicitly.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`convoy worker: ${error instanceof Error ? error.message : String(error)}\n`);
    // 2: a bad setting (nothing started); 3: Temporal unreachable or another failure.
    const badSetting =
      error instanceof WorkerSettingsError ||
      error instanceof TemporalConfigError ||
      error instanceof CodecSettingsError;
    process.exit(badSetting ? 2 : 3);
  },
);
