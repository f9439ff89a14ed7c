/** Which rule applies to a failure (SPEC section 4): precedence, `any`, defaults, retry on barriers. */
import fc from 'fast-check';
import {
  abandonReason,
  afterDecision,
  afterFailure,
  resolveFailureAction,
  terminalActionsFor,
  type FailureContext,
} from '../../../src/model/failure-policy';
import type { ErrorType, FailureRule } from '../../../src/model/plan';

const rule = (
  on: FailureRule['on'],
  action: FailureRule['action'],
  extra: Partial<FailureRule> = {},
): FailureRule => ({ on, action, ...extra });

describe('resolveFailureAction', () => {
  const stepRules = [rule(['step-timeout'], 'ignore')];
  const workflowRules = [rule(['step-failed'], 'retry', { retryCount: 2 }), rule(['step-timeout'], 'abort')];
  const pipelineRules = [rule(['any'], 'manual-intervention')];

  it('prefers a step rule over workflow and pipeline rules', () => {
    expect(resolveFailureAction('step-timeout', stepRules, workflowRules, pipelineRules, false)).toBe(
      stepRules[0],
    );
  });

  it('falls back to the workflow rules, then the pipeline rules', () => {
    expect(resolveFailureAction('step-failed', stepRules, workflowRules, pipelineRules, false)).toBe(
      workflowRules[0],
    );
    expect(resolveFailureAction('barrier-broken', stepRules, workflowRules, pipelineRules, false)).toBe(
      pipelineRules[0],
    );
  });

  it('takes the first matching rule within a level', () => {
    const rules = [
      rule(['barrier-timeout'], 'ignore'),
      rule(['any'], 'abort'),
      rule(['step-failed'], 'rollback'),
    ];
    expect(resolveFailureAction('step-failed', rules, [], [], true).action).toBe('abort');
  });

  it('defaults to rollback with rollback steps and abort without', () => {
    expect(resolveFailureAction('step-failed', [], [], [], true)).toEqual({
      on: ['step-failed'],
      action: 'rollback',
    });
    expect(resolveFailureAction('step-failed', [], [], [], false)).toEqual({
      on: ['step-failed'],
      action: 'abort',
    });
  });

  it('never lets a retry rule on `any` retry a barrier error: the search goes on', () => {
    const retryAny = rule(['any'], 'retry', { retryCount: 3 });
    expect(resolveFailureAction('step-failed', [retryAny], [], [], false)).toBe(retryAny);
    expect(
      resolveFailureAction('barrier-broken', [retryAny], [rule(['barrier-broken'], 'ignore')], [], false)
        .action,
    ).toBe('ignore');
    expect(resolveFailureAction('barrier-timeout', [retryAny], [], [], true).action).toBe('rollback');
  });
});

const context = (
  rules: { step?: FailureRule[]; workflow?: FailureRule[]; pipeline?: FailureRule[] },
  hasRollbackSteps = false,
): FailureContext => ({
  stepRules: rules.step ?? [],
  workflowRules: rules.workflow ?? [],
  pipelineRules: rules.pipeline ?? [],
  hasRollbackSteps,
});

describe('afterFailure', () => {
  it('retries while the rule allows, waiting each interval, the last one repeating', () => {
    const ctx = context({
      step: [rule(['step-failed'], 'retry', { retryCount: 4, retryIntervalsMs: [200, 600] })],
    });
    expect([0, 1, 2, 3].map((used) => afterFailure('step-failed', ctx, used))).toEqual([
      { kind: 'retry', waitMs: 200, resetRetries: false },
      { kind: 'retry', waitMs: 600, resetRetries: false },
      { kind: 'retry', waitMs: 600, resetRetries: false },
      { kind: 'retry', waitMs: 600, resetRetries: false },
    ]);
  });

  it('retries once without a retryCount, at once without intervals', () => {
    const ctx = context({ workflow: [rule(['any'], 'retry')] });
    expect(afterFailure('step-timeout', ctx, 0)).toEqual({ kind: 'retry', waitMs: 0, resetRetries: false });
    expect(afterFailure('step-timeout', ctx, 1)).toEqual({ kind: 'end', action: 'abort' });
  });

  it('after the retries, does onRetryFailure, else the default terminal action', () => {
    const exhausted = (extra: Partial<FailureRule>, rollback: boolean) =>
      afterFailure(
        'step-failed',
        context({ step: [rule(['step-failed'], 'retry', { retryCount: 1, ...extra })] }, rollback),
        1,
      );
    expect(exhausted({}, true)).toEqual({ kind: 'end', action: 'rollback' });
    expect(exhausted({}, false)).toEqual({ kind: 'end', action: 'abort' });
    expect(exhausted({ onRetryFailure: 'ignore' }, true)).toEqual({
      kind: 'continue',
      stepStatus: 'ignored',
    });
    expect(exhausted({ onRetryFailure: 'abort' }, true)).toEqual({ kind: 'end', action: 'abort' });
    expect(exhausted({ onRetryFailure: 'manual-intervention' }, false)).toEqual({
      kind: 'wait-for-operator',
      onTimeout: 'abort',
    });
  });

  it('waits for an operator with the rule timeout and onTimeout (default abort)', () => {
    expect(
      afterFailure(
        'barrier-broken',
        context({
          pipeline: [rule(['any'], 'manual-intervention', { timeoutMs: 5000, onTimeout: 'ignore' })],
        }),
        0,
      ),
    ).toEqual({ kind: 'wait-for-operator', timeoutMs: 5000, onTimeout: 'ignore' });
    expect(
      afterFailure('barrier-broken', context({ pipeline: [rule(['any'], 'manual-intervention')] }), 0),
    ).toEqual({
      kind: 'wait-for-operator',
      onTimeout: 'abort',
    });
  });

  it('never retries a barrier error, whatever the retries used', () => {
    const ctx = context({ step: [rule(['any'], 'retry', { retryCount: 1000 })] }, true);
    expect(afterFailure('barrier-broken', ctx, 0)).toEqual({ kind: 'end', action: 'rollback' });
    expect(afterFailure('barrier-timeout', ctx, 0)).toEqual({ kind: 'end', action: 'rollback' });
  });

  it('ignores and aborts as the rule says', () => {
    expect(afterFailure('step-failed', context({ step: [rule(['step-failed'], 'ignore')] }), 0)).toEqual({
      kind: 'continue',
      stepStatus: 'ignored',
    });
    expect(afterFailure('step-failed', context({ step: [rule(['step-failed'], 'abort')] }, true), 0)).toEqual(
      {
        kind: 'end',
        action: 'abort',
      },
    );
  });
});

describe('afterDecision', () => {
  const waiting = { kind: 'wait-for-operator', onTimeout: 'rollback' } as const;
  it.each([
    ['retry', { kind: 'retry', waitMs: 0, resetRetries: true }],
    ['ignore', { kind: 'continue', stepStatus: 'ignored' }],
    ['mark-success', { kind: 'continue', stepStatus: 'succeeded' }],
    ['abort', { kind: 'end', action: 'abort' }],
    ['rollback', { kind: 'end', action: 'rollback' }],
  ] as const)('an operator decision %s', (decision, move) => {
    expect(afterDecision(decision, waiting)).toEqual(move);
  });
  it('applies onTimeout when nobody decided', () => {
    expect(afterDecision(undefined, waiting)).toEqual({ kind: 'end', action: 'rollback' });
    expect(afterDecision(undefined, { kind: 'wait-for-operator', onTimeout: 'mark-success' })).toEqual({
      kind: 'continue',
      stepStatus: 'succeeded',
    });
  });
});

describe('terminalActionsFor', () => {
  it('names the step error types whose failure ends the workflow straight away', () => {
    const ctx = context(
      { step: [rule(['step-timeout'], 'ignore')], workflow: [rule(['step-failed'], 'retry')] },
      true,
    );
    expect(terminalActionsFor(ctx, 0)).toEqual({});
    expect(terminalActionsFor(ctx, 1)).toEqual({ 'step-failed': 'rollback' });
    expect(terminalActionsFor(context({}), 0)).toEqual({ 'step-failed': 'abort', 'step-timeout': 'abort' });
  });
});

describe('abandonReason', () => {
  it('says who failed where, why, and what it does', () => {
    expect(abandonReason('payments', 'deploy', 'exit code 3', 'rollback')).toBe(
      'payments failed at step deploy: exit code 3 (action: rollback)',
    );
  });
});

describe('failure policy properties', () => {
  const errorType = fc.constantFrom<ErrorType>(
    'step-failed',
    'step-timeout',
    'barrier-broken',
    'barrier-timeout',
  );
  const action = fc.constantFrom<FailureRule['action']>(
    'abort',
    'rollback',
    'ignore',
    'retry',
    'manual-intervention',
  );
  const ruleArb: fc.Arbitrary<FailureRule> = fc
    .record({
      on: fc.uniqueArray(
        fc.constantFrom<ErrorType>('step-failed', 'step-timeout', 'barrier-broken', 'barrier-timeout', 'any'),
        {
          minLength: 1,
        },
      ),
      action,
      retryCount: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      retryIntervalsMs: fc.option(
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 3 }),
        {
          nil: undefined,
        },
      ),
      onRetryFailure: fc.option(
        fc.constantFrom('abort', 'rollback', 'ignore', 'manual-intervention' as const),
        {
          nil: undefined,
        },
      ),
    })
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as FailureRule);
  const ctxArb = fc
    .record({
      step: fc.array(ruleArb, { maxLength: 3 }),
      workflow: fc.array(ruleArb, { maxLength: 3 }),
      pipeline: fc.array(ruleArb, { maxLength: 3 }),
      rollback: fc.boolean(),
    })
    .map((c) => context({ step: c.step, workflow: c.workflow, pipeline: c.pipeline }, c.rollback));

  it('a barrier error is never retried', () => {
    fc.assert(
      fc.property(
        ctxArb,
        fc.constantFrom<ErrorType>('barrier-broken', 'barrier-timeout'),
        fc.nat(10),
        (ctx, type, used) => {
          expect(afterFailure(type, ctx, used).kind).not.toBe('retry');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('retries stop: at most retryCount retries in a row under one rule', () => {
    fc.assert(
      fc.property(ctxArb, errorType, (ctx, type) => {
        let used = 0;
        while (afterFailure(type, ctx, used).kind === 'retry') used += 1;
        const rule = resolveFailureAction(
          type,
          ctx.stepRules,
          ctx.workflowRules,
          ctx.pipelineRules,
          ctx.hasRollbackSteps,
        );
        expect(used).toBe(rule.action === 'retry' ? (rule.retryCount ?? 1) : 0);
      }),
      { numRuns: 500 },
    );
  });

  it('rollback is only ever chosen by a rule or when there are rollback steps to run', () => {
    fc.assert(
      fc.property(ctxArb, errorType, fc.nat(6), (ctx, type, used) => {
        const move = afterFailure(type, ctx, used);
        if (move.kind !== 'end' || move.action !== 'rollback' || ctx.hasRollbackSteps) return;
        const all = [...ctx.stepRules, ...ctx.workflowRules, ...ctx.pipelineRules];
        expect(all.some((r) => r.action === 'rollback' || r.onRetryFailure === 'rollback')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the terminal actions announced early are exactly the moves that end', () => {
    fc.assert(
      fc.property(ctxArb, fc.nat(6), (ctx, used) => {
        const early = terminalActionsFor(ctx, used);
        for (const type of ['step-failed', 'step-timeout'] as const) {
          const move = afterFailure(type, ctx, used);
          expect(early[type]).toBe(move.kind === 'end' ? move.action : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });
});
