/**
 * A pipeline's side of its release trains, without Temporal: its own participants cross its
 * barrier first, then it arrives at the train with the deadline they had; the train's outcome
 * (with the pipeline's token) settles the barrier; a barrier broken before the arrival, or a
 * pipeline that ends without reaching it, leaves the train.
 */
import { PipelineRun } from '../../../../src/model/pipeline-run';
import type { StagePlan } from '../../../../src/model/plan';
import type { TrainOutcomeMessage } from '../../../../src/model/protocol';
import { TrainRun } from '../../../../src/model/train/train-run';
import { compilePipelineText } from '../../../../src/pipeline-file/compile';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const TOKEN = 'train-token-0123456789abcdef';

const plan = compilePipelineText(
  `
name: payments-release
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - name: cutover
            type: barrier
            identifier: traffic-cutover
            timeoutMs: 1000
            train: { name: spring, expect: [payments-release, checkout-release] }
      - name: ledger
        steps: [{ name: cutover, type: barrier, identifier: traffic-cutover, timeoutMs: 5000 }]
  - name: verify
    workflows:
      - name: smoke
        steps: [{ name: check, type: shell, command: "true" }]
`,
  'payments.yaml',
  { pipelineId: 'pay-1' },
).plan;
const deploy = plan.stages[0] as StagePlan;

function started(): PipelineRun {
  const run = new PipelineRun(plan, 'pay-1', T0, undefined, TOKEN);
  run.startStage(deploy, T0);
  for (const wf of deploy.workflows) run.startWorkflow(wf);
  return run;
}

function arriveAll(run: PipelineRun): void {
  run.arrive(
    { workflow: 'api', identifier: 'traffic-cutover', timeoutMs: 1000, arrivedAt: T0 + 100 },
    T0 + 100,
  );
  run.arrive(
    { workflow: 'ledger', identifier: 'traffic-cutover', timeoutMs: 5000, arrivedAt: T0 + 300 },
    T0 + 300,
  );
}

function outcome(overrides: Partial<TrainOutcomeMessage> = {}): TrainOutcomeMessage {
  return {
    train: 'spring',
    identifier: 'traffic-cutover',
    runId: 'run-1',
    token: TOKEN,
    kind: 'released',
    message: 'Train spring (barrier traffic-cutover) crossed',
    status: 'crossed',
    arrivals: { 'payments-release': new Date(T0 + 300).toISOString() },
    ...overrides,
  };
}

test('the barrier has the train as a participant, and the plan carries the train', () => {
  expect(deploy.barriers).toEqual([
    {
      identifier: 'traffic-cutover',
      participants: ['api', 'ledger'],
      train: { name: 'spring', expect: ['payments-release', 'checkout-release'] },
    },
  ]);
  const run = started();
  expect(run.document().barriers[0]).toMatchObject({
    participants: ['api', 'ledger', 'train:spring'],
    status: 'standing',
    train: {
      name: 'spring',
      workflowId: 'convoy-train/spring/traffic-cutover',
      status: 'standing',
      expect: ['payments-release', 'checkout-release'],
    },
  });
});

test('once its own participants arrived, the pipeline arrives at the train with their deadline and keeps none itself', () => {
  const run = started();
  run.arrive(
    { workflow: 'api', identifier: 'traffic-cutover', timeoutMs: 1000, arrivedAt: T0 + 100 },
    T0 + 100,
  );
  expect(run.trainMessages(T0 + 100)).toEqual({ joins: [], leaves: [] });
  run.arrive(
    { workflow: 'ledger', identifier: 'traffic-cutover', timeoutMs: 5000, arrivedAt: T0 + 300 },
    T0 + 300,
  );
  const { joins, leaves } = run.trainMessages(T0 + 300);
  expect(leaves).toEqual([]);
  expect(joins).toEqual([
    {
      workflowId: 'convoy-train/spring/traffic-cutover',
      train: 'spring',
      identifier: 'traffic-cutover',
      expect: ['payments-release', 'checkout-release'],
      arrival: {
        pipeline: 'payments-release',
        pipelineId: 'pay-1',
        token: TOKEN,
        expect: ['payments-release', 'checkout-release'],
        arrivedAt: T0 + 300,
        // api's deadline: arrived at +100 with 1000 ms.
        timeoutMs: 800,
      },
    },
  ]);
  // The train enforces the deadline now: the pipeline's own barrier no longer times out.
  expect(run.nextDeadline()).toBeUndefined();
  expect(run.expire(T0 + 5000).outcomes).toEqual([]);
  expect(run.trainMessages(T0 + 5000)).toEqual({ joins: [], leaves: [] });
  expect(run.document().workflows.map((w) => w.status)).toEqual([
    'waiting-at-barrier',
    'waiting-at-barrier',
    'not-started',
  ]);
});

test.each([
  [{}, 'crossed', 'released', undefined],
  [{ status: 'forced' as const, reason: 'ops' }, 'forced', 'released', 'train spring: ops'],
  [
    {
      kind: 'broken' as const,
      errorType: 'barrier-broken' as const,
      status: 'broken' as const,
      reason: 'checkout-release: web failed',
    },
    'broken',
    'broken',
    'train:spring: checkout-release: web failed',
  ],
  [
    {
      kind: 'timed-out' as const,
      errorType: 'barrier-timeout' as const,
      status: 'timed-out' as const,
      missing: ['checkout-release'],
    },
    'timed-out',
    'timed-out',
    'train spring timed out waiting for checkout-release',
  ],
])('the train outcome %j settles the barrier %s for both participants', (fields, status, kind, reason) => {
  const run = started();
  arriveAll(run);
  run.trainMessages(T0 + 300);
  const decision = run.trainOutcome(outcome(fields), T0 + 400);
  expect(decision.outcomes.map((o) => [o.participant, o.kind])).toEqual([
    ['api', kind],
    ['ledger', kind],
  ]);
  const barrier = run.document().barriers[0]!;
  expect(barrier.status).toBe(status);
  expect(barrier.reason).toBe(reason);
  expect(barrier.train).toMatchObject({ status: outcome(fields).status, runId: 'run-1' });
  if (status === 'timed-out') expect(decision.outcomes[0]!.message).toContain('checkout-release');
});

test('an outcome without the token, for another train, or before the pipeline arrived moves nothing', () => {
  const run = started();
  const early = run.trainOutcome(outcome(), T0 + 50);
  expect(early.outcomes).toEqual([]);
  expect(early.rejected).toContain('does not wait for it');
  arriveAll(run);
  run.trainMessages(T0 + 300);
  for (const forged of [
    outcome({ token: 'x'.repeat(30) }),
    outcome({ train: 'autumn' }),
    outcome({ identifier: 'other' }),
  ]) {
    const decision = run.trainOutcome(forged, T0 + 400);
    expect(decision.outcomes).toEqual([]);
    expect(decision.refused).toBeDefined();
  }
  expect(run.document().barriers[0]!.status).toBe('standing');
  expect(run.document().rejectedMessages?.count).toBe(3);
  // A pipeline started before trains (no token) believes no train at all.
  const old = new PipelineRun(plan, 'pay-1', T0);
  expect(old.trainOutcome(outcome(), T0).refused).toBeDefined();
  expect(old.trainMembership({ train: 'spring', identifier: 'traffic-cutover', token: TOKEN })).toBeNull();
});

test('a participant failing before the pipeline arrived leaves the train, naming why', () => {
  const run = started();
  run.arrive(
    { workflow: 'api', identifier: 'traffic-cutover', timeoutMs: 1000, arrivedAt: T0 + 100 },
    T0 + 100,
  );
  run.abandon({ workflow: 'ledger', reason: 'ledger: step migrate failed' }, T0 + 200);
  const { joins, leaves } = run.trainMessages(T0 + 200);
  expect(joins).toEqual([]);
  expect(leaves).toEqual([
    {
      workflowId: 'convoy-train/spring/traffic-cutover',
      notice: {
        pipeline: 'payments-release',
        pipelineId: 'pay-1',
        token: TOKEN,
        reason: 'ledger: ledger: step migrate failed',
      },
    },
  ]);
  // Once: the leave is not repeated.
  expect(run.trainMessages(T0 + 300).leaves).toEqual([]);
});

test('a pipeline that ends before reaching its train barrier leaves the train', () => {
  const failingFirst = compilePipelineText(
    `
name: checkout-release
stages:
  - name: build
    workflows: [{ name: compile, steps: [{ name: make, type: shell, command: "false" }] }]
  - name: deploy
    workflows:
      - name: web
        steps: [{ name: cutover, type: barrier, identifier: traffic-cutover, train: { name: spring, expect: [checkout-release] } }]
`,
    'checkout.yaml',
    { pipelineId: 'co-1' },
  ).plan;
  const run = new PipelineRun(failingFirst, 'co-1', T0, undefined, TOKEN);
  run.startStage(failingFirst.stages[0]!, T0);
  run.startWorkflow(failingFirst.stages[0]!.workflows[0]!);
  run.endWorkflow(failingFirst.stages[0]!.workflows[0]!, { threw: true }, T0 + 10);
  run.endStage(failingFirst.stages[0]!);
  expect(run.trainMessages(T0 + 10).leaves).toEqual([]);
  run.finish(T0 + 20);
  expect(run.trainMessages(T0 + 20).leaves.map((l) => l.notice.reason)).toEqual([
    'pipeline co-1 ended failed before reaching barrier traffic-cutover',
  ]);
});

test('the pipeline confirms only its own token, for its own train barrier; its barrier refuses pipeline-level operator commands', () => {
  const run = started();
  expect(run.trainMembership({ train: 'spring', identifier: 'traffic-cutover', token: TOKEN })).toEqual({
    pipeline: 'payments-release',
    expect: ['payments-release', 'checkout-release'],
  });
  expect(
    run.trainMembership({ train: 'spring', identifier: 'traffic-cutover', token: 'guess'.repeat(5) }),
  ).toBeNull();
  expect(run.trainMembership({ train: 'spring', identifier: 'other', token: TOKEN })).toBeNull();
  expect(() => run.validateBarrierCommand({ stage: 'deploy', identifier: 'traffic-cutover' })).toThrow(
    'use convoy train release|break spring traffic-cutover',
  );
});

test('the join activity failing for good breaks the barrier for its participants', () => {
  const run = started();
  arriveAll(run);
  const [join] = run.trainMessages(T0 + 300).joins;
  const decision = run.trainUnreachable(join!, 'no route', T0 + 400);
  expect(decision.outcomes.map((o) => o.kind)).toEqual(['broken', 'broken']);
  expect(run.document().barriers[0]!.reason).toContain('could not reach train spring: no route');
});

describe('the train run', () => {
  const arrival = (pipeline: string, pipelineId = `${pipeline}-1`) => ({
    kind: 'arrive' as const,
    arrival: {
      pipeline,
      pipelineId,
      token: TOKEN,
      expect: ['a', 'b'],
      arrivedAt: T0,
      timeoutMs: 10_000,
    },
  });
  const membership = (pipeline: string) => ({ pipeline, expect: ['a', 'b'] });
  const newRun = () =>
    new TrainRun({ train: 'spring', identifier: 'cut', expect: ['a', 'b'] }, T0, {
      workflowId: 'w',
      runId: 'r1',
    });

  test('remembers a confirmed token, and carries a newcomer arriving at a resolved run into the next', () => {
    const run = newRun();
    expect(run.knownMembership(arrival('a'))).toBeUndefined();
    run.receive(arrival('a'), membership('a'), T0);
    expect(run.knownMembership(arrival('a'))).toEqual(membership('a'));
    const crossed = run.receive(arrival('b'), membership('b'), T0 + 5);
    expect(crossed.outcomes.map((o) => [o.pipeline, o.kind])).toEqual([
      ['a', 'released'],
      ['b', 'released'],
    ]);
    expect(run.status().status).toBe('crossed');
    // A repeat of a member is dropped; a new pipeline under a name is the next run's.
    expect(run.takeIfLate(arrival('a'))).toBe(true);
    expect(run.takeIfLate(arrival('a', 'a-2'))).toBe(true);
    expect(run.lateArrivals()).toEqual([arrival('a', 'a-2')]);
  });

  test("a pipeline's arrival landing after its own leave is not carried", () => {
    const run = newRun();
    const leave = {
      kind: 'abandon' as const,
      notice: { pipeline: 'a', pipelineId: 'a-1', token: TOKEN, reason: 'failed' },
    };
    run.receive(leave, membership('a'), T0);
    expect(run.status().status).toBe('broken');
    expect(run.takeIfLate(arrival('a'))).toBe(true);
    expect(run.lateArrivals()).toEqual([]);
  });

  test('operator commands are refused once the run is resolved', () => {
    const run = newRun();
    run.validateCommand();
    run.breakTrain({ reason: 'stop' }, T0);
    expect(() => run.validateCommand()).toThrow('already broken');
  });
});
