/**
 * Tells the user, while `run` or `status` waits, that no worker polls the pipeline's task queue
 * (the pipeline cannot move until one does), and again when one appears. It never ends the wait.
 */
import type { ConvoyClient } from '../client/convoy-client';

/** How often the task queue's pollers are looked at again. */
const RECHECK_MS = 3000;

/** What the user reads when no worker polls `taskQueue`. */
export function noWorkerMessage(taskQueue: string): string {
  return (
    `convoy: no worker polls task queue ${taskQueue}; the pipeline waits until one does ` +
    `(start one with \`convoy worker\` and TEMPORAL_TASK_QUEUE=${taskQueue}, or \`convoy dev\`)`
  );
}

/**
 * Looks at once, then every few seconds, whether workers poll `taskQueue`, and says so when none
 * does and when one comes back. A failed look is not worth a word: the wait itself reports
 * connection problems.
 */
export function watchForWorkers(
  client: ConvoyClient,
  taskQueue: string,
  say: (line: string) => void,
): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;
  const look = async (): Promise<void> => {
    try {
      const workers = await client.countWorkers(taskQueue);
      if (stopped) return;
      if (workers === 0 && !warned) say(noWorkerMessage(taskQueue));
      if (workers > 0 && warned) say(`convoy: a worker polls task queue ${taskQueue} now`);
      warned = workers === 0;
    } catch {
      // see above
    }
    if (!stopped) timer = setTimeout(() => void look(), RECHECK_MS);
  };
  void look();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
