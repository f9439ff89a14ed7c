/** The events `PipelineHandle.watch()` yields, computed from successive documents. */
import {
  PipelineChangeTracker,
  diffPipelineDocuments,
  formatPipelineEvent,
  type PipelineEvent,
} from '../../../src/client/changes';
import type {
  BarrierResult,
  BranchResult,
  PipelineResult,
  StepResult,
  WorkflowResult,
} from '../../../src/model/result';

const t = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0, ms)).toISOString();

function doc(overrides: Partial<PipelineResult> = {}): PipelineResult {
  return {
    pipelineId: 'release-1',
    name: 'release',
    status: 'running',
    startedAt: t(0),
    stages: [{ name: 'deploy', status: 'running', workflows: ['api', 'web'] }],
    workflows: [workflow('api'), workflow('web')],
    barriers: [barrier('gate')],
    ...overrides,
  };
}

function workflow(name: string, overrides: Partial<WorkflowResult> = {}): WorkflowResult {
  return { name, stage: 'deploy', status: 'running', steps: [], ...overrides };
}

function barrier(identifier: string, overrides: Partial<BarrierResult> = {}): BarrierResult {
  return {
    stage: 'deploy',
    identifier,
    participants: ['api', 'web'],
    status: 'standing',
    arrivals: {},
    ...overrides,
  };
}

function step(name: string, overrides: Partial<StepResult> = {}): StepResult {
  return { name, type: 'shell', status: 'running', attempts: 1, startedAt: t(10), ...overrides };
}

/** The events in a compact form: type and who. */
function brief(events: PipelineEvent[]): string[] {
  return events.map((event) => {
    switch (event.type) {
      case 'pipeline-status':
        return `pipeline ${event.from ?? '-'}->${event.to}`;
      case 'stage-status':
        return `stage ${event.stage} ${event.from ?? '-'}->${event.to}`;
      case 'workflow-status':
        return `workflow ${event.workflow} ${event.from ?? '-'}->${event.to}`;
      case 'branch-status':
        return `branch ${event.participant} ${event.from ?? '-'}->${event.to}`;
      case 'step-started':
        return `started ${event.workflow}${event.branch ? `/${event.branch}` : ''}.${event.step.name}#${event.attempt}`;
      case 'step-ended':
        return `ended ${event.workflow}${event.branch ? `/${event.branch}` : ''}.${event.step.name} ${event.step.status}`;
      case 'barrier-arrival':
        return `arrival ${event.identifier} ${event.workflow}`;
      case 'barrier-resolved':
        return `resolved ${event.identifier} ${event.status}${event.reason ? ` (${event.reason})` : ''}`;
    }
  });
}

test('the first document tells everything so far, without statuses still at not-started', () => {
  const first = doc({
    stages: [
      { name: 'deploy', status: 'running', workflows: ['api', 'web'] },
      { name: 'verify', status: 'not-started', workflows: ['e2e'] },
    ],
    workflows: [
      workflow('api', {
        status: 'waiting-at-barrier',
        steps: [
          step('build', { status: 'succeeded', endedAt: t(20) }),
          step('sync', { type: 'barrier', status: 'waiting', startedAt: t(30) }),
        ],
      }),
      workflow('web', { steps: [step('build', { startedAt: t(15) })] }),
      workflow('e2e', { stage: 'verify', status: 'not-started' }),
    ],
    barriers: [barrier('gate', { status: 'standing', arrivals: { api: t(30) } })],
  });
  expect(brief(diffPipelineDocuments(undefined, first))).toEqual([
    'pipeline -->running',
    'stage deploy -->running',
    'workflow web -->running',
    'started api.build#1',
    'started web.build#1',
    'ended api.build succeeded',
    'started api.sync#1',
    'arrival gate api',
    'workflow api -->waiting-at-barrier',
  ]);
  const [start] = diffPipelineDocuments(undefined, first);
  expect(start).toEqual({ type: 'pipeline-status', pipelineId: 'release-1', to: 'running', at: t(0) });
});

test('nothing changed, nothing reported', () => {
  expect(diffPipelineDocuments(doc(), doc())).toEqual([]);
});

test('a barrier crossing: the last arrival, the release, both participants moving on', () => {
  const before = doc({
    workflows: [
      workflow('api', {
        status: 'waiting-at-barrier',
        steps: [step('sync', { type: 'barrier', status: 'waiting', startedAt: t(30) })],
      }),
      workflow('web', { steps: [step('build', { startedAt: t(15) })] }),
    ],
    barriers: [barrier('gate', { status: 'standing', arrivals: { api: t(30) } })],
  });
  const after = doc({
    workflows: [
      workflow('api', {
        steps: [step('sync', { type: 'barrier', status: 'succeeded', startedAt: t(30), endedAt: t(52) })],
      }),
      workflow('web', {
        steps: [
          step('build', { status: 'succeeded', startedAt: t(15), endedAt: t(40) }),
          step('sync', { type: 'barrier', status: 'succeeded', startedAt: t(50), endedAt: t(51) }),
        ],
      }),
    ],
    barriers: [
      barrier('gate', { status: 'crossed', arrivals: { api: t(30), web: t(50) }, resolvedAt: t(50) }),
    ],
  });
  expect(brief(diffPipelineDocuments(before, after))).toEqual([
    'ended web.build succeeded',
    'started web.sync#1',
    'arrival gate web',
    'resolved gate crossed',
    'ended web.sync succeeded',
    'ended api.sync succeeded',
    'workflow api waiting-at-barrier->running',
  ]);
  const resolved = diffPipelineDocuments(before, after).find((e) => e.type === 'barrier-resolved');
  expect(resolved).toMatchObject({ stage: 'deploy', at: t(50), barrier: { status: 'crossed' } });
});

test('failures: a failed step, a retry, an ignored failure, a broken barrier, a rolled-back workflow', () => {
  const before = doc({
    workflows: [workflow('api', { steps: [step('deploy')] }), workflow('web', { steps: [step('smoke')] })],
  });
  const failed = doc({
    workflows: [
      workflow('api', {
        steps: [
          step('deploy', {
            status: 'failed',
            endedAt: t(20),
            error: { type: 'step-failed', message: 'exit 1' },
          }),
        ],
      }),
      workflow('web', {
        steps: [
          step('smoke', { status: 'failed', endedAt: t(21), error: { type: 'step-failed', message: 'no' } }),
        ],
      }),
    ],
  });
  expect(brief(diffPipelineDocuments(before, failed))).toEqual([
    'ended api.deploy failed',
    'ended web.smoke failed',
  ]);
  expect(diffPipelineDocuments(before, failed)[0]).toMatchObject({
    type: 'step-ended',
    workflow: 'api',
    stage: 'deploy',
    index: 0,
    step: { error: { type: 'step-failed' } },
  });

  const next = doc({
    workflows: [
      workflow('api', { steps: [step('deploy', { attempts: 2, startedAt: t(20), endedAt: t(20) })] }),
      workflow('web', {
        steps: [
          step('smoke', { status: 'ignored', endedAt: t(21), error: { type: 'step-failed', message: 'no' } }),
        ],
      }),
    ],
  });
  expect(brief(diffPipelineDocuments(failed, next))).toEqual([
    'started api.deploy#2',
    'ended web.smoke ignored',
  ]);

  const broken = doc({
    status: 'failed',
    endedAt: t(90),
    stages: [{ name: 'deploy', status: 'failed', workflows: ['api', 'web'] }],
    workflows: [
      workflow('api', {
        status: 'rolled-back',
        steps: [
          step('deploy', {
            attempts: 2,
            status: 'failed',
            startedAt: t(20),
            endedAt: t(60),
            error: { type: 'step-failed', message: 'exit 1' },
          }),
          step('undo', { status: 'succeeded', startedAt: t(70), endedAt: t(80), rollback: true }),
        ],
      }),
      workflow('web', { status: 'succeeded', steps: next.workflows[1]!.steps }),
    ],
    barriers: [barrier('gate', { status: 'broken', arrivals: {}, resolvedAt: t(61), reason: 'api failed' })],
  });
  expect(brief(diffPipelineDocuments(next, broken))).toEqual([
    'ended api.deploy failed',
    'resolved gate broken (api failed)',
    'started api.undo#1',
    'ended api.undo succeeded',
    'workflow api running->rolled-back',
    'workflow web running->succeeded',
    'stage deploy running->failed',
    'pipeline running->failed',
  ]);
  expect(diffPipelineDocuments(next, broken).at(-1)).toMatchObject({ at: t(90) });
});

test('skipped steps end without starting; timed-out and forced barriers resolve with their reason', () => {
  const before = doc({
    barriers: [barrier('a'), barrier('b')],
  });
  const after = doc({
    workflows: [
      workflow('api', { steps: [step('maybe', { status: 'skipped', attempts: 0, endedAt: t(10) })] }),
      workflow('web'),
    ],
    barriers: [
      barrier('a', {
        status: 'timed-out',
        arrivals: { api: t(12) },
        resolvedAt: t(30),
        reason: 'missing: web',
      }),
      barrier('b', { status: 'forced', arrivals: {}, resolvedAt: t(20), reason: 'web is known slow' }),
    ],
  });
  expect(brief(diffPipelineDocuments(before, after))).toEqual([
    'ended api.maybe skipped',
    'arrival a api',
    'resolved b forced (web is known slow)',
    'resolved a timed-out (missing: web)',
  ]);
});

test('the tracker keeps steps a document lost for a moment, so nothing is reported twice', () => {
  const tracker = new PipelineChangeTracker();
  const withSteps = doc({ workflows: [workflow('api', { steps: [step('build')] }), workflow('web')] });
  expect(brief(tracker.update(withSteps))).toEqual([
    'pipeline -->running',
    'stage deploy -->running',
    'workflow api -->running',
    'workflow web -->running',
    'started api.build#1',
  ]);
  // The workflow's own query missed: the pipeline's document has no steps for it.
  expect(tracker.update(doc())).toEqual([]);
  const ended = doc({
    workflows: [
      workflow('api', { steps: [step('build', { status: 'succeeded', endedAt: t(40) })] }),
      workflow('web'),
    ],
  });
  expect(brief(tracker.update(ended))).toEqual(['ended api.build succeeded']);
});

test('formatPipelineEvent: one readable line per event', () => {
  const before = doc({ workflows: [workflow('api', { steps: [step('deploy')] }), workflow('web')] });
  const after = doc({
    status: 'failed',
    endedAt: t(90),
    workflows: [
      workflow('api', {
        status: 'failed',
        steps: [
          step('deploy', {
            status: 'failed',
            attempts: 2,
            endedAt: t(40),
            error: { type: 'step-failed', message: 'exit code 1' },
          }),
        ],
      }),
      workflow('web'),
    ],
    barriers: [
      barrier('gate', {
        status: 'broken',
        arrivals: { web: t(20) },
        resolvedAt: t(41),
        reason: 'api failed',
      }),
    ],
  });
  expect(diffPipelineDocuments(before, after).map(formatPipelineEvent)).toEqual([
    'api: step deploy started (attempt 2)',
    'barrier deploy/gate: web arrived',
    'api: step deploy failed (step-failed: exit code 1)',
    'barrier deploy/gate: broken (api failed)',
    'api: running -> failed',
    'pipeline release-1: running -> failed',
  ]);
  expect(diffPipelineDocuments(undefined, doc()).map(formatPipelineEvent)).toEqual([
    'pipeline release-1: running',
    'stage deploy: running',
    'api: running',
    'web: running',
  ]);
});

test('branches of a parallel step: their statuses and steps, between the step starting and ending', () => {
  const branch = (name: string, status: BranchResult['status'], steps: StepResult[]): BranchResult => ({
    name,
    participant: `app/${name}`,
    status,
    steps,
  });
  const workflows = (steps: StepResult[]) => [
    { name: 'app', stage: 'deploy', status: 'running' as const, steps },
  ];
  const before = doc({
    stages: [{ name: 'deploy', status: 'running', workflows: ['app'] }],
    workflows: workflows([
      step('rollout', {
        type: 'parallel',
        branches: [branch('canary', 'running', [step('c1')]), branch('migrate', 'running', [])],
      }),
    ]),
  });
  const after = doc({
    stages: [{ name: 'deploy', status: 'running', workflows: ['app'] }],
    workflows: workflows([
      step('rollout', {
        type: 'parallel',
        status: 'failed',
        endedAt: t(30),
        branches: [
          branch('canary', 'failed', [step('c1', { status: 'failed', endedAt: t(20) })]),
          branch('migrate', 'cancelled', [
            step('m1', { startedAt: t(15), status: 'failed', endedAt: t(21) }),
          ]),
        ],
      }),
    ]),
  });
  expect(brief(diffPipelineDocuments(before, after))).toEqual([
    'started app/migrate.m1#1',
    'branch app/canary running->failed',
    'ended app/canary.c1 failed',
    'branch app/migrate running->cancelled',
    'ended app/migrate.m1 failed',
    'ended app.rollout failed',
  ]);
  expect(formatPipelineEvent(diffPipelineDocuments(before, after)[1]!)).toBe('app/canary: running -> failed');
  expect(formatPipelineEvent(diffPipelineDocuments(before, after)[2]!)).toBe('app/canary: step c1 failed');
});
