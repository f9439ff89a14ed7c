/** One deployment workflow's state, without Temporal. */
import type { BranchStepPlan, WorkflowPlan } from '../../../src/model/plan';
import {
  COORDINATOR_GRACE_MS,
  COORDINATOR_SENDER,
  countWorkerRestarts,
  WorkflowRun,
} from '../../../src/model/workflow-run';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const shell = (name: string, extra: Partial<BranchStepPlan> = {}): BranchStepPlan =>
  ({
    name,
    type: 'shell',
    command: 'true',
    env: {},
    skip: false,
    failureStrategies: [],
    ...extra,
  }) as BranchStepPlan;
const plan = (extra: Partial<WorkflowPlan> = {}): WorkflowPlan => ({
  name: 'payments',
  stage: 'deploy',
  variables: {},
  steps: [shell('deploy')],
  rollbackSteps: [],
  failureStrategies: [],
  ...extra,
});

const CAPABILITY = '0f8e2c64-5d1b-4b7a-9c3e-2a6d8f1b4c7e';
const gated = (): WorkflowPlan =>
  plan({
    steps: [
      shell('deploy'),
      {
        name: 'gate',
        type: 'barrier',
        identifier: 'gate',
        timeoutMs: 1000,
        skip: false,
        failureStrategies: [],
      },
      {
        name: 'next',
        type: 'barrier',
        identifier: 'next',
        timeoutMs: 1000,
        skip: false,
        failureStrategies: [],
      },
    ],
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
    const run = new WorkflowRun(gated(), []);
    expect(run.outcomeOf('gate')).toBeUndefined();
    run.takeOutcome({ identifier: 'gate', kind: 'broken', errorType: 'barrier-broken', message: 'first' });
    run.takeOutcome({ identifier: 'gate', kind: 'released', message: 'forged' });
    expect(run.outcomeOf('gate')).toMatchObject({ kind: 'broken', message: 'first' });
  });

  it("refuses an outcome without the pipeline's capability, or for a barrier it does not take part in", () => {
    const run = new WorkflowRun(gated(), [], CAPABILITY);
    const released = { identifier: 'gate', kind: 'released' as const, message: 'crossed' };
    expect(run.takeOutcome(released)).toMatchObject({ log: true, reason: 'it carries no capability' });
    expect(run.takeOutcome({ ...released, capability: 'f'.repeat(36) })).toMatchObject({ log: false });
    expect(run.takeOutcome({ ...released, identifier: 'other', capability: CAPABILITY })).toMatchObject({
      reason: 'other is not a barrier of payments',
    });
    expect(run.outcomeOf('gate')).toBeUndefined();
    expect(run.result().rejectedMessages).toEqual({ count: 3, bySender: { [COORDINATOR_SENDER]: 3 } });
    expect(run.takeOutcome({ ...released, capability: CAPABILITY })).toBeUndefined();
    expect(run.outcomeOf('gate')).toMatchObject({ kind: 'released' });
  });

  it('takes an operator decision only while waiting for one, and the first one only', () => {
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
    run.takeDecision('abort');
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

  it("validates an operator's decision against its own wait: not waiting, wrong step, decided, expired", () => {
    const run = new WorkflowRun(plan({ steps: [shell('deploy'), shell('verify')] }), []);
    expect(() => run.validateDecision({ action: 'retry' })).toThrow(
      'workflow payments is not waiting for manual intervention (it is running)',
    );
    expect(() => run.validateDecision({ action: 'nope' })).toThrow(/invalid intervene request: action/);
    run.startWaitingForOperator('verify', 0, undefined);
    expect(() => run.validateDecision({ action: 'retry', step: 'deploy' })).toThrow(
      'workflow payments waits for a decision at step verify, not deploy',
    );
    expect(run.validateDecision({ action: 'retry', step: 'verify' })).toEqual({
      action: 'retry',
      step: 'verify',
    });
    run.takeDecision('retry');
    expect(() => run.validateDecision({ action: 'abort' })).toThrow('already been given a decision (retry)');
    expect(run.stopWaitingForOperator()).toBe('retry');
    expect(() => run.validateDecision({ action: 'abort' })).toThrow('is not waiting');
    // A wait that timed out: a decision for it is refused as expired, and nothing is taken.
    run.startWaitingForOperator('verify', 0, undefined);
    expect(run.stopWaitingForOperator()).toBeUndefined();
    expect(() => run.validateDecision({ action: 'retry' })).toThrow(
      'workflow payments no longer waits: its wait for a decision at step verify expired',
    );
    run.takeDecision('retry');
    expect(run.pendingDecision).toBeUndefined();
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
    expect(run.terminalActionsOf(gate as BranchStepPlan, 0)).toEqual({});
    expect(run.failureContext(shell('deploy')).hasRollbackSteps).toBe(true);
  });

  it("waits at a barrier, then ends the step by the coordinator's outcome or its absence", () => {
    const run = new WorkflowRun(gated(), []);
    const record = run.startStep({ name: 'gate', type: 'barrier' }, T0);
    run.arriveAtBarrier(record, T0 + 7, 'gate');
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
