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
  type BranchStepPlan,
  type ParallelStepPlan,
  type PipelineStepPlan,
  type RollbackStepPlan,
  type SequentialStepPlan,
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
import type { BranchResult, StepResult, WorkflowResult } from '../model/result';
import { childVisibility, workflowVisibility } from '../model/visibility';
import {
  renderBarrierWaitSummary,
  renderInterventionWaitSummary,
  renderParallelDetails,
  renderStepDetails,
} from '../model/web-ui-details';
import { fitDocument } from '../model/message-size';
import type { EarlyAbandon } from '../model/step-activities';
import { COORDINATOR_GRACE_MS, WorkflowRun } from '../model/workflow-run';
import { close, documentOfFailedChild, initialSearchAttributes, visibilityUpdater } from './closing';
import type { pipelineWorkflow } from './pipeline';
import { logRefusal, onValidSignal } from './handlers';
import { Patches } from './patches';
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
  /**
   * Leave barrier waits to the pipeline's search attributes (../model/visibility
   * `childVisibility`). Children of pipelines started before it mirror their waits. Told by the
   * input rather than by `patched()`: the SDK records a patch with an upsert of
   * `TemporalChangeVersion`, one more visibility write per child, the cost this removes.
   */
  barrierWaitsOnPipeline: z.literal(true).optional(),
});
export type DeploymentInput = z.infer<typeof deploymentInputSchema>;

/** The error type of a parallel step whose branch failed (its failure is the branch step's). */
export const BRANCH_FAILED = 'branch-failed';

/** Where a step runs: among the workflow's own steps, or in a branch of a parallel step. */
interface Lane {
  readonly branch?: BranchResult;
  /** Renders the parallel step's branches in the Web UI's current details (they changed). */
  readonly showBranches?: () => void;
}
const WORKFLOW_LANE: Lane = {};

/** The `branch` field of a barrier message from `lane` (none for the workflow's own steps). */
function branchOf(lane: Lane): { branch?: string } {
  return lane.branch === undefined ? {} : { branch: lane.branch.name };
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
  const run = new WorkflowRun(plan, input.pipelineFailureStrategies, input.capability);
  const coordinator = getExternalWorkflowHandle(input.coordinatorId);
  /** What every message to the coordinator carries to be believed (nothing for older pipelines). */
  const credentials = input.capability === undefined ? {} : { capability: input.capability };
  /** The barrier participant a step of `lane` speaks for: the workflow, or `<workflow>/<branch>`. */
  const participantOf = (lane: Lane): string => lane.branch?.participant ?? plan.name;
  const updateVisibility = visibilityUpdater(input.searchAttributes ?? false);
  /** Shows the workflow's status through its search attributes (and, for older pipelines, its barrier waits). */
  const showVisibility = (): void =>
    updateVisibility(() =>
      input.barrierWaitsOnPipeline
        ? childVisibility(run.result())
        : workflowVisibility(run.result(), run.waitingBarriers()),
    );

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
    step: SequentialStepPlan | RollbackStepPlan,
    record: StepResult,
    lane: Lane,
    earlyAbandon?: EarlyAbandon,
  ): Promise<void> =>
    step.type === 'barrier'
      ? crossBarrier(step.identifier, step.timeoutMs, record, lane)
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

  const crossBarrier = async (
    identifier: string,
    timeoutMs: number,
    record: StepResult,
    lane: Lane,
  ): Promise<void> => {
    const arrivedAt = Date.now();
    const branchName = lane.branch?.name;
    run.arriveAtBarrier(record, arrivedAt, identifier, lane.branch);
    showVisibility();
    lane.showBranches?.();
    let coordinatorGone = false;
    if (!run.outcomeOf(identifier, branchName)) {
      void tellCoordinator(() =>
        coordinator.signal(barrierArriveSignal, {
          workflow: plan.name,
          ...branchOf(lane),
          identifier,
          timeoutMs,
          arrivedAt,
          ...credentials,
        }),
      ).then((ok) => {
        coordinatorGone = !ok;
      });
    }
    let answered: boolean;
    try {
      answered = await condition(
        () => run.outcomeOf(identifier, branchName) !== undefined || coordinatorGone,
        timeoutMs + COORDINATOR_GRACE_MS,
        { summary: renderBarrierWaitSummary(identifier, arrivedAt + timeoutMs) },
      );
    } catch (error) {
      // A branch cancelled at the barrier (a sibling failed) no longer waits there.
      if (lane.branch) run.leaveWaiting(identifier, lane.branch);
      throw error;
    }
    const verdict = run.leaveBarrier(identifier, timeoutMs, answered, lane.branch);
    showVisibility();
    lane.showBranches?.();
    if (!verdict.released) throw ApplicationFailure.nonRetryable(verdict.message, verdict.errorType);
  };

  /** The early notice for a shell or http step's attempt, when its failure is known to be terminal. */
  const earlyAbandonFor = (
    step: SequentialStepPlan,
    retriesUsed: number,
    lane: Lane,
  ): EarlyAbandon | undefined => {
    const actions = run.terminalActionsOf(step, retriesUsed);
    return Object.keys(actions).length > 0
      ? { coordinatorId: input.coordinatorId, actions, ...credentials, ...branchOf(lane) }
      : undefined;
  };

  /** Waits for an operator decision (or the wait's timeout); returns what to do then. */
  const awaitOperator = async (
    step: SequentialStepPlan,
    waiting: Extract<NextMove, { kind: 'wait-for-operator' }>,
    lane: Lane,
  ): Promise<Exclude<NextMove, { kind: 'wait-for-operator' }>> => {
    // One wait for an operator at a time: a branch whose step needs one queues behind another's.
    if (run.isWaitingForOperator) await condition(() => !run.isWaitingForOperator);
    run.startWaitingForOperator(step.name, Date.now(), waiting.timeoutMs, lane.branch);
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

  /** A barrier step the plan skips: its participant counts as arrived. */
  const withdraw = (identifier: string, lane: Lane): Promise<boolean> =>
    tellCoordinator(() =>
      coordinator.signal(barrierWithdrawSignal, {
        workflow: plan.name,
        ...branchOf(lane),
        identifier,
        ...credentials,
      }),
    );

  /**
   * Runs a step under its failure strategies. Returns normally when the workflow (or the branch)
   * goes on with the next step (success, ignore, mark-success); throws a Terminal when it must end.
   */
  const runStep = async (step: SequentialStepPlan, lane: Lane = WORKFLOW_LANE): Promise<void> => {
    const record = run.startStep(step, Date.now(), false, lane.branch);
    if (lane.branch) lane.showBranches?.();
    else setCurrentDetails(renderStepDetails(step, plan.steps.indexOf(step), plan.steps.length));
    if (step.skip) {
      run.skipStep(record);
      if (step.type === 'barrier') await withdraw(step.identifier, lane);
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
        await executeStep(step, record, lane, earlyAbandonFor(step, retriesUsed, lane));
        run.finishStep(record, 'succeeded', Date.now());
        return;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = describeFailure(error);
        run.finishStep(record, 'failed', Date.now(), failure);
        let move = afterFailure(failure.type as ErrorType, run.failureContext(step), retriesUsed);
        if (move.kind === 'wait-for-operator') move = await awaitOperator(step, move, lane);
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
              abandonReason(participantOf(lane), step.name, failure.message, move.action),
            );
        }
      }
    }
  };

  /** Tells the coordinator that `branch` gives up: it breaks the barriers it has not crossed. */
  const abandonBranch = (branch: BranchResult, reason: string): Promise<boolean> =>
    tellCoordinator(() =>
      coordinator.signal(workflowAbandonSignal, {
        workflow: plan.name,
        branch: branch.name,
        reason,
        ...credentials,
      }),
    );

  /**
   * Runs a parallel step: its branches at once, each step under its failure strategies. It
   * succeeds when every branch has. A branch whose failure handling ends it breaks its barriers
   * at once; then its siblings are cancelled, break theirs, and the branch's Terminal ends the
   * workflow as a failing step would.
   */
  const runParallel = async (step: ParallelStepPlan): Promise<void> => {
    // No history before this marker can reach here (such plans did not parse): it dates the
    // histories that ran branches, for whatever changes how branches run next.
    patched(Patches.parallelBranches);
    const record = run.startStep(step, Date.now());
    const branches = run.startBranches(record, step);
    const showBranches = (): void =>
      setCurrentDetails(renderParallelDetails(step, plan.steps.indexOf(step), plan.steps.length, branches));
    showBranches();
    if (step.skip) {
      run.skipStep(record);
      for (const [index, branch] of step.branches.entries()) {
        for (const barrier of branch.steps) {
          if (barrier.type === 'barrier') await withdraw(barrier.identifier, { branch: branches[index]! });
        }
      }
      return;
    }
    let failed: { readonly branch: BranchResult; readonly terminal: Terminal } | undefined;
    const group = new CancellationScope();
    const runBranch = async (
      plannedSteps: readonly BranchStepPlan[],
      branch: BranchResult,
    ): Promise<void> => {
      try {
        for (const branchStep of plannedSteps) await runStep(branchStep, { branch, showBranches });
        run.endBranch(branch, 'succeeded', Date.now());
        showBranches();
      } catch (error) {
        if (error instanceof Terminal) {
          run.endBranch(branch, 'failed', Date.now());
          showBranches();
          await abandonBranch(branch, error.reason);
          if (failed === undefined) {
            failed = { branch, terminal: error };
            group.cancel();
          }
        } else if (isCancellation(error) && failed !== undefined) {
          const reason = `${branch.participant} was cancelled: ${failed.branch.participant} failed`;
          run.endBranch(branch, 'cancelled', Date.now(), reason);
          showBranches();
          await abandonBranch(branch, reason);
        } else {
          throw error;
        }
      }
    };
    // Every branch settles before the step ends: an aborted pipeline's branches are killed, not left behind.
    const settled = await group.run(() =>
      Promise.allSettled(step.branches.map((branch, index) => runBranch(branch.steps, branches[index]!))),
    );
    const thrown = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (thrown) throw thrown.reason;
    if (failed !== undefined) {
      run.finishStep(record, 'failed', Date.now(), { type: BRANCH_FAILED, message: failed.terminal.reason });
      throw failed.terminal;
    }
    run.finishStep(record, 'succeeded', Date.now());
  };

  const runRollback = async (): Promise<boolean> => {
    for (const step of plan.rollbackSteps) {
      const record = run.startStep(step, Date.now(), true);
      record.attempts = 1;
      try {
        await executeStep(step, record, WORKFLOW_LANE);
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
    for (const step of plan.steps) {
      if (step.type === 'parallel') await runParallel(step);
      else await runStep(step);
    }
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
