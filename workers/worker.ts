/**
 * The worker entry point our container image runs (`node dist/workers/worker.js`): the same as
 * `convoy worker`, configured by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE.
 */
import { runWorkerFromEnv } from '../src/worker/run-worker';
import { WorkerSettingsError } from '../src/worker/settings';
import { CodecSettingsError } from '../src/codec/settings';

runWorkerFromEnv((line) => process.stderr.write(`${line}\n`)).catch((error: unknown) => {
  process.stderr.write(`convoy worker: ${error instanceof Error ? error.message : String(error)}\n`);
  // 2: a bad CONVOY_* setting (nothing started); 3: Temporal unreachable or another failure.
  process.exit(error instanceof WorkerSettingsError || error instanceof CodecSettingsError ? 2 : 3);
});
