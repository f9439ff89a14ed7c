/**
 * Reading the server's record of what happened and when. Every latency the benchmarks report is
 * a difference of two history event timestamps, both stamped by the one Temporal server, so the
 * clocks agree whichever process did the work. The integration tests read histories through this
 * module too (test/integration/history.ts).
 *
 * Pure functions over fetched histories (no client calls here), so unit tests can feed them
 * hand-made events.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const EventType = temporal.api.enums.v1.EventType;
type RawEvent = temporal.api.history.v1.IHistoryEvent;
type RawTime = RawEvent['eventTime'];

/** The facts of one history event the benchmarks use. */
export interface BenchEvent {
  eventId: number;
  eventType: temporal.api.enums.v1.EventType;
  /** Server time of the event, in epoch milliseconds with sub-millisecond fraction. */
  timeMs: number;
  /** Signal name, for a signal sent (SignalExternalWorkflowExecutionInitiated) or received (WorkflowExecutionSignaled). */
  signalName?: string;
  /** The first payload of a signal sent or received, decoded. */
  payload?: unknown;
  /** For a signal sent: the workflow ID it was sent to. */
  target?: string;
  /** For a signal sent (a command): the WorkflowTaskCompleted event of the task that issued it. */
  workflowTaskCompletedEventId?: number;
  /** For TimerStarted and TimerFired: the timer's ID. */
  timerId?: string;
  /** For TimerStarted: the duration the workflow asked for, in ms. */
  timerRequestedMs?: number;
  /** For WorkflowTaskFailed: the cause, e.g. `FORCE_CLOSE_COMMAND`. */
  failureCause?: string;
}

function durationMs(
  d: temporal.api.history.v1.ITimerStartedEventAttributes['startToFireTimeout'],
): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6;
}

/** Epoch milliseconds of a protobuf timestamp, keeping the sub-millisecond part. */
export function timestampMs(time: RawTime): number {
  if (!time) return Number.NaN;
  return Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
}

function decodeFirst(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown {
  const first = payloads?.payloads?.[0];
  if (!first) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(first);
  } catch {
    return undefined;
  }
}

/** Flattens a history as `fetchHistory()` returns it. */
export function flattenHistory(history: temporal.api.history.v1.IHistory): BenchEvent[] {
  return (history.events ?? []).map((e) => {
    const sent = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    const received = e.workflowExecutionSignaledEventAttributes;
    const event: BenchEvent = {
      eventId: Number(e.eventId),
      eventType: e.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED,
      timeMs: timestampMs(e.eventTime),
    };
    if (sent) {
      event.signalName = sent.signalName ?? undefined;
      event.payload = decodeFirst(sent.input);
      event.target = sent.workflowExecution?.workflowId ?? undefined;
      if (sent.workflowTaskCompletedEventId)
        event.workflowTaskCompletedEventId = Number(sent.workflowTaskCompletedEventId);
    } else if (received) {
      event.signalName = received.signalName ?? undefined;
      event.payload = decodeFirst(received.input);
    } else if (e.workflowTaskFailedEventAttributes) {
      const cause = e.workflowTaskFailedEventAttributes.cause ?? 0;
      event.failureCause = (temporal.api.enums.v1.WorkflowTaskFailedCause[cause] ?? String(cause)).replace(
        /^WORKFLOW_TASK_FAILED_CAUSE_/,
        '',
      );
    } else if (e.timerStartedEventAttributes) {
      event.timerId = e.timerStartedEventAttributes.timerId ?? undefined;
      event.timerRequestedMs = durationMs(e.timerStartedEventAttributes.startToFireTimeout);
    } else if (e.timerFiredEventAttributes) {
      event.timerId = e.timerFiredEventAttributes.timerId ?? undefined;
    }
    return event;
  });
}

/** Signals this workflow sent (command recorded), optionally only those whose payload matches. */
export function signalsSent(
  events: readonly BenchEvent[],
  signalName: string,
  match: (payload: Record<string, unknown>) => boolean = () => true,
): BenchEvent[] {
  return signalEvents(
    events,
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    signalName,
    match,
  );
}

/** Signals this workflow received, optionally only those whose payload matches. */
export function signalsReceived(
  events: readonly BenchEvent[],
  signalName: string,
  match: (payload: Record<string, unknown>) => boolean = () => true,
): BenchEvent[] {
  return signalEvents(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, signalName, match);
}

function signalEvents(
  events: readonly BenchEvent[],
  eventType: temporal.api.enums.v1.EventType,
  signalName: string,
  match: (payload: Record<string, unknown>) => boolean,
): BenchEvent[] {
  return events.filter(
    (e) => e.eventType === eventType && e.signalName === signalName && match(asRecord(e.payload)),
  );
}

/** The first event of a type, if any. */
export function firstOfType(
  events: readonly BenchEvent[],
  eventType: temporal.api.enums.v1.EventType,
): BenchEvent | undefined {
  return events.find((e) => e.eventType === eventType);
}

/** A decoded payload as a record (an empty one when it is not an object). */
export function asRecord(payload: unknown): Record<string, unknown> {
  return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
}

/** `payload.identifier === identifier`, for filtering barrier signals. */
export function forBarrier(identifier: string): (payload: Record<string, unknown>) => boolean {
  return (payload) => payload.identifier === identifier;
}
