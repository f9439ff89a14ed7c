/**
 * Measures how late the server fires a short timer: the timer-probe workflow runs on a private
 * task queue with an ephemeral Convoy worker, and the lateness is read from its history's event
 * times (the server's clock: neither the caller's nor the worker's latency counts). `convoy
 * doctor` reports it.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { connectionOptions, type TemporalConnection } from '../connection/config';
import type { convoyTimerProbe } from '../workflows/timer-probe';
import { prebuiltWorkflowBundle } from './bundle';
import { createConvoyWorker } from './worker';

const EventType = temporal.api.enums.v1.EventType;

/**
 * How late each timer fired: TimerFired minus TimerStarted event times, minus the timer's
 * duration, in ms, in history order. Pure.
 */
export function timerLatenessesMs(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  timerMs: number,
): number[] {
  const started = new Map<string, number>();
  const lateness: number[] = [];
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_TIMER_STARTED && event.timerStartedEventAttributes) {
      started.set(event.timerStartedEventAttributes.timerId ?? '', tsToMs(event.eventTime));
    } else if (event.eventType === EventType.EVENT_TYPE_TIMER_FIRED && event.timerFiredEventAttributes) {
      const at = started.get(event.timerFiredEventAttributes.timerId ?? '');
      if (at !== undefined) lateness.push(tsToMs(event.eventTime) - at - timerMs);
    }
  }
  return lateness;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs the probe (`times` timers of `timerMs` in a row) and resolves each timer's lateness in ms.
 * Needs nothing on the server but the namespace: the worker polls a task queue of its own.
 */
export async function measureTimerLateness(
  config: TemporalConnection,
  timerMs: number,
  times = 5,
): Promise<number[]> {
  const taskQueue = `convoy-timer-probe-${randomUUID()}`;
  const [connection, nativeConnection] = await Promise.all([
    Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' }),
    NativeConnection.connect(connectionOptions(config)),
  ]);
  try {
    const worker = await createConvoyWorker({
      connection: nativeConnection,
      namespace: config.namespace,
      taskQueue,
      workflowBundlePath: prebuiltWorkflowBundle(),
    });
    const client = new Client({ connection, namespace: config.namespace });
    const events = await worker.runUntil(async () => {
      const handle = await client.workflow.start<typeof convoyTimerProbe>('convoyTimerProbe', {
        taskQueue,
        workflowId: taskQueue,
        args: [timerMs, times],
        workflowExecutionTimeout: '1m',
      });
      await handle.result();
      return (await handle.fetchHistory()).events ?? [];
    });
    return timerLatenessesMs(events, timerMs);
  } finally {
    await connection.close().catch(() => undefined);
    await nativeConnection.close().catch(() => undefined);
  }
}
