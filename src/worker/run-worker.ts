/** `convoy worker`: the long-running worker process Kubernetes runs. */
import { NativeConnection } from '@temporalio/worker';
import { TemporalUnreachableError } from '../connection/errors';
import { diagnoseUnreachable } from '../connection/diagnose';
import { prebuiltWorkflowBundle } from './bundle';
import { temporalConfigFromEnv } from '../connection/config';
import { workerSettingsFromEnv } from './settings';
import { createConvoyWorker, installQuietRuntime } from './worker';

/**
 * Connects to `TEMPORAL_ADDRESS` and runs the worker until SIGINT/SIGTERM, when the SDK drains
 * in-flight tasks (activities get cancelled and kill their process groups) before it exits.
 */
export async function runWorkerFromEnv(log: (line: string) => void): Promise<void> {
  installQuietRuntime('INFO');
  const settings = workerSettingsFromEnv();
  const config = temporalConfigFromEnv();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.address });
  } catch (error) {
    const cause = await diagnoseUnreachable(config.address);
    throw new TemporalUnreachableError(`cannot reach Temporal at ${config.address}: ${cause}`, {
      cause: error,
    });
  }
  const worker = await createConvoyWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundlePath: prebuiltWorkflowBundle(),
    tuning: { shutdownGraceTime: '30s', maxCachedWorkflows: settings.maxCachedWorkflows },
  });
  log(
    `convoy worker polling ${config.address}, namespace ${config.namespace}, task queue ${config.taskQueue}; ` +
      `caching up to ${settings.maxCachedWorkflows} workflows for ${settings.sizing}`,
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}
