/**
 * A worker in a process of its own, started by the benchmark runner (bench/worker-host.ts) with
 * `child_process.fork`, so that its memory can be read on its own (/proc/<pid>/status) and its
 * CPU does not share an event loop with the runner's client.
 *
 * Configuration comes in the environment:
 *   BENCH_ADDRESS, BENCH_NAMESPACE, BENCH_TASK_QUEUE,
 *   BENCH_KIND      `convoy` (Convoy's workflows and activities) or `floor` (bench/floor-workflows.ts)
 *   BENCH_BUNDLE    path of the workflow bundle to load
 * It reports `{type:'ready'}` over IPC once polling, and on `{type:'stop'}` shuts down and
 * reports `{type:'stopped', peakRssMb}` before exiting.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createConvoyWorker, installQuietRuntime } from '../src/worker/worker';
import { peakRssMb } from './proc';

/** Worker options for the benchmarks: enough slots and cache for 500 children and their parent. */
export const benchWorkerTuning: Partial<WorkerOptions> = {
  maxCachedWorkflows: 1200,
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentActivityTaskExecutions: 100,
  shutdownGraceTime: '5s',
};

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'stopped'; peakRssMb: number | undefined }
  | { type: 'error'; message: string };

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`worker-process: ${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  installQuietRuntime('ERROR');
  const address = requireEnv('BENCH_ADDRESS');
  const namespace = requireEnv('BENCH_NAMESPACE');
  const taskQueue = requireEnv('BENCH_TASK_QUEUE');
  const kind = requireEnv('BENCH_KIND');
  const bundle = requireEnv('BENCH_BUNDLE');
  const connection = await NativeConnection.connect({ address });
  const worker =
    kind === 'convoy'
      ? await createConvoyWorker({
          connection,
          namespace,
          taskQueue,
          workflowBundlePath: bundle,
          tuning: benchWorkerTuning,
        })
      : await Worker.create({
          connection,
          namespace,
          taskQueue,
          workflowBundle: { codePath: bundle },
          ...benchWorkerTuning,
        });
  const running = worker.run();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close().catch(() => undefined);
    send({ type: 'stopped', peakRssMb: peakRssMb('self') });
    process.exit(0);
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  running.catch((error: unknown) => {
    send({
      type: 'error',
      message: `worker stopped: ${error instanceof Error ? error.message : String(error)}`,
    });
    process.exit(1);
  });
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
