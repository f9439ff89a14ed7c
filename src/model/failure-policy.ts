/**
 * Which failure-strategy rule applies to a failed step (SPEC section 4).
 *
 * Pure module: the deployment workflow calls it inside the Temporal sandbox.
 */
import { type ErrorType, type FailureRule, ErrorTypes } from './plan';

/** Error types whose outcome is final: a barrier that broke or timed out stays so. */
const FINAL_ERROR_TYPES: ReadonlySet<ErrorType> = new Set([
  ErrorTypes.barrierBroken,
  ErrorTypes.barrierTimeout,
]);

/**
 * Returns the rule to apply when a step failed with `errorType`: the first matching rule of the
 * step, else of the workflow, else of the pipeline; a rule matches when its `on` lists the error
 * type or `any`. Without a match, the default: `rollback` when the workflow has rollback steps,
 * else `abort` (returned as a rule `{ on: [errorType], action }`).
 *
 * A `retry` rule never matches a barrier error (`barrier-broken`, `barrier-timeout`): validation
 * rejects `retry` rules that name those types, and a `retry` rule on `any` ("retry whatever
 * fails") is read as "retry whatever can be retried", so the search goes on to the next rule, as
 * if the retry rule did not list the barrier error. Retrying cannot change a barrier's outcome.
 */
export function resolveFailureAction(
  errorType: ErrorType,
  stepRules: readonly FailureRule[],
  workflowRules: readonly FailureRule[],
  pipelineRules: readonly FailureRule[],
  hasRollbackSteps: boolean,
): FailureRule {
  for (const rules of [stepRules, workflowRules, pipelineRules]) {
    const match = rules.find((rule) => ruleMatches(rule, errorType));
    if (match) return match;
  }
  return defaultFailureRule(errorType, hasRollbackSteps);
}

/** The rule applied when no rule matches: `rollback` if there are rollback steps, else `abort`. */
export function defaultFailureRule(errorType: ErrorType, hasRollbackSteps: boolean): FailureRule {
  return { on: [errorType], action: hasRollbackSteps ? 'rollback' : 'abort' };
}

/** True when `rule` applies to `errorType` (see {@link resolveFailureAction} for retry rules). */
export function ruleMatches(rule: FailureRule, errorType: ErrorType): boolean {
  if (rule.action === 'retry' && FINAL_ERROR_TYPES.has(errorType)) return false;
  return rule.on.includes(errorType) || rule.on.includes(ErrorTypes.any);
}
