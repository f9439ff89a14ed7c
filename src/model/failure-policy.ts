/**
 * Failure strategies (SPEC section 4) as pure decisions: which rule applies to a failed step, and
 * what the workflow does next — retry after a wait, wait for an operator, carry on, or end.
 * The deployment workflow asks these functions and does what they answer; it holds no rule of
 * its own.
 *
 * Pure module: the deployment workflow calls it inside the Temporal sandbox.
 */
import {
  ErrorTypes,
  type ErrorType,
  type FailureRule,
  type InterventionAction,
  type BranchStepPlan,
  type WorkflowPlan,
} from './plan';

/** Error types whose outcome is final: a barrier that broke or timed out stays so. */
export const FINAL_ERROR_TYPES: readonly ErrorType[] = [ErrorTypes.barrierBroken, ErrorTypes.barrierTimeout];

/** True for an error type that no retry can change (a barrier's outcome). */
export function isFinalErrorType(errorType: string): boolean {
  return (FINAL_ERROR_TYPES as readonly string[]).includes(errorType);
}

/** The terminal actions: the workflow ends, after its rollback steps for `rollback`. */
export type TerminalAction = 'abort' | 'rollback';

/** The rules that may apply to one step, in precedence order, and whether a rollback exists. */
export interface FailureContext {
  readonly stepRules: readonly FailureRule[];
  readonly workflowRules: readonly FailureRule[];
  readonly pipelineRules: readonly FailureRule[];
  readonly hasRollbackSteps: boolean;
}

/** The failure context of `step` in `workflow`, under the pipeline-wide rules. */
export function failureContextOf(
  step: Pick<BranchStepPlan, 'failureStrategies'>,
  workflow: Pick<WorkflowPlan, 'failureStrategies' | 'rollbackSteps'>,
  pipelineRules: readonly FailureRule[],
): FailureContext {
  return {
    stepRules: step.failureStrategies,
    workflowRules: workflow.failureStrategies,
    pipelineRules,
    hasRollbackSteps: workflow.rollbackSteps.length > 0,
  };
}

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
  return { on: [errorType], action: defaultTerminalAction(hasRollbackSteps) };
}

/** `rollback` when the workflow has rollback steps, else `abort`: the default of every fallback. */
export function defaultTerminalAction(hasRollbackSteps: boolean): TerminalAction {
  return hasRollbackSteps ? 'rollback' : 'abort';
}

/** True when `rule` applies to `errorType` (see {@link resolveFailureAction} for retry rules). */
export function ruleMatches(rule: FailureRule, errorType: ErrorType): boolean {
  if (rule.action === 'retry' && isFinalErrorType(errorType)) return false;
  return rule.on.includes(errorType) || rule.on.includes(ErrorTypes.any);
}

/** What the workflow does next about a failed step. */
export type NextMove =
  /** Run the step again after `waitMs`; `resetRetries` when an operator asked for it. */
  | { readonly kind: 'retry'; readonly waitMs: number; readonly resetRetries: boolean }
  /** Wait for an operator's decision, at most `timeoutMs` (forever when absent). */
  | {
      readonly kind: 'wait-for-operator';
      readonly timeoutMs?: number;
      readonly onTimeout: InterventionAction;
    }
  /** Go on with the next step; the failed step ends with `stepStatus`. */
  | { readonly kind: 'continue'; readonly stepStatus: 'ignored' | 'succeeded' }
  /** The workflow ends: it breaks its remaining barriers, then rolls back or aborts. */
  | { readonly kind: 'end'; readonly action: TerminalAction };

/** How long to wait before retry number `retriesUsed + 1`: the last interval repeats; none is 0. */
export function retryWaitMs(rule: FailureRule, retriesUsed: number): number {
  const intervals = rule.retryIntervalsMs ?? [];
  return intervals.length ? intervals[Math.min(retriesUsed, intervals.length - 1)]! : 0;
}

/**
 * The next move after an attempt of a step failed with `errorType`, `retriesUsed` retries into
 * its current rule: retry while the rule's `retryCount` allows (default 1), then its
 * `onRetryFailure` (default: the default terminal action).
 */
export function afterFailure(errorType: ErrorType, context: FailureContext, retriesUsed: number): NextMove {
  const rule = resolveFailureAction(
    errorType,
    context.stepRules,
    context.workflowRules,
    context.pipelineRules,
    context.hasRollbackSteps,
  );
  let action = rule.action;
  if (action === 'retry') {
    if (retriesUsed < (rule.retryCount ?? 1)) {
      return { kind: 'retry', waitMs: retryWaitMs(rule, retriesUsed), resetRetries: false };
    }
    action = rule.onRetryFailure ?? defaultTerminalAction(context.hasRollbackSteps);
  }
  switch (action) {
    case 'manual-intervention':
      return {
        kind: 'wait-for-operator',
        ...(rule.timeoutMs !== undefined ? { timeoutMs: rule.timeoutMs } : {}),
        onTimeout: rule.onTimeout ?? 'abort',
      };
    case 'ignore':
      return { kind: 'continue', stepStatus: 'ignored' };
    default:
      return { kind: 'end', action };
  }
}

/**
 * The next move once an operator decided, or `undefined` when nobody did in time (then the
 * waiting move's `onTimeout` applies). An operator's `retry` starts the step's retries afresh.
 */
export function afterDecision(
  decision: InterventionAction | undefined,
  waiting: Extract<NextMove, { kind: 'wait-for-operator' }>,
): Exclude<NextMove, { kind: 'wait-for-operator' }> {
  const action = decision ?? waiting.onTimeout;
  switch (action) {
    case 'retry':
      return { kind: 'retry', waitMs: 0, resetRetries: true };
    case 'ignore':
      return { kind: 'continue', stepStatus: 'ignored' };
    case 'mark-success':
      return { kind: 'continue', stepStatus: 'succeeded' };
    default:
      return { kind: 'end', action };
  }
}

/** The step error types a step activity can fail with on its own. */
export const STEP_ERROR_TYPES = [ErrorTypes.stepFailed, ErrorTypes.stepTimeout] as const;
export type StepErrorType = (typeof STEP_ERROR_TYPES)[number];

/**
 * For each step error type, the terminal action this attempt's failure would lead to straight
 * away (no retry, operator or ignore in between); empty when none does.
 */
export function terminalActionsFor(
  context: FailureContext,
  retriesUsed: number,
): Partial<Record<StepErrorType, TerminalAction>> {
  const actions: Partial<Record<StepErrorType, TerminalAction>> = {};
  for (const errorType of STEP_ERROR_TYPES) {
    const move = afterFailure(errorType, context, retriesUsed);
    if (move.kind === 'end') actions[errorType] = move.action;
  }
  return actions;
}

/** Why a workflow broke its barriers: the reason its peers read. One text, whoever sends it. */
export function abandonReason(
  workflowName: string,
  stepName: string,
  message: string,
  action: TerminalAction,
): string {
  return `${workflowName} failed at step ${stepName}: ${message} (action: ${action})`;
}
