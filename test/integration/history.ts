/** Reading workflow histories in tests: the server's own record of what happened and when. */
import { temporal } from '@temporalio/proto';
import type { TestEnv } from './harness';

export const EventType = temporal.api.enums.v1.EventType;

/** A history event with the fields tests look at, flattened. */
export interface FlatEvent {
  eventId: number;
  eventType: temporal.api.enums.v1.EventType;
  timeMs: number;
  /** For signals sent or received. */
  signalName?: string;
  /** For commands: the workflow task whose completion issued them. */
  workflowTaskCompletedEventId?: number;
  raw: temporal.api.history.v1.IHistoryEvent;
}

function toMs(time: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/** Flattens a fetched history. */
export function flatten(history: temporal.api.history.v1.IHistory): FlatEvent[] {
  return (history.events ?? []).map((e) => {
    const sent = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    const received = e.workflowExecutionSignaledEventAttributes;
    return {
      eventId: Number(e.eventId),
      eventType: e.eventType!,
      timeMs: toMs(e.eventTime),
      signalName: sent?.signalName ?? received?.signalName ?? undefined,
      workflowTaskCompletedEventId: sent?.workflowTaskCompletedEventId
        ? Number(sent.workflowTaskCompletedEventId)
        : undefined,
      raw: e,
    };
  });
}

/** The flattened history of a pipeline (or any) workflow. */
export async function historyOfPipeline(env: TestEnv, workflowId: string): Promise<FlatEvent[]> {
  return flatten(await env.client.workflow.getHandle(workflowId).fetchHistory());
}
