/**
 * The deployment workflow: one workflow of a stage, run as a child of the pipeline workflow.
 * It runs its steps in order, applies failure strategies, and meets its peers at barriers by
 * signalling the parent (the coordinator) and waiting for the parent's outcome signal.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
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
  type PipelineStepPlan,
  type RollbackStepPlan,
  type StepPlan,
} from '../model/plan';
import { childPipelineFailure } from '../model/child-pipeline';
import { parentBarrierSteps } from '../model/participants';
import {
  barrierArriveSignal,
  barrierOutcomeSchema,
  barrierOutcomeSignal,
  barrierWithdrawSignal,
  capabilitySchema,
  decideInterventionUpdate,
  interventionDecisionSchema,
  interventionDecisionSignal,
  interventionStateSignal,
  workflowAbandonSignal,
  workflowStatusQuery,
} from '../model/protocol';
import { workflowOutcome } from '../model/outcome';
import type { StepResult, WorkflowResult } from '../model/result';
import { workflowVisibility } from '../model/visibility';
import {
  renderBarrierWaitSummary,
  renderInterventionWaitSummary,
  renderStepDetails,
} from '../model/web-ui-details';
import { fitDocument } from '../model/message-size';
import type { EarlyAbandon } from '../model/step-activities';
import { COORDINATOR_GRACE_MS, WorkflowRun } from '../model/workflow-run';
import { close, documentOfFailedChild, initialSearchAttributes, visibilityUpdater } from './closing';
import { Patches } from './patches';
import type { pipelineWorkflow } from './pipeline';
import { logRefusal, onValidSignal } from './handlers';
import { describeFailure, runActivityStep } from './steps';

/** Input of {@link deploymentWorkflow}. */
export const deploymentInputSchema = z.object({
  pipelineId: z.string().min(1),
  /** The parent's workflow ID, the barrier coordinator. */
  coordinatorId: z.string().min(1),
  workflow: workflowPlanSchema,
  pipelineFailureStrategies: z.array(failureRuleSchema),
  /** The pipeline's capability; absent for children of pipelines started before it existed. */
  capability: capabilitySchema.optional(),
  /** Keep Convoy's search attributes current (the pipeline started this child with them). */
  searchAttributes: z.boolean().optional(),
});
export type DeploymentInput = z.infer<typeof deploymentInputSchema>;

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
  const run = new WorkflowRun(plan, input.pipelineFailureStrategies, input.capability);
  const coordinator = getExternalWorkflowHandle(input.coordinatorId);
  /** What every message to the coordinator carries to be believed (nothing for older pipelines). */
  const credentials = input.capability === undefined ? {} : { capability: input.capability };
  const updateVisibility = visibilityUpdater(input.searchAttributes ?? false);
  /** Shows the workflow's status (and the barrier it waits at) through its search attributes. */
  const showVisibility = (waitingAt?: string): void =>
    updateVisibility(workflowVisibility(run.result(), waitingAt));

  const refuseMalformed = (signal: string) => (payload: unknown, reason: string) =>
    run.refuseMalformed(signal, payload, reason);
  onValidSignal(
    barrierOutcomeSignal,
    barrierOutcomeSchema,
    (outcome) => logRefusal(run.takeOutcome(outcome)),
    refuseMalformed(barrierOutcomeSignal.name),
  );
  onValidSignal(
    interventionDecisionSignal,
    interventionDecisionSchema,
    (decision) => {
      // Only a pipeline started before the convoy.intervene update relays decisions by signal.
      if (input.capability === undefined) run.takeDecision(decision.action);
      else logRefusal(run.refuse(interventionDecisionSignal.name, '(unknown)', 'decisions come by update'));
    },
    refuseMalformed(interventionDecisionSignal.name),
  );
  setHandler(
    decideInterventionUpdate,
    (request) => {
      run.takeDecision(request.action);
      return `${plan.name}: ${request.action}`;
    },
    { validator: (request) => void run.validateDecision(request) },
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
  const executeStep = (
    step: StepPlan | RollbackStepPlan,
    record: StepResult,
    earlyAbandon?: EarlyAbandon,
  ): Promise<void> =>
    step.type === 'barrier'
      ? crossBarrier(step.identifier, step.timeoutMs, record)
      : step.type === 'pipeline'
        ? runChildPipeline(step, record)
        : runActivityStep(step, record, plan.name, earlyAbandon);

  /**
   * Runs a child pipeline (a `type: pipeline` step) as a child workflow and keeps its document in
   * the step's record; the step fails with `step-failed` unless the child pipeline succeeded.
   */
  const runChildPipeline = async (step: PipelineStepPlan, record: StepResult): Promise<void> => {
    if (!patched(Patches.childPipelines))
      throw ApplicationFailure.nonRetryable('child pipelines need a newer worker', 'step-failed');
    let document: unknown;
    try {
      document = await executeChild<typeof pipelineWorkflow>('pipelineWorkflow', {
        workflowId: step.pipeline.pipelineId,
        staticSummary: `Convoy child pipeline ${step.pipeline.name} (${step.file}) · step ${step.name} of workflow ${plan.name}`,
        args: [
          {
            plan: step.pipeline,
            parent: { coordinatorId: input.coordinatorId, caller: plan.name, ...credentials },
            ...(input.searchAttributes && { searchAttributes: true }),
          },
        ],
        ...(input.searchAttributes && {
          typedSearchAttributes: initialSearchAttributes(step.pipeline.name),
        }),
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      document = documentOfFailedChild(error);
      if (document === undefined) {
        throw ApplicationFailure.nonRetryable(
          `child pipeline ${step.pipeline.name} (${step.file}) did not complete: ${String(error)}`,
          'step-failed',
        );
      }
    }
    const failure = childPipelineFailure(step, document, record);
    if (failure) throw ApplicationFailure.nonRetryable(failure, 'step-failed');
  };

  const crossBarrier = async (identifier: string, timeoutMs: number, record: StepResult): Promise<void> => {
    const arrivedAt = Date.now();
    run.arriveAtBarrier(record, arrivedAt);
    showVisibility(identifier);
    let coordinatorGone = false;
    if (!run.outcomeOf(identifier)) {
      void tellCoordinator(() =>
        coordinator.signal(barrierArriveSignal, {
          workflow: plan.name,
          identifier,
          timeoutMs,
          arrivedAt,
          ...credentials,
        }),
      ).then((ok) => {
        coordinatorGone = !ok;
      });
    }
    const answered = await condition(
      () => run.outcomeOf(identifier) !== undefined || coordinatorGone,
      timeoutMs + COORDINATOR_GRACE_MS,
      { summary: renderBarrierWaitSummary(identifier, arrivedAt + timeoutMs) },
    );
    const verdict = run.leaveBarrier(identifier, timeoutMs, answered);
    showVisibility();
    if (!verdict.released) throw ApplicationFailure.nonRetryable(verdict.message, verdict.errorType);
  };

  /** The early notice for a shell or http step's attempt, when its failure is known to be terminal. */
  const earlyAbandonFor = (step: StepPlan, retriesUsed: number): EarlyAbandon | undefined => {
    const actions = run.terminalActionsOf(step, retriesUsed);
    return Object.keys(actions).length > 0
      ? { coordinatorId: input.coordinatorId, actions, ...credentials }
      : undefined;
  };

  /** Waits for an operator decision (or the wait's timeout); returns what to do then. */
  const awaitOperator = async (
    step: StepPlan,
    waiting: Extract<NextMove, { kind: 'wait-for-operator' }>,
  ): Promise<Exclude<NextMove, { kind: 'wait-for-operator' }>> => {
    run.startWaitingForOperator(step.name, Date.now(), waiting.timeoutMs);
    showVisibility();
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, {
        workflow: plan.name,
        waiting: true,
        step: step.name,
        ...credentials,
      }),
    );
    if (waiting.timeoutMs === undefined) await condition(() => run.pendingDecision !== undefined);
    else
      await condition(() => run.pendingDecision !== undefined, waiting.timeoutMs, {
        summary: renderInterventionWaitSummary(step.name, Date.now() + waiting.timeoutMs),
      });
    const decision = run.stopWaitingForOperator();
    showVisibility();
    await tellCoordinator(() =>
      coordinator.signal(interventionStateSignal, {
        workflow: plan.name,
        waiting: false,
        step: step.name,
        ...credentials,
      }),
    );
    // An accepted decision is taken even when the wait's timer fired in the same workflow task:
    // the operator was told it was.
    return afterDecision(decision, waiting);
  };

  /**
   * Runs a step under its failure strategies. Returns normally when the workflow goes on with
   * the next step (success, ignore, mark-success); throws a Terminal when it must end.
   */
  const runStep = async (step: StepPlan): Promise<void> => {
    const record = run.startStep(step, Date.now());
    setCurrentDetails(renderStepDetails(step, plan.steps.indexOf(step), plan.steps.length));
    if (step.skip) {
      run.skipStep(record);
      if (step.type === 'barrier') {
        await tellCoordinator(() =>
          coordinator.signal(barrierWithdrawSignal, {
            workflow: plan.name,
            identifier: step.identifier,
            ...credentials,
          }),
        );
      }
      // A skipped child pipeline's workflows will not reach the barriers they would have joined.
      if (step.type === 'pipeline' && patched(Patches.childPipelines)) {
        for (const joined of parentBarrierSteps(plan.name, step)) {
          await tellCoordinator(() =>
            coordinator.signal(barrierWithdrawSignal, { ...joined, ...credentials }),
          );
        }
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
        coordinator.signal(workflowAbandonSignal, {
          workflow: plan.name,
          reason: error.reason,
          ...credentials,
        }),
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
  const result = fitDocument(run.result());
  showVisibility();
  return close(result, workflowOutcome(result));
}
