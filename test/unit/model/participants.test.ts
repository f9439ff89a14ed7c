/** Branch participants: naming, where each lives, and which messages about them are believed. */
import fc from 'fast-check';
import { checkAbandon, checkArrival, checkOutcome, checkWithdrawal } from '../../../src/model/message-checks';
import {
  isPartOf,
  joinParticipant,
  participantAddress,
  participantsOf,
  resolveParticipant,
  splitParticipant,
} from '../../../src/model/participants';
import { PipelineRun } from '../../../src/model/pipeline-run';
import type { PipelinePlan, StagePlan, WorkflowPlan } from '../../../src/model/plan';
import { WorkflowRun } from '../../../src/model/workflow-run';
import { NAME_PATTERN } from '../../../src/pipeline-file/schema';
import { compilePipelineText } from '../../../src/pipeline-file/compile';

const CAPABILITY = '6c1f7a52-93d0-4e8b-a4f1-0b2d9e7c5a31';
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);

const plan: PipelinePlan = compilePipelineText(
  `
name: branches
variables: { region: eu }
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
          - name: rollout
            type: parallel
            branches:
              - name: canary
                steps: [{ name: canary-cut, type: barrier, identifier: cutover, timeoutMs: 40000 }]
              - name: migrate
                steps:
                  - { name: migrate-cut, type: barrier, identifier: cutover, timeoutMs: 40000 }
                  - { name: maybe, type: barrier, identifier: later, when: { var: region, equals: us } }
      - name: web
        steps:
          - { name: web-cut, type: barrier, identifier: cutover, timeoutMs: 40000 }
          - { name: web-later, type: barrier, identifier: later }
`,
  'branches.yaml',
  { pipelineId: 'p-1' },
).plan;
const [deploy] = plan.stages as [StagePlan];
const wf = (name: string): WorkflowPlan => deploy.workflows.find((w) => w.name === name)!;

/** Names as the file allows them for workflows (with forEach items) and branches: never a `/`. */
const name = fc.stringMatching(new RegExp(NAME_PATTERN.source.replace('*$', '{0,12}$')));
const workflowName = fc
  .tuple(name, fc.option(name, { nil: undefined }))
  .map(([n, item]) => (item === undefined ? n : `${n}[${item}]`));

describe('participant names', () => {
  it('split what join made, for any workflow and branch names the file allows', () => {
    fc.assert(
      fc.property(workflowName, fc.option(name, { nil: undefined }), (workflow, branch) => {
        const joined = joinParticipant(workflow, branch);
        expect(splitParticipant(joined)).toEqual(
          branch === undefined ? { workflow } : { workflow, part: branch },
        );
        expect(isPartOf(joined, workflow)).toBe(true);
        expect(isPartOf(joined, joined)).toBe(true);
      }),
    );
  });

  it('never count one workflow part of another, nor a branch part of its sibling', () => {
    fc.assert(
      fc.property(workflowName, workflowName, name, name, (a, b, x, y) => {
        fc.pre(a !== b && x !== y);
        expect(isPartOf(joinParticipant(a, x), b)).toBe(false);
        expect(isPartOf(a, b)).toBe(false);
        expect(isPartOf(joinParticipant(a, x), joinParticipant(a, y))).toBe(false);
        expect(isPartOf(a, joinParticipant(a, x))).toBe(false);
      }),
    );
  });

  it('map each participant to the child workflow to signal, and the branch in it', () => {
    expect(resolveParticipant(plan, 'web')).toMatchObject({ kind: 'workflow', workflow: wf('web') });
    expect(resolveParticipant(plan, 'app/canary')).toMatchObject({
      kind: 'branch',
      name: 'app/canary',
      workflow: wf('app'),
      branch: { name: 'canary' },
    });
    expect(resolveParticipant(plan, 'app/nope')).toBeUndefined();
    expect(resolveParticipant(plan, 'web/canary')).toBeUndefined();
    expect(participantAddress(plan, 'p-1', 'web')).toEqual({ workflowId: 'p-1/web' });
    expect(participantAddress(plan, 'p-1', 'app/canary')).toEqual({
      workflowId: 'p-1/app',
      branch: 'canary',
    });
    expect(participantAddress(plan, 'p-1', 'app/nope')).toBeUndefined();
    expect(participantsOf(wf('app'))).toEqual(['app', 'app/canary', 'app/migrate']);
  });
});

describe('barrier messages about a branch', () => {
  const arrival = {
    workflow: 'app',
    branch: 'canary',
    identifier: 'cutover',
    timeoutMs: 40_000,
    arrivedAt: T0,
  };

  it('are believed from the branch’s own workflow, for a barrier of that branch', () => {
    const checked = checkArrival(plan, CAPABILITY, { ...arrival, capability: CAPABILITY });
    expect(checked).toEqual({
      ok: true,
      value: { workflow: wf('app'), participant: 'app/canary', timeoutMs: 40_000 },
    });
    expect(
      checkWithdrawal(plan, CAPABILITY, {
        workflow: 'app',
        branch: 'migrate',
        identifier: 'later',
        capability: CAPABILITY,
      }),
    ).toMatchObject({ ok: true, value: { participant: 'app/migrate' } });
    expect(
      checkAbandon(plan, CAPABILITY, {
        workflow: 'app',
        branch: 'canary',
        reason: 'r',
        capability: CAPABILITY,
      }),
    ).toMatchObject({
      ok: true,
      value: { participant: 'app/canary' },
    });
  });

  it('are refused when forged: another workflow’s branch, a made-up branch, the participant as workflow, a wrong barrier', () => {
    const refused = (message: Partial<typeof arrival>) =>
      checkArrival(plan, CAPABILITY, { ...arrival, ...message, capability: CAPABILITY });
    expect(refused({ workflow: 'web' })).toEqual({ ok: false, reason: 'web has no branch named canary' });
    expect(refused({ branch: 'rogue' })).toEqual({ ok: false, reason: 'app has no branch named rogue' });
    expect(refused({ workflow: 'app/canary', branch: undefined })).toEqual({
      ok: false,
      reason: 'app/canary is not a workflow of this pipeline',
    });
    expect(refused({ identifier: 'later' })).toEqual({
      ok: false,
      reason: 'app/canary is not a participant of barrier later',
    });
    // The workflow itself takes part in no barrier: only its branches do.
    expect(refused({ branch: undefined })).toEqual({
      ok: false,
      reason: 'app is not a participant of barrier cutover',
    });
    expect(checkArrival(plan, CAPABILITY, arrival)).toEqual({
      ok: false,
      reason: 'it carries no capability',
    });
    // A withdrawal only for a barrier the plan skips for that branch.
    expect(
      checkWithdrawal(plan, CAPABILITY, {
        workflow: 'app',
        branch: 'canary',
        identifier: 'cutover',
        capability: CAPABILITY,
      }),
    ).toEqual({ ok: false, reason: 'app/canary does not skip barrier cutover in the plan' });
    expect(
      checkAbandon(plan, CAPABILITY, {
        workflow: 'web',
        branch: 'migrate',
        reason: 'r',
        capability: CAPABILITY,
      }),
    ).toEqual({ ok: false, reason: 'web has no branch named migrate' });
  });

  it('an outcome is taken by a child only for a barrier of its own branch', () => {
    const outcome = {
      identifier: 'cutover',
      kind: 'released' as const,
      message: 'ok',
      capability: CAPABILITY,
    };
    expect(checkOutcome(wf('app'), CAPABILITY, { ...outcome, branch: 'canary' }).ok).toBe(true);
    expect(checkOutcome(wf('app'), CAPABILITY, outcome)).toEqual({
      ok: false,
      reason: 'cutover is not a barrier of app',
    });
    expect(checkOutcome(wf('web'), CAPABILITY, { ...outcome, branch: 'canary' })).toEqual({
      ok: false,
      reason: 'cutover is not a barrier of web/canary',
    });
  });
});

describe('the coordinator with branch participants', () => {
  const start = () => {
    const run = new PipelineRun(plan, 'p-1', T0, CAPABILITY);
    run.startStage(deploy, T0);
    for (const w of deploy.workflows) run.startWorkflow(w);
    return run;
  };
  const arrive = (run: PipelineRun, workflow: string, branch: string | undefined, at: number) =>
    run.arrive(
      {
        workflow,
        ...(branch && { branch }),
        identifier: 'cutover',
        timeoutMs: 40_000,
        arrivedAt: at,
        capability: CAPABILITY,
      },
      at,
    );

  it('crosses once every branch and the workflow arrived, releasing each participant', () => {
    const run = start();
    expect(arrive(run, 'app', 'canary', T0 + 1).outcomes).toEqual([]);
    expect(run.document().workflows.find((w) => w.name === 'app')!.status).toBe('waiting-at-barrier');
    expect(arrive(run, 'web', undefined, T0 + 2).outcomes).toEqual([]);
    const released = arrive(run, 'app', 'migrate', T0 + 3);
    expect(released.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['app/canary', 'released'],
      ['web', 'released'],
      ['app/migrate', 'released'],
    ]);
    expect(run.document().barriers[0]!.arrivals).toEqual({
      'app/canary': new Date(T0 + 1).toISOString(),
      web: new Date(T0 + 2).toISOString(),
      'app/migrate': new Date(T0 + 3).toISOString(),
    });
  });

  it('a branch that gives up breaks its barriers only; its workflow ending breaks every branch’s', () => {
    const run = start();
    arrive(run, 'web', undefined, T0 + 1);
    const broken = run.abandon(
      {
        workflow: 'app',
        branch: 'canary',
        reason: 'app/canary failed at canary-cut',
        capability: CAPABILITY,
      },
      T0 + 2,
    );
    expect(broken.brokenBy).toBe('app/canary');
    expect(broken.outcomes.map((o) => [o.participant, o.kind])).toEqual([['web', 'broken']]);
    const cutover = run.document().barriers.find((b) => b.identifier === 'cutover')!;
    expect(cutover.status).toBe('broken');
    expect(cutover.reason).toContain('app/canary');
    expect(run.document().barriers.find((b) => b.identifier === 'later')!.status).toBe('standing');
    // app ends rolled back without a word from migrate: its barrier `later` breaks too.
    const ended = run.endWorkflow(
      wf('app'),
      { returned: { name: 'app', stage: 'deploy', status: 'rolled-back', steps: [] } },
      T0 + 3,
    );
    expect(ended.brokenBy).toBe('app');
    const later = run.document().barriers.find((b) => b.identifier === 'later')!;
    expect(later.status).toBe('broken');
    expect(later.reason).toContain('app/migrate');
  });

  it('a workflow that succeeds withdraws its branches from what they did not reach', () => {
    const run = start();
    arrive(run, 'web', undefined, T0 + 1);
    arrive(run, 'app', 'canary', T0 + 2);
    arrive(run, 'app', 'migrate', T0 + 3);
    run.arrive(
      { workflow: 'web', identifier: 'later', timeoutMs: 600_000, arrivedAt: T0 + 4, capability: CAPABILITY },
      T0 + 4,
    );
    expect(run.document().barriers.find((b) => b.identifier === 'later')!.status).toBe('standing');
    run.endWorkflow(
      wf('app'),
      { returned: { name: 'app', stage: 'deploy', status: 'succeeded', steps: [] } },
      T0 + 5,
    );
    expect(run.document().barriers.find((b) => b.identifier === 'later')!.status).toBe('crossed');
  });
});

describe('a deployment workflow with branches', () => {
  const parallel = wf('app').steps[0]!;
  if (parallel.type !== 'parallel') throw new Error('expected the parallel step');

  it('keeps each branch’s outcome apart, and waits at a barrier while any branch does', () => {
    const run = new WorkflowRun(wf('app'), [], CAPABILITY);
    const record = run.startStep(parallel, T0);
    const [canary, migrate] = run.startBranches(record, parallel) as [never, never];
    const canaryCut = run.startStep({ name: 'canary-cut', type: 'barrier' }, T0, false, canary);
    const migrateCut = run.startStep({ name: 'migrate-cut', type: 'barrier' }, T0, false, migrate);
    run.arriveAtBarrier(canaryCut, T0 + 1, 'cutover', canary);
    run.arriveAtBarrier(migrateCut, T0 + 2, 'cutover', migrate);
    expect(run.status).toBe('waiting-at-barrier');
    expect(run.waitingBarriers()).toEqual(['cutover']);
    expect(
      run.takeOutcome({
        identifier: 'cutover',
        branch: 'canary',
        kind: 'released',
        message: 'ok',
        capability: CAPABILITY,
      }),
    ).toBeUndefined();
    expect(run.outcomeOf('cutover', 'canary')).toBeDefined();
    expect(run.outcomeOf('cutover', 'migrate')).toBeUndefined();
    expect(run.leaveBarrier('cutover', 40_000, true, canary)).toEqual({ released: true });
    expect(run.status).toBe('waiting-at-barrier');
    expect(run.result().steps[0]!.branches!.map((b) => b.status)).toEqual(['running', 'waiting-at-barrier']);
    run.endBranch(canary, 'failed', T0 + 3);
    run.endBranch(migrate, 'cancelled', T0 + 3, 'app/migrate was cancelled: app/canary failed');
    run.leaveWaiting('cutover', migrate);
    expect(run.status).toBe('running');
    const branches = run.result().steps[0]!.branches!;
    expect(branches.map((b) => [b.participant, b.status])).toEqual([
      ['app/canary', 'failed'],
      ['app/migrate', 'cancelled'],
    ]);
    expect(branches[1]!.steps[0]).toMatchObject({
      status: 'failed',
      error: { type: 'cancelled', message: 'app/migrate was cancelled: app/canary failed' },
    });
  });

  it('an abort cancels running branches and their steps', () => {
    const run = new WorkflowRun(wf('app'), [], CAPABILITY);
    const record = run.startStep(parallel, T0);
    const [canary] = run.startBranches(record, parallel) as [never];
    run.startStep({ name: 'canary-cut', type: 'barrier' }, T0, false, canary);
    run.abort(T0 + 1);
    const step = run.result().steps[0]!;
    expect(step.status).toBe('failed');
    expect(step.branches!.map((b) => b.status)).toEqual(['cancelled', 'cancelled']);
    expect(step.branches![0]!.steps[0]!.error?.type).toBe('cancelled');
  });
});
