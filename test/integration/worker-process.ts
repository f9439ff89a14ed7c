/**
 * A Convoy worker in a process of its own (`node dist/workers/worker.js`, what the image runs),
 * with an environment of the test's choosing and its whole log kept: for tests that read what a
 * real worker writes (secrets must never appear there) or give it settings (a codec key).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testServerAddress, type TestEnv } from './harness';

/** A running worker process and everything it has written so far. */
export interface LoggedWorker {
  /** stdout and stderr, interleaved as they came. */
  log(): string;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
}

/** Starts the worker on `env`'s task queue with `extraEnv`; resolves once it polls. */
export async function startLoggedWorker(env: TestEnv, extraEnv: NodeJS.ProcessEnv): Promise<LoggedWorker> {
  const entry = join(__dirname, '..', '..', 'dist', 'workers', 'worker.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testServerAddress(),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: env.taskQueue,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (output.includes('convoy worker polling')) resolve();
    };
    child.stderr.on('data', check);
    void exited.then(() => reject(new Error(`the worker process exited before polling:\n${output}`)));
  });
  return {
    log: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
