/**
 * The worker entry point our container image runs (`node dist/workers/worker.js`): the same as
 * `convoy worker`, configured by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE.
 */
import { runWorkerFromEnv } from '../src/worker/run-worker';

runWorkerFromEnv((line) => process.stderr.write(`${line}\n`)).catch((error: unknown) => {
  process.stderr.write(`convoy worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(3);
});
