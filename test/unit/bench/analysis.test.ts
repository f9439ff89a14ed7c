import {
  CONVOY,
  RAW,
  analyzeFailure,
  analyzeRelease,
  analyzeTimeout,
  releaseFigures,
  rssGrowthPerMb,
  timerObservations,
  workflowTaskStats,
} from '../../../bench/analysis';
import { EventType, type BenchEvent } from '../../../bench/history';

let nextId = 1;
const sent = (timeMs: number, signalName: string, payload: unknown, target?: string): BenchEvent => ({
  eventId: nextId++,
  eventType: EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  timeMs,
  signalName,
  payload,
  target,
});
const received = (timeMs: number, signalName: string, payload: unknown): BenchEvent => ({
  eventId: nextId++,
  eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  timeMs,
  signalName,
  payload,
});
const plain = (
  timeMs: number,
  eventType: BenchEvent['eventType'],
  extra: Partial<BenchEvent> = {},
): BenchEvent => ({
  eventId: nextId++,
  eventType,
  timeMs,
  ...extra,
});

describe('analyzeRelease', () => {
  const arrival = (t: number, workflow: string) =>
    sent(t, CONVOY.arrive, { workflow, identifier: 'b1', timeoutMs: 1000, arrivedAt: t });
  const outcome = (t: number, identifier = 'b1') =>
    received(t, CONVOY.outcome, { identifier, kind: 'released', message: '' });
  const children = new Map<string, BenchEvent[]>([
    ['a', [arrival(1_000, 'a'), outcome(1_540), outcome(9_000, 'b2')]],
    ['b', [arrival(1_500, 'b'), outcome(1_530)]],
    ['c', [arrival(1_200, 'c')]], // never released
  ]);

  it('measures every outcome from the last arrival and names the last arriver', () => {
    const round = analyzeRelease(children, 'b1');
    expect(round.lastArriver).toBe('b');
    expect(round.lastArrivalMs).toBe(1_500);
    expect(round.quietGapMs).toBe(300);
    expect(round.latencies).toEqual([40, 30]);
    expect(round.kinds).toEqual({ released: 2 });
    expect(round.missing).toEqual(['c']);
    expect(round.legs).toBeUndefined();
  });

  it('splits the time into delivery, decision and transit with the parent history', () => {
    const parent = [
      received(1_505, CONVOY.arrive, { workflow: 'b', identifier: 'b1' }),
      sent(1_520, CONVOY.outcome, { identifier: 'b1', kind: 'released' }, 'p/a'),
      sent(1_521, CONVOY.outcome, { identifier: 'b1', kind: 'released' }, 'p/b'),
    ];
    const round = analyzeRelease(children, 'b1', { events: parent, childId: (n) => `p/${n}` });
    expect(round.legs).toEqual({ deliverMs: 5, decideMs: [15, 16], transitMs: [20, 9] });
  });

  it("reads the raw floor's signals by its protocol, and nothing else", () => {
    const raw = new Map<string, BenchEvent[]>([
      [
        'w0',
        [
          sent(100, RAW.arrive, { workflow: 'w0', identifier: 'b1' }),
          received(125, RAW.outcome, { identifier: 'b1', kind: 'released' }),
        ],
      ],
      [
        'w1',
        [
          sent(110, RAW.arrive, { workflow: 'w1', identifier: 'b1' }),
          received(120, RAW.outcome, { identifier: 'b1', kind: 'released' }),
        ],
      ],
    ]);
    const round = analyzeRelease(raw, 'b1', undefined, RAW);
    expect(round).toMatchObject({
      lastArriver: 'w1',
      quietGapMs: 10,
      latencies: [15, 10],
      kinds: { released: 2 },
    });
    expect(analyzeRelease(raw, 'b1').missing).toEqual(['w0', 'w1']);
  });
});

describe('releaseFigures', () => {
  it('summarises the latencies of every barrier and takes the p50 of each leg', () => {
    const round = (latencies: number[], deliverMs: number, quietGapMs: number) => ({
      identifier: 'b',
      lastArriver: 'w0',
      lastArrivalMs: 0,
      quietGapMs,
      latencies,
      kinds: { released: latencies.length },
      missing: [],
      legs: { deliverMs, decideMs: [latencies[0]! / 2], transitMs: [1, 3] },
    });
    const figures = releaseFigures([round([10, 20], 2, 500), round([30, Number.NaN], 4, 300)]);
    expect(figures.summary).toMatchObject({ samples: 3, p50Ms: 20, p99Ms: 30 });
    expect(figures.legs).toEqual({
      deliverP50Ms: 2,
      decideP50Ms: 5,
      decideP99Ms: 15,
      transitP50Ms: 1,
    });
    expect(figures.kinds).toEqual({ released: 4 });
    expect(figures.minQuietGapMs).toBe(300);
  });
});

describe('rssGrowthPerMb', () => {
  it('divides the growth by the units, and says null when a reading is missing', () => {
    expect(rssGrowthPerMb(200, 700, 250)).toBe(2);
    expect(rssGrowthPerMb(undefined, 700, 250)).toBeNull();
    expect(rssGrowthPerMb(200, 700, 0)).toBeNull();
  });
});

describe('analyzeFailure', () => {
  it('measures each waiting peer from the failing activity and from the abandon signal', () => {
    const failer = [
      plain(2_000, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED),
      sent(2_030, CONVOY.abandon, { workflow: 'failer', reason: 'x' }),
    ];
    const peers = new Map<string, BenchEvent[]>([
      ['p1', [received(2_080, CONVOY.outcome, { identifier: 'together', kind: 'broken' })]],
      ['p2', [received(2_100, CONVOY.outcome, { identifier: 'together', kind: 'broken' })]],
      ['p3', []],
    ]);
    const result = analyzeFailure(failer, peers, 'together');
    expect(result.latencies).toEqual([80, 100]);
    expect(result.fromAbandon).toEqual([50, 70]);
    expect(result.kinds).toEqual({ broken: 2 });
    expect(result.missing).toEqual(['p3']);
    expect(analyzeFailure(failer, peers, 'together', RAW).latencies).toEqual([]);
  });
});

describe('analyzeTimeout', () => {
  const waiter = [
    sent(10_000, CONVOY.arrive, {
      workflow: 'waiter',
      identifier: 'deadline',
      timeoutMs: 800,
      arrivedAt: 9_990,
    }),
    received(10_900, CONVOY.outcome, { identifier: 'deadline', kind: 'timed-out' }),
  ];

  it('measures lateness from the arrival event and from the arrivedAt payload', () => {
    const o = analyzeTimeout(waiter, 'deadline', 800);
    expect(o).toMatchObject({ kind: 'timed-out', latenessMs: 100, latenessFromPayloadMs: 110 });
  });

  it('splits the lateness into timer (the arming task and the server), decision and transit with the parent history', () => {
    const parent = [
      plain(10_005, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      // Armed for deadline − the task's start (10,790 − 10,005 = 785 ms), started 40 ms later.
      plain(10_045, EventType.EVENT_TYPE_TIMER_STARTED, { timerId: '1', timerRequestedMs: 785 }),
      plain(10_850, EventType.EVENT_TYPE_TIMER_FIRED, { timerId: '1' }),
      sent(10_880, CONVOY.outcome, { identifier: 'deadline', kind: 'timed-out' }, 'p/waiter'),
    ];
    const o = analyzeTimeout(waiter, 'deadline', 800, { events: parent, waiterId: 'p/waiter' });
    expect(o.legs).toEqual({ timerMs: 50, decideMs: 30, transitMs: 20, armMs: 40, serverTimerMs: 20 });
  });

  it("reads the raw coordinator's histories by the raw protocol's signal names", () => {
    const rawWaiter = [
      sent(20_000, RAW.arrive, { workflow: 'waiter', identifier: 'deadline', arrivedAt: 19_995 }),
      received(20_830, RAW.outcome, { identifier: 'deadline', kind: 'timed-out' }),
    ];
    const rawParent = [
      plain(20_004, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      plain(20_010, EventType.EVENT_TYPE_TIMER_STARTED, { timerId: '1', timerRequestedMs: 791 }),
      plain(20_803, EventType.EVENT_TYPE_TIMER_FIRED, { timerId: '1' }),
      sent(20_820, RAW.outcome, { identifier: 'deadline', kind: 'timed-out' }, 'r/waiter'),
    ];
    const o = analyzeTimeout(rawWaiter, 'deadline', 800, { events: rawParent, waiterId: 'r/waiter' }, RAW);
    expect(o).toMatchObject({ kind: 'timed-out', latenessMs: 30, latenessFromPayloadMs: 35 });
    expect(o.legs).toEqual({ timerMs: 3, decideMs: 17, transitMs: 10, armMs: 6, serverTimerMs: 2 });
    // Convoy's signal names find nothing in a raw history.
    expect(analyzeTimeout(rawWaiter, 'deadline', 800).kind).toBe('none');
  });

  it('reports a missing outcome as kind none with NaN lateness', () => {
    const o = analyzeTimeout(waiter.slice(0, 1), 'deadline', 800);
    expect(o.kind).toBe('none');
    expect(o.latenessMs).toBeNaN();
  });
});

describe('timerObservations', () => {
  it('pairs TimerStarted with TimerFired by timer ID', () => {
    const events = [
      plain(0, EventType.EVENT_TYPE_TIMER_STARTED, { timerId: '1', timerRequestedMs: 300 }),
      plain(990, EventType.EVENT_TYPE_TIMER_FIRED, { timerId: '1' }),
      plain(1_000, EventType.EVENT_TYPE_TIMER_STARTED, { timerId: '2', timerRequestedMs: 1500 }),
    ];
    expect(timerObservations(events)).toEqual([{ requestedMs: 300, firedAfterMs: 990 }]);
  });
});

describe('workflowTaskStats', () => {
  it('times each workflow task and counts failures by cause', () => {
    const events = [
      plain(0, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      plain(20, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      plain(100, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      plain(1_600, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, { failureCause: 'FORCE_CLOSE_COMMAND' }),
      plain(1_700, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
    ];
    expect(workflowTaskStats(events)).toEqual({
      durationsMs: [20, 1_500],
      failed: { FORCE_CLOSE_COMMAND: 1 },
    });
  });
});
