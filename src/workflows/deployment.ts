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
import {
  abandonReason,
  afterDecision,
  afterFailure,
  type NextMove,
  type TerminalAction,
} from '../model/failure-policy';
import {
  failureRuleSchema,
  workflowPlanSchema,
  type ErrorType,
  type RollbackStepPlan,
  type StepPlan,
} from '../model/plan';
import {
  barrierArriveSignal,
  barrierOutcomeSchema,
  barrierOutcomeSignal,
  barrierWithdrawSignal,
  interventionDecisionSchema,
  interventionDecisionSignal,
  interventionStateSignal,
  workflowAbandonSignal,
  workflowStatusQuery,
} from '../model/protocol';
import { isoMs, type StepResult, type WorkflowResult } from '../model/result';
import { ACTIVITY_TIMEOUT_MARGIN_MS, type EarlyAbandon, type StepActivities } from '../model/step-activities';
import { WorkflowRun } from '../model/workflow-run';
import { onValidSignal } from './handlers';
import { Patches } from './patches';

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
  return proxyActivities<StepActivities>({
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

/** Thrown inside the step loop when failure handling ends the workflow. */
class Terminal {
  constructor(
    readonly action: TerminalAction,
    readonly reason: string,
  ) {}
}

export async function deploymentWorkflow(rawInput: DeploymentInput): Promise<WorkflowResult> {
  const input = deploymentInputSchema.parse(rawInput);
  const plan = input.workflow;
  const run = new WorkflowRun(plan, input.pipelineFailureStrategies);
  const coordinator = getExternalWorkflowHandle(input.coordinatorId);

  onValidSignal(barrierOutcomeSignal, barrierOutcomeSchema, (outcome) => run.takeOutcome(outcome));
  onValidSignal(interventionDecisionSignal, interventionDecisionSchema, (decision) =>
    run.takeDecision(decision.action),
  );
  setHandler(workflowStatusQuery, () => run.result());

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
    run.status = 'waiting-at-barrier';
    let coordinatorGone = false;
    if (!run.outcomeOf(identifier)) {
      void tellCoordinator(() =>
        coordinator.signal(barrierArriveSignal, { workflow: plan.name, identifier, timeoutMs, arrivedAt }),
      ).then((ok) => {
        coordinatorGone = !ok;
      });
    }
    const answered = await condition(
      () => run.outcomeOf(identifier) !== undefined || coordinatorGone,
      timeoutMs + COORDINATOR_GRACE_MS,
    );
    run.status = 'running';
    const outcome = run.outcomeOf(identifier);
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

  /** The early notice for a shell or http step's attempt, when its failure is known to be terminal. */
  const earlyAbandonFor = (step: StepPlan, retriesUsed: number): EarlyAbandon | undefined => {
    const actions = run.terminalActionsOf(step, retriesUsed);
    return Object.keys(actions).length > 0 ? { coordinatorId: input.coordinatorId, actions } : undefined;
  };

  /** Waits for an operator decision (or the wait's timeout); returns what to do then. */
  const awaitOperator = async (
    step: StepPlan,
    waiting: Extract<NextMove, { kind: 'wait-for-operator' }>,
  ): Promise<Exclude<NextMove, { kind: 'wait-for-operator' }>> => {
    run.startWaitingForOperator();
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, { workflow: plan.name, waiting: true, step: step.name }),
    );
    const decided =
      waiting.timeoutMs === undefined
        ? await condition(() => run.pendingDecision !== undefined).then(() => true)
        : await condition(() => run.pendingDecision !== undefined, waiting.timeoutMs);
    const decision = run.stopWaitingForOperator();
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, { workflow: plan.name, waiting: false, step: step.name }),
    );
    return afterDecision(decided ? decision : undefined, waiting);
  };

  /**
   * Runs a step under its failure strategies. Returns normally when the workflow goes on with
   * the next step (success, ignore, mark-success); throws a Terminal when it must end.
   */
  const runStep = async (step: StepPlan): Promise<void> => {
    const record = run.startStep(step, Date.now());
    const position = `step ${plan.steps.indexOf(step) + 1}/${plan.steps.length}`;
    setCurrentDetails(
      step.type === 'barrier'
        ? `**${position}: \`${step.name}\`** — barrier \`${step.identifier}\` (timeout ${step.timeoutMs} ms)`
        : `**${position}: \`${step.name}\`** (${step.type})`,
    );
    if (step.skip) {
      run.skipStep(record);
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
        run.finishStep(record, 'succeeded', Date.now());
        return;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = describeFailure(error);
        run.finishStep(record, 'failed', Date.now(), failure);
        let move = afterFailure(failure.type as ErrorType, run.failureContext(step), retriesUsed);
        if (move.kind === 'wait-for-operator') move = await awaitOperator(step, move);
        switch (move.kind) {
          case 'retry':
            retriesUsed = move.resetRetries ? 0 : retriesUsed + 1;
            if (move.waitMs > 0) await sleep(move.waitMs);
            continue;
          case 'continue':
            record.status = move.stepStatus;
            return;
          case 'end':
            throw new Terminal(
              move.action,
              abandonReason(plan.name, step.name, failure.message, move.action),
            );
        }
      }
    }
  };

  const runRollback = async (): Promise<boolean> => {
    for (const step of plan.rollbackSteps) {
      const record = run.startStep(step, Date.now(), true);
      record.attempts = 1;
      try {
        await executeStep(step, record);
        run.finishStep(record, 'succeeded', Date.now());
      } catch (error) {
        if (isCancellation(error)) throw error;
        run.finishStep(record, 'failed', Date.now(), describeFailure(error));
        // A failed rollback step stops the rollback: later steps may depend on it.
        return false;
      }
    }
    return true;
  };

  try {
    for (const step of plan.steps) await runStep(step);
    run.status = 'succeeded';
  } catch (error) {
    if (isCancellation(error)) {
      run.abort(Date.now());
    } else if (error instanceof Terminal) {
      // Peers must learn now, not after our rollback: break our remaining barriers first.
      await tellCoordinator(() =>
        coordinator.signal(workflowAbandonSignal, { workflow: plan.name, reason: error.reason }),
      );
      if (error.action === 'rollback') {
        const rolledBack = await CancellationScope.nonCancellable(runRollback);
        run.status = rolledBack ? 'rolled-back' : 'failed';
      } else {
        run.status = 'aborted';
      }
    } else {
      throw error;
    }
  }
  setCurrentDetails(`**${run.status}**`);
  return run.result();
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
