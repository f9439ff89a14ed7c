/** Which rule applies to a failure (SPEC section 4): precedence, `any`, defaults, retry on barriers. */
import { resolveFailureAction } from '../../../src/model/failure-policy';
import type { FailureRule } from '../../../src/model/plan';

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
