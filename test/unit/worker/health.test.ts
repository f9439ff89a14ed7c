/** The probes' decision, the JSON log line, and the timer probe's reading of a history. */
import type { WorkerStatus } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { healthReport } from '../../../src/worker/health';
import { jsonLogLine } from '../../../src/worker/logging';
import { median, timerLatenessesMs } from '../../../src/worker/timer-probe';

const status = (overrides: Partial<WorkerStatus>): WorkerStatus => ({
  runState: 'RUNNING',
  workflowPollerState: 'POLLING',
  activityPollerState: 'POLLING',
  hasOutstandingWorkflowPoll: false,
  hasOutstandingActivityPoll: false,
  numInFlightWorkflowActivations: 0,
  numInFlightActivities: 0,
  numInFlightNonLocalActivities: 0,
  numInFlightLocalActivities: 0,
  numCachedWorkflows: 0,
  numHeartbeatingActivities: 0,
  ...overrides,
});

test('not ready before the worker exists, nor before its first poll; ready once running and polled', () => {
  expect(healthReport(undefined, false)).toEqual({
    live: true,
    ready: false,
    state: 'starting',
    polled: false,
  });
  expect(healthReport(status({ runState: 'INITIALIZED' }), false).ready).toBe(false);
  expect(healthReport(status({}), false).ready).toBe(false);
  expect(healthReport(status({ hasOutstandingWorkflowPoll: true }), false)).toEqual({
    live: true,
    ready: true,
    state: 'RUNNING',
    polled: true,
  });
  // Between two long polls nothing is outstanding: having polled once is remembered.
  expect(healthReport(status({}), true).ready).toBe(true);
});

test('not ready while draining or stopping, still live; a failed worker is not live', () => {
  for (const runState of ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED'] as const) {
    expect(healthReport(status({ runState, hasOutstandingWorkflowPoll: true }), true)).toMatchObject({
      live: true,
      ready: false,
      state: runState,
    });
  }
  expect(healthReport(status({ runState: 'FAILED' }), true)).toMatchObject({ live: false, ready: false });
  expect(healthReport(status({ activityPollerState: 'FAILED' }), true).ready).toBe(false);
});

test('a JSON log line is one object per line with time, level, message and the metadata', () => {
  const line = jsonLogLine({
    level: 'WARN',
    message: 'activity failed',
    timestampNanos: 1_767_225_600_123_000_000n,
    meta: { taskQueue: 'convoy', attempt: 2n, error: new Error('boom') },
  });
  expect(line.endsWith('\n')).toBe(true);
  expect(line.trimEnd()).not.toContain('\n');
  expect(JSON.parse(line)).toEqual({
    time: '2026-01-01T00:00:00.123Z',
    level: 'WARN',
    message: 'activity failed',
    taskQueue: 'convoy',
    attempt: '2',
    error: expect.objectContaining({ name: 'Error', message: 'boom' }),
  });
});

const EventType = temporal.api.enums.v1.EventType;
const at = (ms: number) => msToTs(ms);

test('timer lateness: TimerFired minus TimerStarted minus the duration, matched by timer id', () => {
  const events = [
    {
      eventType: EventType.EVENT_TYPE_TIMER_STARTED,
      eventTime: at(1_000),
      timerStartedEventAttributes: { timerId: '1' },
    },
    {
      eventType: EventType.EVENT_TYPE_TIMER_FIRED,
      eventTime: at(1_112),
      timerFiredEventAttributes: { timerId: '1' },
    },
    {
      eventType: EventType.EVENT_TYPE_TIMER_STARTED,
      eventTime: at(2_000),
      timerStartedEventAttributes: { timerId: '2' },
    },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(2_050) },
    {
      eventType: EventType.EVENT_TYPE_TIMER_FIRED,
      eventTime: at(3_095),
      timerFiredEventAttributes: { timerId: '2' },
    },
  ];
  expect(timerLatenessesMs(events, 100)).toEqual([12, 995]);
  expect(median([12, 995, 40])).toBe(40);
  expect(median([10, 20])).toBe(15);
});
