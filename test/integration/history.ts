/**
 * Reading workflow histories in tests: the server's own record of what happened and when. The
 * flattening is the benchmark's (bench/history.ts); tests also get the raw event.
 */
import type { temporal } from '@temporalio/proto';
import { EventType, flattenHistory, type BenchEvent } from '../../bench/history';
import type { TestEnv } from './harness';

export { EventType };

/** A history event with the fields tests look at, flattened, and the event as fetched. */
export interface FlatEvent extends BenchEvent {
  raw: temporal.api.history.v1.IHistoryEvent;
}

/** Flattens a fetched history. */
export function flatten(history: temporal.api.history.v1.IHistory): FlatEvent[] {
  const raw = history.events ?? [];
  return flattenHistory(history).map((event, i) => ({ ...event, raw: raw[i]! }));
}

/** The flattened history of a pipeline (or any) workflow. */
export async function historyOfPipeline(env: TestEnv, workflowId: string): Promise<FlatEvent[]> {
  return flatten(await env.client.workflow.getHandle(workflowId).fetchHistory());
}
