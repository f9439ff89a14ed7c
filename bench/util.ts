/** Small helpers of the benchmark runner: logging, bounded concurrency, timeouts, history fetching. */
import type { Client } from '@temporalio/client';
import { flattenHistory, type BenchEvent } from './history';

const started = Date.now();
/** Progress goes to stderr, prefixed with seconds since start. */
export function log(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Maps with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The flattened history of a workflow (all pages). */
export async function fetchEvents(client: Client, workflowId: string): Promise<BenchEvent[]> {
  return flattenHistory(await client.workflow.getHandle(workflowId).fetchHistory());
}

/** Histories of many workflows, 16 fetches at a time. */
export async function fetchMany(client: Client, ids: readonly string[]): Promise<BenchEvent[][]> {
  return mapLimit(ids, 16, (id) => fetchEvents(client, id));
}

/** Waits until a workflow exists and is closed; resolves with its status name. */
export async function waitClosed(client: Client, workflowId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (description.status.name !== 'RUNNING') return description.status.name;
    } catch {
      // Not started yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${workflowId} was still running after ${Math.round(timeoutMs / 1000)} s`);
    await sleepMs(200);
  }
}

/** A short message for any thrown value, with the cause chain. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  let cause = (error as { cause?: unknown }).cause;
  while (cause instanceof Error) {
    parts.push(cause.message);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}
