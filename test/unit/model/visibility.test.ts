import type { PipelineResult } from '../../../src/model/result';
import {
  childVisibility,
  pipelineVisibility,
  sameVisibility,
  workflowVisibility,
} from '../../../src/model/visibility';

const doc = (
  status: PipelineResult['status'],
  workflows: [string, PipelineResult['workflows'][number]['status']][],
  barriers: { identifier: string; status: PipelineResult['barriers'][number]['status']; arrived: string[] }[],
): PipelineResult => ({
  pipelineId: 'p',
  name: 'release',
  status,
  startedAt: '2026-11-30T12:00:00.000Z',
  stages: [{ name: 'deploy', status: 'running', workflows: workflows.map(([n]) => n) }],
  workflows: workflows.map(([name, s]) => ({ name, stage: 'deploy', status: s, steps: [] })),
  barriers: barriers.map((b) => ({
    stage: 'deploy',
    identifier: b.identifier,
    participants: workflows.map(([n]) => n),
    status: b.status,
    arrivals: Object.fromEntries(b.arrived.map((p) => [p, '2026-11-30T12:00:00.000Z'])),
  })),
});

test('a running pipeline with a workflow waiting at a standing barrier is waiting-at-barrier', () => {
  const visibility = pipelineVisibility(
    doc(
      'running',
      [
        ['a', 'waiting-at-barrier'],
        ['b', 'running'],
      ],
      [
        { identifier: 'z-gate', status: 'standing', arrived: ['a'] },
        { identifier: 'a-gate', status: 'standing', arrived: ['a'] },
        { identifier: 'nobody-yet', status: 'standing', arrived: [] },
        { identifier: 'done', status: 'crossed', arrived: ['a', 'b'] },
      ],
    ),
  );
  expect(visibility).toEqual({ status: 'waiting-at-barrier', waitingBarriers: ['a-gate', 'z-gate'] });
});

test('an arrival that no longer waits (its workflow moved on or ended) does not count', () => {
  const visibility = pipelineVisibility(
    doc(
      'running',
      [
        ['a', 'failed'],
        ['b', 'running'],
      ],
      [{ identifier: 'gate', status: 'standing', arrived: ['a'] }],
    ),
  );
  expect(visibility).toEqual({ status: 'running', waitingBarriers: [] });
});

test('waiting for an operator wins over waiting at a barrier; an ended pipeline shows its status only', () => {
  const workflows: [string, PipelineResult['workflows'][number]['status']][] = [
    ['a', 'waiting-at-barrier'],
    ['b', 'waiting-for-intervention'],
  ];
  const barriers = [{ identifier: 'gate', status: 'standing' as const, arrived: ['a'] }];
  expect(pipelineVisibility(doc('running', workflows, barriers))).toEqual({
    status: 'waiting-for-intervention',
    waitingBarriers: ['gate'],
  });
  expect(pipelineVisibility(doc('aborted', workflows, barriers))).toEqual({
    status: 'aborted',
    waitingBarriers: [],
  });
});

test("a child's visibility is its status and the barrier it waits at", () => {
  const child = { name: 'a', stage: 'deploy', steps: [] };
  expect(workflowVisibility({ ...child, status: 'waiting-at-barrier' }, 'gate')).toEqual({
    status: 'waiting-at-barrier',
    waitingBarriers: ['gate'],
  });
  expect(workflowVisibility({ ...child, status: 'rolled-back' }, 'gate')).toEqual({
    status: 'rolled-back',
    waitingBarriers: [],
  });
});

test('visibilities are the same only with equal status and barriers', () => {
  const v = { status: 'running', waitingBarriers: ['a'] };
  expect(sameVisibility(undefined, v)).toBe(false);
  expect(sameVisibility({ status: 'running', waitingBarriers: ['a'] }, v)).toBe(true);
  expect(sameVisibility({ status: 'running', waitingBarriers: ['b'] }, v)).toBe(false);
  expect(sameVisibility({ status: 'waiting-at-barrier', waitingBarriers: ['a'] }, v)).toBe(false);
});

test("a branch waiting at a barrier makes its workflow's barrier a waiting one, and lists each barrier a child waits at", () => {
  const visibility = pipelineVisibility(
    doc(
      'running',
      [['app', 'waiting-at-barrier']],
      [{ identifier: 'cutover', status: 'standing', arrived: ['app/canary'] }],
    ),
  );
  expect(visibility).toEqual({ status: 'waiting-at-barrier', waitingBarriers: ['cutover'] });
  const child = { name: 'app', stage: 'deploy', status: 'waiting-at-barrier' as const, steps: [] };
  expect(workflowVisibility(child, ['cutover', 'synced'])).toEqual({
    status: 'waiting-at-barrier',
    waitingBarriers: ['cutover', 'synced'],
  });
});

test('a child shows no barrier wait: the pipeline does', () => {
  const child = { name: 'a', stage: 'deploy', steps: [] };
  expect(childVisibility({ ...child, status: 'waiting-at-barrier' })).toEqual({
    status: 'running',
    waitingBarriers: [],
  });
  // A branch waiting at a barrier while another waits for an operator: the operator's wait shows.
  expect(childVisibility({ ...child, status: 'waiting-for-intervention' })).toEqual({
    status: 'waiting-for-intervention',
    waitingBarriers: [],
  });
  for (const status of ['running', 'succeeded', 'failed', 'aborted', 'rolled-back'] as const)
    expect(childVisibility({ ...child, status })).toEqual({ status, waitingBarriers: [] });
  // So a child upserts nothing when it arrives at a barrier or leaves it.
  const running = childVisibility({ ...child, status: 'running' });
  expect(sameVisibility(running, childVisibility({ ...child, status: 'waiting-at-barrier' }))).toBe(true);
});
