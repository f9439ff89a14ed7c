/**
 * Reading the dev server's Prometheus metrics (its `/metrics` text), for what the server's
 * settings cost in database requests. Pure: the runner fetches the text.
 */

/**
 * Sums a counter's samples by one label, over every other label: the lines
 * `persistence_requests{operation="GetTasks",service_name="matching"} 5` and
 * `persistence_requests{operation="GetTasks",service_name="history"} 2` give `{ GetTasks: 7 }`.
 * Samples without the label count under `''`.
 */
export function countersByLabel(text: string, metric: string, label: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== metric) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const labelMatch = new RegExp(`(?:^|,)${label}="((?:[^"\\\\]|\\\\.)*)"`).exec(match[2] ?? '');
    const key = labelMatch?.[1] ?? '';
    counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

/** `after − before` per key, keeping the keys that grew, largest first. */
export function diffCounts(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const grown = Object.entries(after)
    .map(([key, value]) => [key, value - (before[key] ?? 0)] as const)
    .filter(([, delta]) => delta > 0)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(grown);
}

/**
 * Whether a persistence operation reads: `Get…`, `List…` and `Read…` (GetTimerTasks,
 * GetWorkflowExecution, ReadHistoryBranch, ListNamespaces…); the rest create, update, append,
 * complete or delete.
 */
export function isReadOperation(operation: string): boolean {
  return /^(Get|List|Read)/.test(operation);
}

/**
 * Whether a persistence operation reads one of the history service's task queues (transfer,
 * timer, visibility, outbound… tasks): `Get<Queue>Tasks`. Matching's own `GetTasks` is not one.
 */
export function isHistoryTaskRead(operation: string): boolean {
  return /^Get\w+Tasks$/.test(operation);
}

/** Database reads (and of them, history task-queue reads) and writes among persistence requests by operation. */
export function readsAndWrites(byOperation: Readonly<Record<string, number>>): {
  reads: number;
  historyTaskReads: number;
  writes: number;
} {
  let reads = 0;
  let historyTaskReads = 0;
  let writes = 0;
  for (const [operation, n] of Object.entries(byOperation)) {
    if (isReadOperation(operation)) reads += n;
    else writes += n;
    if (isHistoryTaskRead(operation)) historyTaskReads += n;
  }
  return { reads, historyTaskReads, writes };
}
