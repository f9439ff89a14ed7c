/** Starts and stops bench/worker-process.ts as a separate Node process. */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseStatusFieldMb, peakRssMb } from './proc';
import { readFileSync } from 'node:fs';
import { workerSettingsFromEnv, WorkerVariables } from '../src/worker/settings';
import { V8_HEAP_PERCENT } from '../src/worker/sizing';
import type { WorkerMessage } from './worker-process';

export interface WorkerProcessOptions {
  address: string;
  namespace: string;
  /** Convoy's worker polls this queue; the floor's polls {@link rawTaskQueue} of it. */
  taskQueue: string;
  /** Convoy's workflow bundle: runs Convoy's worker when given. */
  convoyBundle?: string;
  /** The floor's workflow bundle (bench/floor.ts): runs the floor's worker when given. */
  floorBundle?: string;
  /**
   * Run the worker as a pod with this memory limit (MiB) would: V8's old space at
   * `CONVOY_V8_HEAP_PERCENT` (default {@link V8_HEAP_PERCENT}) of it, as workers/entrypoint.sh sets it, and the cache and slots that
   * the worker's sizing rule gives it (src/worker/settings.ts, as `convoy worker` does). Without
   * it, the worker gets {@link WORKER_HEAP_MB} and the benchmarks' fixed tuning.
   */
  memoryLimitMb?: number;
}

/** Tells worker-process.ts the limit to size itself for ({@link WorkerProcessOptions.memoryLimitMb}). */
export const MEMORY_LIMIT_VARIABLE = 'BENCH_WORKER_MEMORY_MB';

/** The task queue of the floor's worker next to Convoy's on `taskQueue`. */
export function rawTaskQueue(taskQueue: string): string {
  return `${taskQueue}-raw`;
}

/**
 * V8's heap limit of the worker process (MiB), for every thread in it: the largest barrier keeps
 * 2,000 workflows in the cache, several GiB, above the default limit (about 4 GiB here).
 */
const WORKER_HEAP_MB = 12_288;

export interface WorkerProcess {
  pid: number;
  /** VmHWM of the live process, in MiB. */
  peakRssMb(): number | undefined;
  /** VmRSS of the live process, in MiB. */
  rssMb(): number | undefined;
  /** Rejects if the process exits before `stop()` was called (a crashed workflow thread takes it down). */
  crashed: Promise<never>;
  /** Shuts the worker down; resolves with its own last VmHWM reading. */
  stop(): Promise<number | undefined>;
}

/**
 * The share of a pod's limit its entry point gives V8's old space: `CONVOY_V8_HEAP_PERCENT` of
 * the runner's environment when set (checked as the worker checks it), else the default.
 */
export function podHeapPercent(env: NodeJS.ProcessEnv = process.env): number {
  const variable = WorkerVariables.v8HeapPercent;
  if (!env[variable]) return V8_HEAP_PERCENT;
  // The worker's own check of the variable: a bad value stops the run naming it.
  workerSettingsFromEnv({ [WorkerVariables.taskQueue]: 'bench', [variable]: env[variable] });
  return Number(env[variable]);
}

/** Runs the compiled worker-process.js next to this file (the runner runs from dist-bench/bench). */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const script = join(__dirname, 'worker-process.js');
  if (!existsSync(script))
    throw new Error(`${script} is missing: run the benchmarks compiled (npm run bench)`);
  // The entry point's arithmetic: whole MiB of the limit, times the percentage.
  const heapMb =
    options.memoryLimitMb === undefined
      ? WORKER_HEAP_MB
      : Math.floor((options.memoryLimitMb * podHeapPercent()) / 100);
  const child: ChildProcess = fork(script, [], {
    execArgv: [`--max-old-space-size=${heapMb}`],
    env: {
      ...process.env,
      BENCH_ADDRESS: options.address,
      BENCH_NAMESPACE: options.namespace,
      BENCH_TASK_QUEUE: options.taskQueue,
      BENCH_CONVOY_BUNDLE: options.convoyBundle ?? '',
      BENCH_FLOOR_BUNDLE: options.floorBundle ?? '',
      [MEMORY_LIMIT_VARIABLE]: options.memoryLimitMb === undefined ? '' : String(options.memoryLimitMb),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: WorkerMessage): void => {
      if (message.type === 'ready') {
        child.off('message', onMessage);
        resolve();
      } else if (message.type === 'error')
        reject(new Error(`worker process failed to start: ${message.message}`));
    };
    child.on('message', onMessage);
    void exited.then((code) =>
      reject(new Error(`worker process exited with code ${code} before it was ready`)),
    );
  });
  const pid = child.pid!;
  let stopping = false;
  const crashed = exited.then((code) => {
    if (!stopping) throw new Error(`the worker process exited with code ${code} while the benchmark ran`);
    return new Promise<never>(() => undefined);
  });
  crashed.catch(() => undefined);
  return {
    pid,
    crashed,
    peakRssMb: () => peakRssMb(pid),
    rssMb: () => {
      try {
        return parseStatusFieldMb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      } catch {
        return undefined;
      }
    },
    async stop() {
      stopping = true;
      const lastReading = peakRssMb(pid);
      const reported = new Promise<number | undefined>((resolve) => {
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'stopped') resolve(message.peakRssMb);
        });
        void exited.then(() => resolve(undefined));
      });
      if (child.connected) child.send({ type: 'stop' });
      const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const own = await reported;
      await exited;
      clearTimeout(timeout);
      return own ?? lastReading;
    },
  };
}
