/**
 * The deployment workflow: one workflow of a stage, run as a child of the pipeline workflow.
 * It runs its steps in order, applies failure strategies, and meets its peers at barriers by
 * signalling the parent (the coordinator) and waiting for the parent's outcome signal.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { z } from 'zod';
import type * as activities from '../activities';
import { ACTIVITY_TIMEOUT_MARGIN_MS, type EarlyAbandon } from '../model/step-activities';
import { Patches } from './patches';
import { resolveFailureAction } from '../model/failure-policy';
import {
  failureRuleSchema,
  workflowPlanSchema,
  type ErrorType,
  type FailureRule,
  type InterventionAction,
  type RollbackStepPlan,
  type StepPlan,
} from '../model/plan';
import { isoMs, type StepResult, type WorkflowResult, type WorkflowStatus } from '../model/result';
import {
  barrierArriveSignal,
  barrierOutcomeSchema,
  barrierOutcomeSignal,
  barrierWithdrawSignal,
  interventionDecisionSchema,
  interventionDecisionSignal,
  interventionStateSignal,
  parsePayload,
  workflowAbandonSignal,
  workflowStatusQuery,
  type BarrierOutcomeMessage,
} from '../model/protocol';

/** Input of {@link deploymentWorkflow}. */
export const deploymentInputSchema = z.object({
  pipelineId: z.string().min(1),
  /** The parent's workflow ID, the barrier coordinator. */
  coordinatorId: z.string().min(1),
  workflow: workflowPlanSchema,
  pipelineFailureStrategies: z.array(failureRuleSchema),
});
export type DeploymentInput = z.infer<typeof deploymentInputSchema>;

/** How long a child waits past a barrier's timeout for the coordinator before giving up on it. */
const COORDINATOR_GRACE_MS = 60_000;
/** A shell or http step without timeoutMs may run this long. */
const DEFAULT_STEP_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * The activities for one step. The activity enforces the step's own timeout (so the error type is
 * `step-timeout`); Temporal's timeout is a margin later. Convoy waits for a cancelled step to be
 * killed.
 */
function stepActivities(step: { timeoutMs?: number }, summary: string) {
  return proxyActivities<typeof activities>({
    summary,
    startToCloseTimeout: (step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS) + ACTIVITY_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: 30_000,
    // Failure strategies decide about retrying a step that failed (its failures are
    // non-retryable); Temporal retries only what is not the step's fault: a worker that shut
    // down (a Kubernetes rollout) or died (heartbeat timeout). The step then runs again on
    // another worker.
    retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    // Pipelines started before this change reported a cancelled step at once, while its
    // process group was still being killed; they keep doing so when replayed.
    cancellationType: patched(Patches.waitForStepKill)
      ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
      : ActivityCancellationType.TRY_CANCEL,
  });
}

/** The next move of failure handling for one failed attempt. */
type FailureResponse =
  | { kind: 'retry'; waitMs: number }
  | { kind: 'intervene'; rule: FailureRule }
  | { kind: 'ignore' }
  | { kind: 'terminal'; action: 'abort' | 'rollback' };

/** Thrown inside the step loop when failure handling ends the workflow. */
type Terminal = { action: 'abort' | 'rollback'; reason: string };

export async function deploymentWorkflow(rawInput: DeploymentInput): Promise<WorkflowResult> {
  const input = deploymentInputSchema.parse(rawInput);
  const plan = input.workflow;
  const coordinator = getExternalWorkflowHandle(input.coordinatorId);

  let status: WorkflowStatus = 'running';
  const steps: StepResult[] = [];
  const outcomes = new Map<string, BarrierOutcomeMessage>();
  let pendingDecision: InterventionAction | undefined;

  setHandler(barrierOutcomeSignal, (payload) => {
    const parsed = parsePayload(barrierOutcomeSchema, payload);
    if (!parsed.ok) {
      log.warn('rejected a malformed barrier outcome signal', { reason: parsed.reason });
      return;
    }
    // The first outcome for a barrier is final; a repeated one cannot change it.
    if (!outcomes.has(parsed.value.identifier)) outcomes.set(parsed.value.identifier, parsed.value);
  });
  setHandler(interventionDecisionSignal, (payload) => {
    const parsed = parsePayload(interventionDecisionSchema, payload);
    if (!parsed.ok) {
      log.warn('rejected a malformed intervention decision', { reason: parsed.reason });
      return;
    }
    if (status === 'waiting-for-intervention') pendingDecision = parsed.value.action;
  });
  setHandler(workflowStatusQuery, () => ({ name: plan.name, stage: plan.stage, status, steps }));

  /** Signals to the coordinator never fail the workflow: a vanished parent must not strand us. */
  const tellCoordinator = async (send: () => Promise<void>): Promise<boolean> => {
    try {
      await CancellationScope.nonCancellable(send);
      return true;
    } catch (error) {
      log.warn('could not signal the pipeline workflow', { error: String(error) });
      return false;
    }
  };

  const startRecord = (step: { name: string; type: string }, rollback = false): StepResult => {
    const record: StepResult = {
      name: step.name,
      type: step.type,
      status: 'running',
      attempts: 0,
      startedAt: isoMs(Date.now()),
      ...(rollback ? { rollback: true } : {}),
    };
    steps.push(record);
    return record;
  };
  const finishRecord = (
    record: StepResult,
    stepStatus: StepResult['status'],
    error?: StepResult['error'],
  ) => {
    record.status = stepStatus;
    record.endedAt = isoMs(Date.now());
    if (error) record.error = error;
    else delete record.error;
  };

  /** Runs one attempt of a step; throws an ApplicationFailure whose type is a Convoy error type. */
  const executeStep = async (
    step: StepPlan | RollbackStepPlan,
    record: StepResult,
    earlyAbandon?: EarlyAbandon,
  ): Promise<void> => {
    switch (step.type) {
      case 'shell': {
        const { runShell } = stepActivities(step, `shell step ${step.name}`);
        const output = await runShell({
          command: step.command,
          env: step.env,
          timeoutMs: step.timeoutMs,
          workflowName: plan.name,
          stepName: step.name,
          earlyAbandon,
        });
        record.output = {
          exitCode: output.exitCode,
          stdoutTail: output.stdoutTail,
          stderrTail: output.stderrTail,
        };
        return;
      }
      case 'http': {
        const { runHttp } = stepActivities(step, `http step ${step.name}: ${step.method} ${step.url}`);
        const output = await runHttp({
          method: step.method,
          url: step.url,
          headers: step.headers,
          body: step.body,
          expectStatus: step.expectStatus,
          timeoutMs: step.timeoutMs,
          workflowName: plan.name,
          stepName: step.name,
          earlyAbandon,
        });
        record.output = { httpStatus: output.httpStatus };
        return;
      }
      case 'wait':
        await sleep(step.durationMs);
        return;
      case 'barrier':
        await crossBarrier(step.identifier, step.timeoutMs, record);
        return;
    }
  };

  const crossBarrier = async (identifier: string, timeoutMs: number, record: StepResult): Promise<void> => {
    const arrivedAt = Date.now();
    record.startedAt = isoMs(arrivedAt);
    record.status = 'waiting';
    status = 'waiting-at-barrier';
    let coordinatorGone = false;
    if (!outcomes.has(identifier)) {
      void tellCoordinator(() =>
        coordinator.signal(barrierArriveSignal, { workflow: plan.name, identifier, timeoutMs, arrivedAt }),
      ).then((ok) => {
        coordinatorGone = !ok;
      });
    }
    const answered = await condition(
      () => outcomes.has(identifier) || coordinatorGone,
      timeoutMs + COORDINATOR_GRACE_MS,
    );
    status = 'running';
    const outcome = outcomes.get(identifier);
    if (outcome?.kind === 'released') return;
    if (outcome)
      throw ApplicationFailure.nonRetryable(outcome.message, outcome.errorType ?? 'barrier-broken');
    throw ApplicationFailure.nonRetryable(
      answered
        ? `barrier ${identifier}: the pipeline workflow (coordinator) is gone`
        : `barrier ${identifier}: the pipeline workflow (coordinator) did not answer within ${timeoutMs + COORDINATOR_GRACE_MS} ms`,
      answered ? 'barrier-broken' : 'barrier-timeout',
    );
  };

  /** What failure handling does next for a failed attempt: the rules of SPEC section 4. */
  const respondToFailure = (errorType: string, step: StepPlan, retriesUsed: number): FailureResponse => {
    const hasRollback = plan.rollbackSteps.length > 0;
    const rule = resolveFailureAction(
      errorType as ErrorType,
      step.failureStrategies,
      plan.failureStrategies,
      input.pipelineFailureStrategies,
      hasRollback,
    );
    let action = rule.action;
    if (action === 'retry') {
      // A barrier's outcome is final: retrying the step cannot change it.
      const retryable = errorType !== 'barrier-broken' && errorType !== 'barrier-timeout';
      if (retryable && retriesUsed < (rule.retryCount ?? 1)) {
        const intervals = rule.retryIntervalsMs ?? [];
        return {
          kind: 'retry',
          waitMs: intervals.length ? intervals[Math.min(retriesUsed, intervals.length - 1)]! : 0,
        };
      }
      action = rule.onRetryFailure ?? (hasRollback ? 'rollback' : 'abort');
    }
    if (action === 'manual-intervention') return { kind: 'intervene', rule };
    if (action === 'ignore') return { kind: 'ignore' };
    return { kind: 'terminal', action: action === 'rollback' ? 'rollback' : 'abort' };
  };

  /** The error types for which this attempt's failure is already known to end the workflow. */
  const earlyAbandonFor = (step: StepPlan, retriesUsed: number): EarlyAbandon | undefined => {
    if (step.type !== 'shell' && step.type !== 'http') return undefined;
    const actions: EarlyAbandon['actions'] = {};
    for (const errorType of ['step-failed', 'step-timeout'] as const) {
      const response = respondToFailure(errorType, step, retriesUsed);
      if (response.kind === 'terminal') actions[errorType] = response.action;
    }
    return Object.keys(actions).length > 0 ? { coordinatorId: input.coordinatorId, actions } : undefined;
  };

  /** Waits for an operator decision; returns the action to take. */
  const awaitIntervention = async (step: StepPlan, rule: FailureRule): Promise<InterventionAction> => {
    status = 'waiting-for-intervention';
    pendingDecision = undefined;
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, { workflow: plan.name, waiting: true, step: step.name }),
    );
    const decided =
      rule.timeoutMs === undefined
        ? await condition(() => pendingDecision !== undefined).then(() => true)
        : await condition(() => pendingDecision !== undefined, rule.timeoutMs);
    const decision: InterventionAction =
      decided && pendingDecision ? pendingDecision : (rule.onTimeout ?? 'abort');
    pendingDecision = undefined;
    status = 'running';
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, { workflow: plan.name, waiting: false, step: step.name }),
    );
    return decision;
  };

  /**
   * Runs a step under its failure strategies. Returns normally when the workflow goes on with
   * the next step (success, ignore, mark-success); throws a Terminal when it must end.
   */
  const runStep = async (step: StepPlan): Promise<void> => {
    const record = startRecord(step);
    const position = `step ${plan.steps.indexOf(step) + 1}/${plan.steps.length}`;
    setCurrentDetails(
      step.type === 'barrier'
        ? `**${position}: \`${step.name}\`** — barrier \`${step.identifier}\` (timeout ${step.timeoutMs} ms)`
        : `**${position}: \`${step.name}\`** (${step.type})`,
    );
    if (step.skip) {
      finishRecord(record, 'skipped');
      record.endedAt = record.startedAt;
      if (step.type === 'barrier') {
        await tellCoordinator(() =>
          coordinator.signal(barrierWithdrawSignal, { workflow: plan.name, identifier: step.identifier }),
        );
      }
      return;
    }
    let retriesUsed = 0;
    for (;;) {
      record.attempts += 1;
      record.status = 'running';
      try {
        await executeStep(step, record, earlyAbandonFor(step, retriesUsed));
        finishRecord(record, 'succeeded');
        return;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = describeFailure(error);
        finishRecord(record, 'failed', failure);
        const response = respondToFailure(failure.type, step, retriesUsed);
        if (response.kind === 'retry') {
          retriesUsed += 1;
          if (response.waitMs > 0) await sleep(response.waitMs);
          continue;
        }
        let action: InterventionAction;
        if (response.kind === 'intervene') {
          action = await awaitIntervention(step, response.rule);
          if (action === 'retry') {
            retriesUsed = 0;
            continue;
          }
        } else {
          action = response.kind === 'ignore' ? 'ignore' : response.action;
        }
        switch (action) {
          case 'ignore':
            record.status = 'ignored';
            return;
          case 'mark-success':
            record.status = 'succeeded';
            return;
          case 'abort':
          case 'rollback':
            throw {
              action,
              reason: `${plan.name} failed at step ${step.name}: ${failure.message}`,
            } as Terminal;
        }
      }
    }
  };

  const runRollback = async (): Promise<boolean> => {
    let allSucceeded = true;
    for (const step of plan.rollbackSteps) {
      const record = startRecord(step, true);
      record.attempts = 1;
      try {
        await executeStep(step, record);
        finishRecord(record, 'succeeded');
      } catch (error) {
        if (isCancellation(error)) throw error;
        finishRecord(record, 'failed', describeFailure(error));
        allSucceeded = false;
        // A failed rollback step stops the rollback: later steps may depend on it.
        break;
      }
    }
    return allSucceeded;
  };

  try {
    for (const step of plan.steps) await runStep(step);
    status = 'succeeded';
  } catch (error) {
    if (isCancellation(error)) {
      status = 'aborted';
      for (const record of steps) {
        if (record.status === 'running' || record.status === 'waiting') {
          finishRecord(record, 'failed', { type: 'cancelled', message: 'the pipeline was aborted' });
        }
      }
    } else if (isTerminal(error)) {
      // Peers must learn now, not after our rollback: break our remaining barriers first.
      await tellCoordinator(() =>
        coordinator.signal(workflowAbandonSignal, {
          workflow: plan.name,
          reason: `${error.reason} (action: ${error.action})`,
        }),
      );
      if (error.action === 'rollback') {
        const rolledBack = await CancellationScope.nonCancellable(runRollback);
        status = rolledBack ? 'rolled-back' : 'failed';
      } else {
        status = 'aborted';
      }
    } else {
      throw error;
    }
  }
  setCurrentDetails(`**${status}**`);
  return { name: plan.name, stage: plan.stage, status, steps };
}

function isTerminal(value: unknown): value is Terminal {
  return (
    typeof value === 'object' &&
    value !== null &&
    'action' in value &&
    'reason' in value &&
    ((value as Terminal).action === 'abort' || (value as Terminal).action === 'rollback')
  );
}

/** Maps whatever a step threw to a Convoy error type and message. */
function describeFailure(error: unknown): { type: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) {
    return { type: cause.type, message: cause.message };
  }
  if (error instanceof ActivityFailure) {
    // Temporal's own timeouts (a worker lost mid-step) and other infrastructure failures.
    return { type: 'step-failed', message: cause instanceof Error ? cause.message : error.message };
  }
  return { type: 'step-failed', message: error instanceof Error ? error.message : String(error) };
}
