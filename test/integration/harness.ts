/**
 * Shared helpers for integration tests: a client and a Convoy worker on the dev server that
 * global-setup.ts started, each test file on its own task queue so files can run in parallel.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { createConvoyWorker } from '../../src/temporal/worker';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed already in this jest worker
  }
}

/** The address of the run's dev server. */
export function testServerAddress(): string {
  const address = process.env.CONVOY_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('integration tests need the jest globalSetup (run them through `npm test`)');
  return address;
}

export interface TestEnv {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  taskQueue: string;
  /** Starts a Convoy worker on this file's task queue; returns it running. */
  startWorker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

let queueCounter = 0;
/** Connects to the run's dev server with a task queue unique to the caller. */
export async function connectTestEnv(name: string): Promise<TestEnv> {
  quietRuntime();
  const address = testServerAddress();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `test-${name}-${process.pid}-${++queueCounter}`;
  const workers = new Set<RunningWorker>();
  return {
    client,
    connection,
    nativeConnection,
    taskQueue,
    async startWorker() {
      const worker = await createConvoyWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundlePath: process.env.CONVOY_TEST_WORKFLOW_BUNDLE,
      });
      const running = worker.run();
      const handle: RunningWorker = {
        worker,
        async stop() {
          workers.delete(handle);
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      };
      workers.add(handle);
      return handle;
    },
    async close() {
      for (const w of [...workers]) await w.stop();
      await connection.close();
      await nativeConnection.close();
    },
  };
}
