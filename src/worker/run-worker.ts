/** `convoy worker`: the long-running worker process Kubernetes runs. */
import { getHeapStatistics } from 'node:v8';
import { NativeConnection, Runtime, type Logger } from '@temporalio/worker';
import { TemporalUnreachableError } from '../connection/errors';
import { unreachableCause } from '../connection/diagnose';
import { prebuiltWorkflowBundle } from './bundle';
import {
  connectionOptions,
  describeConnection,
  resolveTemporalConnection,
  type ConnectionOverrides,
} from '../connection/config';
import { createWorkerLogger } from './logging';
import { startHealthServer, WorkerHealth } from './health';
import { WorkerVariables, describeSizing, workerSettingsFromEnv, type WorkerSettings } from './settings';
import { createConvoyWorker } from './worker';
import { encryptionCodecFromEnv, payloadCodecsFromEnv } from '../codec/settings';

/** Installs the SDK runtime: the worker's logger for core and SDK logs, and the Prometheus exporter. */
function installRuntime(settings: WorkerSettings, logger: Logger): void {
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'INFO', other: 'INFO' } },
      ...(settings.metricsPort !== undefined
        ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${settings.metricsPort}` } } }
        : {}),
    },
  });
}

/**
 * Reads the settings and the connection (both validated before anything starts), connects, and
 * runs the worker until SIGINT/SIGTERM. Then readiness turns false and the SDK drains: in-flight
 * tasks get `CONVOY_SHUTDOWN_GRACE_MS` to finish before activities are cancelled (and kill their
 * process groups); the promise resolves once the worker has stopped.
 */
export async function runWorkerFromEnv(overrides: ConnectionOverrides = {}): Promise<void> {
  const env = overrides.env ?? process.env;
  const settings = workerSettingsFromEnv(env);
  const connectionConfig = resolveTemporalConnection(overrides);
  const codec = encryptionCodecFromEnv(env);
  const logger = createWorkerLogger(settings.logFormat);
  installRuntime(settings, logger);

  const health = new WorkerHealth({ sizing: settings.sizing });
  const healthServer =
    settings.healthPort === undefined ? undefined : await listenForProbes(settings.healthPort, health);
  try {
    let connection: NativeConnection;
    try {
      connection = await NativeConnection.connect(connectionOptions(connectionConfig));
    } catch (error) {
      const reason = await unreachableCause(connectionConfig, error);
      throw new TemporalUnreachableError(
        `cannot reach Temporal at ${describeConnection(connectionConfig)}: ${reason}`,
        { cause: error },
      );
    }
    try {
      // Once connected: a worker that cannot connect says so in one line and nothing else.
      (settings.sizing.fits ? logger.info : logger.warn).call(
        logger,
        `convoy worker ${describeSizing(settings.sizing)}`,
        { sizing: settings.sizing },
      );
      const worker = await createConvoyWorker({
        connection,
        namespace: connectionConfig.namespace,
        taskQueue: settings.taskQueue,
        workflowBundlePath: prebuiltWorkflowBundle(),
        tuning: {
          shutdownGraceTime: settings.shutdownGraceMs,
          maxCachedWorkflows: settings.maxCachedWorkflows,
          maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
          maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
          dataConverter: { payloadCodecs: payloadCodecsFromEnv(env) },
        },
      });
      health.attach(worker);
      const endpoints = [
        healthServer ? `health :${healthServer.port}` : undefined,
        settings.metricsPort !== undefined ? `metrics :${settings.metricsPort}` : undefined,
      ].filter(Boolean);
      logger.info(
        `convoy worker polling ${describeConnection(connectionConfig)}, task queue ${settings.taskQueue}; ` +
          `caching up to ${settings.maxCachedWorkflows} workflows for ${settings.sizing.limitMb} MiB (${settings.sizing.source}); ` +
          `V8 heap ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MiB` +
          (endpoints.length > 0 ? `; ${endpoints.join(', ')}` : '') +
          (codec ? `; encrypting payloads with key ${codec.keyId}` : ''),
      );
      await worker.run();
      logger.info('convoy worker stopped');
    } finally {
      await connection.close();
    }
  } finally {
    health.stop();
    await healthServer?.close();
  }
}

async function listenForProbes(port: number, health: WorkerHealth) {
  try {
    return await startHealthServer(port, health);
  } catch (error) {
    throw new Error(
      `${WorkerVariables.healthPort}=${port}: cannot listen (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}
