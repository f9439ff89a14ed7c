/**
 * Workers in a process of their own, started by the benchmark runner (bench/worker-host.ts) with
 * `child_process.fork`, so that their memory can be read on its own (/proc/<pid>/status) and
 * their CPU does not share an event loop with the runner's client. The process runs Convoy's
 * worker, the raw floor's (bench/floor-workflows.ts), or both side by side on one connection:
 * Convoy and its floor are then measured in the same process.
 *
 * Configuration comes in the environment:
 *   BENCH_ADDRESS, BENCH_NAMESPACE, BENCH_TASK_QUEUE
 *   BENCH_CONVOY_BUNDLE  Convoy's workflow bundle: its worker polls BENCH_TASK_QUEUE
 *   BENCH_FLOOR_BUNDLE   the floor's bundle: its worker polls rawTaskQueue(BENCH_TASK_QUEUE)
 *   BENCH_WORKER_MEMORY_MB  when set, Convoy's worker is sized for that limit as `convoy worker` is
 * It reports `{type:'ready'}` over IPC once polling, and on `{type:'stop'}` shuts down and
 * reports `{type:'stopped', peakRssMb}` before exiting.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createConvoyWorker, installQuietRuntime } from '../src/worker/worker';
import * as floorActivities from './floor-activities';
import { podTuning } from './manifest-memory';
import { peakRssMb } from './proc';
import { MEMORY_LIMIT_VARIABLE, rawTaskQueue } from './worker-host';

/**
 * Worker options for the benchmarks: enough slots, and cache for the largest barrier (2,000
 * participants and their parent) with room to spare, so no workflow is evicted and replayed.
 */
export const benchWorkerTuning: Partial<WorkerOptions> = {
  maxCachedWorkflows: 2200,
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
  const convoyBundle = process.env.BENCH_CONVOY_BUNDLE;
  const floorBundle = process.env.BENCH_FLOOR_BUNDLE;
  const memoryMb = process.env[MEMORY_LIMIT_VARIABLE];
  const connection = await NativeConnection.connect({ address });
  const workers: Worker[] = [];
  if (convoyBundle)
    workers.push(
      await createConvoyWorker({
        connection,
        namespace,
        taskQueue,
        workflowBundlePath: convoyBundle,
        tuning: memoryMb
          ? { ...benchWorkerTuning, ...podTuning(taskQueue, Number(memoryMb)) }
          : benchWorkerTuning,
      }),
    );
  if (floorBundle)
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: rawTaskQueue(taskQueue),
        workflowBundle: { codePath: floorBundle },
        activities: floorActivities,
        ...benchWorkerTuning,
      }),
    );
  if (!workers.length)
    throw new Error('worker-process: neither BENCH_CONVOY_BUNDLE nor BENCH_FLOOR_BUNDLE is set');
  const running = Promise.all(workers.map((w) => w.run()));
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
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
