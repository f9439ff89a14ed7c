/**
 * `--embedded`: a real Temporal dev server and an in-process Convoy worker for one command.
 */
import type { Client } from '@temporalio/client';
import { Client as TemporalClient } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { startDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { createConvoyWorker, installQuietRuntime } from '../worker/worker';
import { prebuiltWorkflowBundle } from '../worker/bundle';
import { payloadCodecsFromEnv } from '../codec/settings';

/** A running embedded environment. */
export interface EmbeddedTemporal {
  server: DevServer;
  client: Client;
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * Starts a dev server (through the CLI provisioning module) and runs a worker against it. The
 * caller owns SIGINT and SIGTERM: it must call `stop()`, which stops the worker first, then the
 * server (a server stopped under a running worker makes the SDK retry loudly).
 */
export async function startEmbedded(
  options: DevServerOptions & { taskQueue?: string; log?: (line: string) => void } = {},
): Promise<EmbeddedTemporal> {
  installQuietRuntime('ERROR', { shutdownSignals: [] });
  const payloadCodecs = payloadCodecsFromEnv();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = await startDevServer({ ...options, resolve: { log, ...options.resolve } });
  log(`embedded Temporal dev server at ${server.address}, Web UI ${server.uiUrl}`);
  const taskQueue = options.taskQueue ?? 'convoy';
  const worker = await createConvoyWorker({
    connection: server.env.nativeConnection,
    namespace: server.namespace,
    taskQueue,
    workflowBundlePath: prebuiltWorkflowBundle(),
    tuning: { dataConverter: { payloadCodecs } },
  });
  const running = worker.run();
  const client = new TemporalClient({
    connection: server.env.connection,
    namespace: server.namespace,
    dataConverter: { payloadCodecs },
  });
  return {
    server,
    client,
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await server.stop();
    },
  };
}
