/** The report's timeline model, built from the result document. */
import { buildTimeline } from '../../../src/cli/timeline';
import { T0, at, midRun } from './fixtures';

test('a row per workflow, its steps as spans, its arrivals; resolved barriers at their moment', () => {
  const timeline = buildTimeline(midRun(), T0 + 10_000);
  expect(timeline).toMatchObject({
    pipelineId: 'release-42',
    name: 'release',
    status: 'running',
    startMs: T0,
  });
  expect(timeline.endMs).toBe(T0 + 10_000); // still running: now
  expect(timeline.rows.map((row) => [row.workflow, row.status, row.bars.length])).toEqual([
    ['payments', 'waiting-at-barrier', 2],
    ['search', 'running', 1],
    ['orders[eu]', 'waiting-for-intervention', 1],
    ['smoke', 'not-started', 0],
  ]);
  const [payments, search, orders] = timeline.rows;
  expect(payments!.bars).toEqual([
    expect.objectContaining({
      step: 'deploy',
      status: 'succeeded',
      startMs: T0,
      endMs: T0 + 2_000,
      ongoing: false,
    }),
    expect.objectContaining({
      step: 'all-deployed',
      status: 'waiting',
      startMs: T0 + 2_000,
      endMs: T0 + 10_000,
      ongoing: true,
    }),
  ]);
  expect(search!.bars[0]).toMatchObject({ attempts: 2, ongoing: true });
  expect(orders!.bars[0]).toMatchObject({ status: 'failed', error: 'step-failed: exit code 1\nmore' });
  expect(payments!.arrivals).toEqual([
    { stage: 'deploy', identifier: 'db-ready', atMs: T0 + 1_000 },
    { stage: 'deploy', identifier: 'all-deployed', atMs: T0 + 2_000 },
  ]);
  expect(orders!.arrivals).toEqual([{ stage: 'deploy', identifier: 'db-ready', atMs: T0 + 1_500 }]);
  expect(timeline.barriers).toEqual([
    {
      stage: 'deploy',
      identifier: 'all-deployed',
      status: 'standing',
      participants: ['payments', 'search', 'orders[eu]'],
    },
    {
      stage: 'deploy',
      identifier: 'db-ready',
      status: 'crossed',
      participants: ['payments', 'orders[eu]'],
      atMs: T0 + 1_500,
    },
  ]);
});

test('an ended pipeline ends at its end, and never before a time it shows', () => {
  const doc = midRun();
  doc.status = 'failed';
  doc.endedAt = at(20_000);
  expect(buildTimeline(doc, T0 + 999_999).endMs).toBe(T0 + 20_000);
  // A clock that lags behind the server's times must not cut bars short.
  expect(buildTimeline(midRun(), T0).endMs).toBe(T0 + 3_000);
});

test('a step that never started has no bar; a rollback step is marked', () => {
  const doc = midRun();
  doc.workflows[1]!.steps.push(
    { name: 'later', type: 'shell', status: 'running', attempts: 0 },
    {
      name: 'undo',
      type: 'shell',
      status: 'succeeded',
      attempts: 1,
      startedAt: at(5_000),
      endedAt: at(6_000),
      rollback: true,
    },
  );
  const bars = buildTimeline(doc, T0 + 10_000).rows[1]!.bars;
  expect(bars.map((bar) => [bar.step, bar.rollback])).toEqual([
    ['deploy', false],
    ['undo', true],
  ]);
});

test('each branch of a parallel step gets a row after its workflow, named as the participant', () => {
  const doc = midRun();
  doc.workflows[0]!.steps.push({
    name: 'rollout',
    type: 'parallel',
    status: 'running',
    attempts: 1,
    startedAt: at(3_000),
    branches: [
      {
        name: 'canary',
        participant: 'payments/canary',
        status: 'waiting-at-barrier',
        steps: [
          { name: 'canary-cut', type: 'barrier', status: 'waiting', attempts: 1, startedAt: at(3_500) },
        ],
      },
    ],
  });
  doc.barriers[0]!.arrivals['payments/canary'] = at(3_500);
  doc.barriers[0]!.participants.push('payments/canary');
  const timeline = buildTimeline(doc, T0 + 10_000);
  expect(timeline.rows.map((row) => [row.workflow, row.status, row.bars.length])).toEqual([
    ['payments', 'waiting-at-barrier', 3],
    ['payments/canary', 'waiting-at-barrier', 1],
    ['search', 'running', 1],
    ['orders[eu]', 'waiting-for-intervention', 1],
    ['smoke', 'not-started', 0],
  ]);
  expect(timeline.rows[1]!.arrivals).toEqual([expect.objectContaining({ atMs: T0 + 3_500 })]);
});
