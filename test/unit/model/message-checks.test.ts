/** Which child ↔ parent messages a workflow believes: the capability and the plan decide. */
import fc from 'fast-check';
import {
  MAX_NAMED_SENDERS,
  OTHER_SENDERS,
  RejectedMessages,
  checkAbandon,
  checkArrival,
  checkCapability,
  checkInterventionState,
  checkOutcome,
  checkWithdrawal,
  claimedSender,
} from '../../../src/model/message-checks';
import { PipelineRun } from '../../../src/model/pipeline-run';
import type { BarrierStepPlan, PipelinePlan, StagePlan, WorkflowPlan } from '../../../src/model/plan';
import { compilePipelineText } from '../../../src/pipeline-file/compile';

const CAPABILITY = '6c1f7a52-93d0-4e8b-a4f1-0b2d9e7c5a31';
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);

const plan: PipelinePlan = compilePipelineText(
  `
name: checks
variables: { region: eu }
stages:
  - name: deploy
    workflows:
      - name: a
        steps: [{ name: go, type: shell, command: "true" }, { name: gate, type: barrier, identifier: gate, timeoutMs: 40000 }]
      - name: b
        steps:
          - { name: gate, type: barrier, identifier: gate, timeoutMs: 5000 }
          - { name: maybe, type: barrier, identifier: maybe, when: { var: region, equals: us } }
      - name: c
        steps: [{ name: maybe, type: barrier, identifier: maybe }]
`,
  'checks.yaml',
  { pipelineId: 'p-1' },
).plan;
const [deploy] = plan.stages as [StagePlan];
const wf = (name: string): WorkflowPlan => deploy.workflows.find((w) => w.name === name)!;

describe('checkCapability', () => {
  it('requires the exact capability once the pipeline has one, and nothing before', () => {
    expect(checkCapability(CAPABILITY, CAPABILITY)).toBeUndefined();
    expect(checkCapability(CAPABILITY, undefined)).toBe('it carries no capability');
    expect(checkCapability(CAPABILITY, CAPABILITY.toUpperCase())).toBe(
      "its capability is not the pipeline's",
    );
    expect(checkCapability(undefined, undefined)).toBeUndefined();
    expect(checkCapability(undefined, 'anything-at-all-here')).toBeUndefined();
  });
});

describe('checkArrival', () => {
  const arrival = {
    workflow: 'a',
    identifier: 'gate',
    timeoutMs: 40_000,
    arrivedAt: T0,
    capability: CAPABILITY,
  };

  it("accepts a participant's arrival with the plan's timeout", () => {
    expect(checkArrival(plan, CAPABILITY, arrival)).toEqual({
      ok: true,
      value: { workflow: wf('a'), participant: 'a', timeoutMs: 40_000 },
    });
  });

  it('refuses one without the capability, from a stranger or a non-participant, or with another timeout', () => {
    const reason = (overrides: object) => {
      const checked = checkArrival(plan, CAPABILITY, { ...arrival, ...overrides });
      return checked.ok ? 'accepted' : checked.reason;
    };
    expect(reason({ capability: undefined })).toBe('it carries no capability');
    expect(reason({ workflow: 'mallory' })).toBe('mallory is not a workflow of this pipeline');
    expect(reason({ workflow: 'c' })).toBe('c is not a participant of barrier gate');
    expect(reason({ workflow: 'b', identifier: 'maybe', timeoutMs: 600_000 })).toBe(
      'b skips barrier maybe in the plan',
    );
    expect(reason({ timeoutMs: 1 })).toBe(
      "timeoutMs 1 disagrees with the plan's 40000 for a at barrier gate",
    );
  });

  it('property: whatever an accepted arrival says, its timeout is the plan step’s and its sender a participant', () => {
    fc.assert(
      fc.property(
        fc.record({
          workflow: fc.constantFrom('a', 'b', 'c', 'mallory'),
          identifier: fc.constantFrom('gate', 'maybe', 'other'),
          timeoutMs: fc.oneof(fc.constantFrom(1, 5000, 40_000, 600_000), fc.integer({ min: 1 })),
          arrivedAt: fc.nat(),
          capability: fc.option(fc.constantFrom(CAPABILITY, 'f'.repeat(36)), { nil: undefined }),
        }),
        (message) => {
          const checked = checkArrival(plan, CAPABILITY, message);
          if (!checked.ok) return;
          const step = checked.value.workflow.steps.find(
            (s): s is BarrierStepPlan => s.type === 'barrier' && s.identifier === message.identifier,
          );
          expect(message.capability).toBe(CAPABILITY);
          expect(step).toBeDefined();
          expect(step!.skip).toBe(false);
          expect(checked.value.timeoutMs).toBe(step!.timeoutMs);
          expect(message.timeoutMs).toBe(step!.timeoutMs);
        },
      ),
    );
  });
});

describe('the other messages', () => {
  it('takes a withdrawal only for a barrier step the plan skips', () => {
    const message = { workflow: 'b', identifier: 'maybe', capability: CAPABILITY };
    expect(checkWithdrawal(plan, CAPABILITY, message).ok).toBe(true);
    expect(checkWithdrawal(plan, CAPABILITY, { ...message, identifier: 'gate' })).toEqual({
      ok: false,
      reason: 'b does not skip barrier gate in the plan',
    });
    expect(checkWithdrawal(plan, CAPABILITY, { ...message, workflow: 'a' })).toEqual({
      ok: false,
      reason: 'a is not a participant of barrier maybe',
    });
    expect(checkWithdrawal(plan, CAPABILITY, { ...message, capability: undefined }).ok).toBe(false);
  });

  it('takes an abandon or an intervention state only from a workflow of the plan, with the capability', () => {
    expect(checkAbandon(plan, CAPABILITY, { workflow: 'a', reason: 'boom', capability: CAPABILITY }).ok).toBe(
      true,
    );
    expect(checkAbandon(plan, CAPABILITY, { workflow: 'a', reason: 'boom' }).ok).toBe(false);
    expect(checkAbandon(plan, undefined, { workflow: 'a', reason: 'boom' }).ok).toBe(true);
    const state = { workflow: 'a', waiting: true, step: 'go', capability: CAPABILITY };
    expect(checkInterventionState(plan, CAPABILITY, state).ok).toBe(true);
    expect(checkInterventionState(plan, CAPABILITY, { ...state, step: 'nope' })).toEqual({
      ok: false,
      reason: 'a has no step named nope',
    });
    expect(checkInterventionState(plan, CAPABILITY, { ...state, capability: 'x'.repeat(36) }).ok).toBe(false);
  });

  it("takes an outcome only with the capability and for one of the child's own barriers", () => {
    const outcome = {
      identifier: 'gate',
      kind: 'released' as const,
      message: 'crossed',
      capability: CAPABILITY,
    };
    expect(checkOutcome(wf('a'), CAPABILITY, outcome).ok).toBe(true);
    expect(checkOutcome(wf('a'), CAPABILITY, { ...outcome, capability: undefined }).ok).toBe(false);
    expect(checkOutcome(wf('c'), CAPABILITY, outcome)).toEqual({
      ok: false,
      reason: 'gate is not a barrier of c',
    });
  });

  it('names the claimed sender of any payload, or the fallback', () => {
    expect(claimedSender({ workflow: 'a' }, '?')).toBe('a');
    expect(claimedSender({ workflow: 'x'.repeat(301) }, '?')).toBe('?');
    for (const payload of [null, 'a', 42, ['a'], { workflow: 7 }, { workflow: '' }, undefined])
      expect(claimedSender(payload, '?')).toBe('?');
  });
});

describe('RejectedMessages', () => {
  it('counts by sender and asks to log only the first from each', () => {
    const ledger = new RejectedMessages();
    expect(ledger.summary()).toBeUndefined();
    expect([ledger.record('x'), ledger.record('x'), ledger.record('y'), ledger.record('x')]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(ledger.summary()).toEqual({ count: 4, bySender: { x: 3, y: 1 } });
  });

  it('property: a flood under any names logs at most one line per named sender plus one, and counts everything', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 300 }), (senders) => {
        const ledger = new RejectedMessages();
        const logged = senders.filter((s) => ledger.record(s)).length;
        const distinct = new Set(senders).size;
        expect(logged).toBeLessThanOrEqual(Math.min(distinct, MAX_NAMED_SENDERS + 1));
        if (distinct <= MAX_NAMED_SENDERS) expect(logged).toBe(distinct);
        const summary = ledger.summary();
        if (senders.length === 0) return expect(summary).toBeUndefined();
        expect(summary!.count).toBe(senders.length);
        expect(Object.values(summary!.bySender).reduce((a, b) => a + b, 0)).toBe(senders.length);
        const named = Object.keys(summary!.bySender).filter((k) => k !== OTHER_SENDERS);
        expect(named.length).toBeLessThanOrEqual(MAX_NAMED_SENDERS);
      }),
    );
  });
});

describe('PipelineRun with a capability', () => {
  const started = () => {
    const run = new PipelineRun(plan, 'p-1', T0, CAPABILITY);
    run.startStage(deploy, T0);
    for (const w of deploy.workflows) run.startWorkflow(w);
    return run;
  };

  it('uses the timeout of the plan, and refuses an arrival claiming another', () => {
    const run = started();
    expect(
      run.arrive({ workflow: 'a', identifier: 'gate', timeoutMs: 1, arrivedAt: T0 }, T0).refused,
    ).toBeDefined();
    run.arrive(
      { workflow: 'a', identifier: 'gate', timeoutMs: 40_000, arrivedAt: T0, capability: CAPABILITY },
      T0,
    );
    expect(run.nextDeadline()).toBe(T0 + 40_000);
    expect(run.document().rejectedMessages).toEqual({ count: 1, bySender: { a: 1 } });
  });

  it('refuses the parent-relayed intervene update: the decision goes to the workflow itself', () => {
    expect(() => started().validateIntervene({ workflow: 'a', action: 'retry' })).toThrow(
      'decisions go to the workflow itself: send the convoy.intervene update to p-1/a',
    );
  });

  it('property: no sequence of messages without the capability changes anything but the count', () => {
    const forged = fc.oneof(
      fc.record({
        kind: fc.constant('arrive' as const),
        workflow: fc.constantFrom('a', 'b', 'c'),
        identifier: fc.constantFrom('gate', 'maybe'),
        timeoutMs: fc.constantFrom(5000, 40_000, 600_000, 1),
      }),
      fc.record({
        kind: fc.constantFrom('withdraw' as const, 'abandon' as const, 'state' as const),
        workflow: fc.constantFrom('a', 'b', 'c'),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(forged, fc.option(fc.constant('0'.repeat(36)), { nil: undefined })), {
          minLength: 1,
          maxLength: 30,
        }),
        (messages) => {
          const run = started();
          const before = run.document();
          messages.forEach(([m, capability], i) => {
            const now = T0 + i;
            const d =
              m.kind === 'arrive'
                ? run.arrive(
                    {
                      workflow: m.workflow,
                      identifier: m.identifier,
                      timeoutMs: m.timeoutMs,
                      arrivedAt: now,
                      capability,
                    },
                    now,
                  )
                : m.kind === 'withdraw'
                  ? run.withdraw({ workflow: m.workflow, identifier: 'maybe', capability }, now)
                  : m.kind === 'abandon'
                    ? run.abandon({ workflow: m.workflow, reason: 'forged', capability }, now)
                    : run.interventionState({ workflow: m.workflow, waiting: true, capability });
            expect(d.outcomes).toEqual([]);
            expect(d.refused).toBeDefined();
          });
          const { rejectedMessages, ...after } = run.document();
          expect(after).toEqual(before);
          expect(rejectedMessages?.count).toBe(messages.length);
          expect(run.nextDeadline()).toBeUndefined();
        },
      ),
    );
  });
});
