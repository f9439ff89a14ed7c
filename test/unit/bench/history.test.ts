import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  EventType,
  flattenHistory,
  forBarrier,
  signalsReceived,
  signalsSent,
  timestampMs,
} from '../../../bench/history';

const payloads = (value: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(value)!] });
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) });

// fromObject turns plain numbers into the Longs that fetched histories carry.
const history = temporal.api.history.v1.History.fromObject({
  events: [
    { eventId: 1, eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, eventTime: at(1_000) },
    {
      eventId: 2,
      eventType: EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
      eventTime: at(1_010.25),
      signalExternalWorkflowExecutionInitiatedEventAttributes: {
        signalName: 'convoy.barrierArrive',
        workflowExecution: { workflowId: 'p1' },
        workflowTaskCompletedEventId: 1,
        input: payloads({ workflow: 'a', identifier: 'b1', timeoutMs: 1000, arrivedAt: 1_009 }),
      },
    },
    {
      eventId: 3,
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      eventTime: at(1_030.5),
      workflowExecutionSignaledEventAttributes: {
        signalName: 'convoy.barrierOutcome',
        input: payloads({ identifier: 'b1', kind: 'released' }),
      },
    },
    {
      eventId: 4,
      eventType: EventType.EVENT_TYPE_TIMER_STARTED,
      eventTime: at(1_040),
      timerStartedEventAttributes: { timerId: '7', startToFireTimeout: { seconds: 1, nanos: 500_000_000 } },
    },
    {
      eventId: 5,
      eventType: EventType.EVENT_TYPE_TIMER_FIRED,
      eventTime: at(2_541),
      timerFiredEventAttributes: { timerId: '7' },
    },
    {
      eventId: 6,
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      eventTime: at(2_600),
      workflowTaskFailedEventAttributes: {
        cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
      },
    },
  ],
});

describe('flattenHistory', () => {
  const events = flattenHistory(history);

  it('keeps server times with their sub-millisecond part', () => {
    expect(events.map((e) => e.timeMs)).toEqual([1_000, 1_010.25, 1_030.5, 1_040, 2_541, 2_600]);
    expect(timestampMs(undefined)).toBeNaN();
  });

  it('decodes signal names, payloads, targets and the task that sent a signal', () => {
    expect(events[1]).toMatchObject({
      signalName: 'convoy.barrierArrive',
      target: 'p1',
      workflowTaskCompletedEventId: 1,
      payload: { identifier: 'b1', arrivedAt: 1_009 },
    });
    expect(events[2]).toMatchObject({ signalName: 'convoy.barrierOutcome', payload: { kind: 'released' } });
  });

  it('reads timer IDs and requested durations', () => {
    expect(events[3]).toMatchObject({ timerId: '7', timerRequestedMs: 1500 });
    expect(events[4]).toMatchObject({ timerId: '7' });
  });

  it('names the cause of a failed workflow task', () => {
    expect(events[5]!.failureCause).toBe('FORCE_CLOSE_COMMAND');
  });

  it('filters signals by direction, name and payload', () => {
    expect(signalsSent(events, 'convoy.barrierArrive', forBarrier('b1')).map((e) => e.eventId)).toEqual([2]);
    expect(signalsSent(events, 'convoy.barrierArrive', forBarrier('b2'))).toEqual([]);
    expect(signalsReceived(events, 'convoy.barrierArrive')).toEqual([]);
    expect(signalsReceived(events, 'convoy.barrierOutcome').map((e) => e.eventId)).toEqual([3]);
  });
});
