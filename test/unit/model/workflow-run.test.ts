/** One deployment workflow's state, without Temporal. */
import type { StepPlan, WorkflowPlan } from '../../../src/model/plan';
import { COORDINATOR_GRACE_MS, countWorkerRestarts, WorkflowRun } from '../../../src/model/workflow-run';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const shell = (name: string, extra: Partial<StepPlan> = {}): StepPlan =>
  ({
    name,
    type: 'shell',
    command: 'true',
    env: {},
    skip: false,
    failureStrategies: [],
    ...extra,
  }) as StepPlan;
const plan = (extra: Partial<WorkflowPlan> = {}): WorkflowPlan => ({
  name: 'payments',
  stage: 'deploy',
  variables: {},
  steps: [shell('deploy')],
  rollbackSteps: [],
  failureStrategies: [],
  ...extra,
});

describe('WorkflowRun', () => {
  it('records steps from start to end, attempts and errors included', () => {
    const run = new WorkflowRun(plan(), []);
    const record = run.startStep({ name: 'deploy', type: 'shell' }, T0);
    record.attempts = 2;
    run.finishStep(record, 'failed', T0 + 5, { type: 'step-failed', message: 'exit 1' });
    expect(run.result()).toEqual({
      name: 'payments',
      stage: 'deploy',
      status: 'running',
      steps: [
        {
          name: 'deploy',
          type: 'shell',
          status: 'failed',
          attempts: 2,
          startedAt: iso(T0),
          endedAt: iso(T0 + 5),
          error: { type: 'step-failed', message: 'exit 1' },
        },
      ],
    });
    run.finishStep(record, 'succeeded', T0 + 9);
    expect(run.steps[0]).not.toHaveProperty('error');
    const undo = run.startStep({ name: 'undo', type: 'shell' }, T0 + 10, true);
    expect(undo.rollback).toBe(true);
  });

  it('a skipped step starts and ends at the same moment', () => {
    const run = new WorkflowRun(plan(), []);
    const record = run.startStep({ name: 'deploy', type: 'shell' }, T0);
    run.skipStep(record);
    expect(record).toMatchObject({ status: 'skipped', startedAt: iso(T0), endedAt: iso(T0) });
  });

  it('an abort fails every running or waiting step as cancelled, and only those', () => {
    const run = new WorkflowRun(plan(), []);
    const done = run.startStep({ name: 'a', type: 'shell' }, T0);
    run.finishStep(done, 'succeeded', T0 + 1);
    const waiting = run.startStep({ name: 'gate', type: 'barrier' }, T0 + 2);
    waiting.status = 'waiting';
    run.abort(T0 + 3);
    expect(run.status).toBe('aborted');
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'failed']);
    expect(waiting.error).toEqual({ type: 'cancelled', message: 'the pipeline was aborted' });
  });

  it('keeps the first outcome of a barrier: a repeated one cannot change it', () => {
    const run = new WorkflowRun(plan(), []);
    expect(run.outcomeOf('gate')).toBeUndefined();
    run.takeOutcome({ identifier: 'gate', kind: 'broken', errorType: 'barrier-broken', message: 'first' });
    run.takeOutcome({ identifier: 'gate', kind: 'released', message: 'forged' });
    expect(run.outcomeOf('gate')).toMatchObject({ kind: 'broken', message: 'first' });
  });

  it('takes an operator decision only while waiting for one', () => {
    const run = new WorkflowRun(plan(), []);
    run.takeDecision('retry');
    expect(run.pendingDecision).toBeUndefined();
    run.startWaitingForOperator('deploy', Date.parse('2026-01-01T00:00:00.000Z'), 60_000);
    expect(run.status).toBe('waiting-for-intervention');
    expect(run.result().intervention).toEqual({
      step: 'deploy',
      since: '2026-01-01T00:00:00.000Z',
      deadline: '2026-01-01T00:01:00.000Z',
    });
    run.takeDecision('ignore');
    expect(run.pendingDecision).toBe('ignore');
    expect(run.stopWaitingForOperator()).toBe('ignore');
    expect(run.status).toBe('running');
    expect(run.pendingDecision).toBeUndefined();
    expect(run.result()).not.toHaveProperty('intervention');
  });

  it('shows no intervention deadline when the rule waits forever', () => {
    const run = new WorkflowRun(plan(), []);
    run.startWaitingForOperator('deploy', 0, undefined);
    expect(run.result().intervention).toEqual({ step: 'deploy', since: '1970-01-01T00:00:00.000Z' });
  });

  it('announces terminal actions early for shell and http steps only, under the step, workflow and pipeline rules', () => {
    const run = new WorkflowRun(
      plan({
        rollbackSteps: [shell('undo') as never],
        failureStrategies: [{ on: ['step-timeout'], action: 'ignore' }],
      }),
      [{ on: ['any'], action: 'abort' }],
    );
    expect(run.terminalActionsOf(shell('deploy'), 0)).toEqual({ 'step-failed': 'abort' });
    const gate = {
      name: 'gate',
      type: 'barrier',
      identifier: 'g',
      timeoutMs: 1,
      skip: false,
      failureStrategies: [],
    };
    expect(run.terminalActionsOf(gate as StepPlan, 0)).toEqual({});
    expect(run.failureContext(shell('deploy')).hasRollbackSteps).toBe(true);
  });

  it("waits at a barrier, then ends the step by the coordinator's outcome or its absence", () => {
    const run = new WorkflowRun(plan(), []);
    const record = run.startStep({ name: 'gate', type: 'barrier' }, T0);
    run.arriveAtBarrier(record, T0 + 7);
    expect(record).toMatchObject({ status: 'waiting', startedAt: iso(T0 + 7) });
    expect(run.status).toBe('waiting-at-barrier');
    expect(run.leaveBarrier('gate', 1000, false)).toEqual({
      released: false,
      errorType: 'barrier-timeout',
      message: `barrier gate: the pipeline workflow (coordinator) did not answer within ${1000 + COORDINATOR_GRACE_MS} ms`,
    });
    expect(run.status).toBe('running');
    expect(run.leaveBarrier('gate', 1000, true)).toEqual({
      released: false,
      errorType: 'barrier-broken',
      message: 'barrier gate: the pipeline workflow (coordinator) is gone',
    });
    run.takeOutcome({
      identifier: 'gate',
      kind: 'timed-out',
      errorType: 'barrier-timeout',
      message: 'waited for b',
    });
    expect(run.leaveBarrier('gate', 1000, true)).toEqual({
      released: false,
      errorType: 'barrier-timeout',
      message: 'waited for b',
    });
    run.takeOutcome({ identifier: 'next', kind: 'released', message: 'crossed' });
    expect(run.leaveBarrier('next', 1000, false)).toEqual({ released: true });
  });
});

describe('countWorkerRestarts', () => {
  it('adds Temporal’s re-runs after lost workers to the attempts, and counts them apart', () => {
    const run = new WorkflowRun(plan(), []);
    const record = run.startStep({ name: 'deploy', type: 'shell' }, T0);
    record.attempts = 1;
    countWorkerRestarts(record, undefined);
    countWorkerRestarts(record, 1);
    expect(record).not.toHaveProperty('workerRestarts');
    expect(record.attempts).toBe(1);

    countWorkerRestarts(record, 3); // the first attempt of the step ran three times
    record.attempts += 1; // a failure-strategy retry
    countWorkerRestarts(record, 2); // which lost its worker once
    expect(record).toMatchObject({ attempts: 5, workerRestarts: 3 });
  });
});
