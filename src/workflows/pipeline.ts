/**
 * The pipeline workflow: runs stages in order, each stage's workflows as parallel child
 * deployment workflows, and coordinates their barriers. Every decision is the pure
 * {@link PipelineRun}'s (and, inside it, the barrier book's); this file only feeds it signals,
 * updates, timers and child results, and turns its outcomes into signals to the children.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  inWorkflowContext,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
  type ExternalWorkflowHandle,
} from '@temporalio/workflow';
import { z } from 'zod';
import { isPartOf, participantAddress } from '../model/participants';
import { PipelineRun, type Decision, type ParentMessage } from '../model/pipeline-run';
import { pipelinePlanSchema, type WorkflowPlan } from '../model/plan';
import {
  barrierArrivalSchema,
  barrierArriveSignal,
  barrierOutcomeSchema,
  barrierOutcomeSignal,
  barrierWithdrawalSchema,
  barrierWithdrawSignal,
  breakBarrierUpdate,
  capabilitySchema,
  childWorkflowId,
  interventionDecisionSignal,
  interventionStateSchema,
  interventionStateSignal,
  interveneUpdate,
  pipelineStatusQuery,
  releaseBarrierUpdate,
  trainAbandonSignal,
  trainMembershipQuery,
  trainMembershipRequestSchema,
  trainOutcomeSchema,
  trainOutcomeSignal,
  workflowAbandonSchema,
  workflowAbandonSignal,
} from '../model/protocol';
import { hasTrains, type TrainActivities } from '../model/train/link';
import { pipelineOutcome } from '../model/outcome';
import type { PipelineResult } from '../model/result';
import { fitDocument } from '../model/message-size';
import { renderDeadlineSummary } from '../model/web-ui-details';
import { close, documentOfFailedChild, initialSearchAttributes, visibilityUpdater } from './closing';
import { deploymentWorkflow } from './deployment';
import { logRefusal, onValidSignal } from './handlers';
import { Patches } from './patches';

/** Input of {@link pipelineWorkflow}. */
export const pipelineInputSchema = z.object({
  plan: pipelinePlanSchema,
  /**
   * The namespace has Convoy's search attributes (the starter checked): keep them current on the
   * pipeline and its children. Absent in pipelines started before they existed.
   */
  searchAttributes: z.boolean().optional(),
  /**
   * Set when this is a child pipeline (a `type: pipeline` step of the workflow `caller`): its
   * `parent.` barriers are the calling pipeline's (`coordinatorId`), whose messages carry
   * `capability`.
   */
  parent: z
    .object({
      coordinatorId: z.string().min(1),
      caller: z.string().min(1),
      capability: capabilitySchema.optional(),
    })
    .optional(),
});
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

export async function pipelineWorkflow(rawInput: PipelineInput): Promise<PipelineResult> {
  const { plan, searchAttributes = false, parent } = pipelineInputSchema.parse(rawInput);
  const pipelineId = workflowInfo().workflowId;
  // Drawn from the workflow's seeded random source: the same on every replay.
  const capability = patched(Patches.capability) ? uuid4() : undefined;
  const credentials = capability === undefined ? {} : { capability };
  // Release trains (issue 14): only a plan with a train barrier reaches the marker.
  const trainToken = hasTrains(plan) && patched(Patches.releaseTrains) ? uuid4() : undefined;
  const run = new PipelineRun(
    plan,
    pipelineId,
    Date.now(),
    capability,
    trainToken,
    parent && { caller: parent.caller, capability: parent.capability },
  );

  const handles = new Map<string, ExternalWorkflowHandle>();
  const handleOf = (workflowId: string): ExternalWorkflowHandle => {
    let handle = handles.get(workflowId);
    if (!handle) {
      handle = getExternalWorkflowHandle(workflowId);
      handles.set(workflowId, handle);
    }
    return handle;
  };
  /** A workflow of this pipeline's stages. */
  const childHandle = (name: string): ExternalWorkflowHandle => handleOf(childWorkflowId(pipelineId, name));

  /**
   * Child pipeline: relays its workflows' messages about the caller's barriers to the calling
   * pipeline, in order. The pipeline does not end before they are delivered, so the calling
   * pipeline has them before the step that ran this pipeline ends.
   */
  const parentSends: Promise<void>[] = [];
  const tellParent = (messages: readonly ParentMessage[]): void => {
    if (!parent || messages.length === 0 || !patched(Patches.childPipelines)) return;
    const coordinator = handleOf(parent.coordinatorId);
    for (const relay of messages) {
      const send = uncancellable(() =>
        relay.kind === 'arrive'
          ? coordinator.signal(barrierArriveSignal, relay.message)
          : relay.kind === 'withdraw'
            ? coordinator.signal(barrierWithdrawSignal, relay.message)
            : coordinator.signal(workflowAbandonSignal, relay.message),
      ).catch((error: unknown) =>
        log.warn('could not relay a message to the calling pipeline', {
          workflow: relay.message.workflow,
          error: String(error),
        }),
      );
      parentSends.push(send);
    }
  };

  /**
   * The Web UI's "current details" of the pipeline (no history events). Rendered once per burst
   * of changes, in a microtask: a task handling hundreds of arrivals renders it once, not each time.
   * The microtask may run after this workflow left the worker's cache, when no workflow is current
   * (the worker's 1,000 × 4 benchmark died of that: setCurrentDetails throws there, and the
   * unhandled rejection ends the workflow thread), or while another workflow of the shared
   * context is: it then leaves the details alone; the next change renders them.
   */
  const { runId } = workflowInfo();
  let detailsPending = false;
  const showVisibility = visibilityUpdater(searchAttributes);
  const showDetails = (): void => {
    if (detailsPending) return;
    detailsPending = true;
    void Promise.resolve().then(() => {
      detailsPending = false;
      // Only in this workflow's own context: the upsert is a command of this workflow's task.
      if (!inWorkflowContext() || workflowInfo().runId !== runId) return;
      setCurrentDetails(run.details());
      showVisibility(() => run.visibility());
    });
  };

  /** Messages to trains under way; the pipeline closes only once they have gone out. */
  const trainSends = new Set<Promise<void>>();
  const track = (send: Promise<void>): void => {
    trainSends.add(send);
    void send.finally(() => trainSends.delete(send));
  };
  /**
   * Tells the trains what changed: an arrival (signal-with-start, by the `joinTrain` activity:
   * workflow code cannot start a workflow that may not exist yet) or a leave (a plain signal: a
   * train with no open run has nobody to break).
   */
  const tellTrains = (): void => {
    if (trainToken === undefined) return;
    const { joins, leaves } = run.trainMessages(Date.now());
    for (const join of joins) {
      track(
        uncancellable(() => joinTrain(join)).catch((error: unknown) =>
          act(run.trainUnreachable(join, String(error), Date.now())),
        ),
      );
    }
    for (const leave of leaves) {
      track(
        uncancellable(() =>
          getExternalWorkflowHandle(leave.workflowId).signal(trainAbandonSignal, leave.notice),
        ).catch((error: unknown) =>
          log.info('no open train run to tell', { train: leave.workflowId, error: String(error) }),
        ),
      );
    }
  };

  /**
   * Acts on a decision: sends every outcome to its participant. All sends start synchronously, so
   * every participant a decision releases is signalled in the workflow task that made it.
   */
  const act = (decision: Decision): void => {
    if (decision.changed) {
      showDetails();
      tellTrains();
    }
    if (decision.rejected) log.info('barrier input ignored', { reason: decision.rejected });
    logRefusal(decision.refused);
    if (decision.toParent) tellParent(decision.toParent);
    if (decision.outcomes.length === 0) return;
    // One non-cancellable scope for the whole release: a scope per signal cost the coordinator
    // time in proportion to the participants, in the very task that releases them.
    void uncancellable(async () => {
      const sends: Promise<void>[] = [];
      for (const outcome of decision.outcomes) {
        if (
          decision.brokenBy !== undefined &&
          isPartOf(outcome.participant, decision.brokenBy) &&
          patched(Patches.noOutcomeToAbandoner)
        )
          continue;
        // A branch lives in its workflow's deployment workflow; a child pipeline's workflow is
        // reached through its pipeline workflow, which relays.
        const address = participantAddress(plan, pipelineId, outcome.participant);
        if (address === undefined) {
          log.warn('no workflow to send a barrier outcome to', { participant: outcome.participant });
          continue;
        }
        if (address.subParticipant !== undefined && !patched(Patches.childPipelines)) continue;
        const message = {
          identifier: outcome.identifier,
          ...(address.branch !== undefined && { branch: address.branch }),
          ...(address.subParticipant !== undefined && { participant: address.subParticipant }),
          kind: outcome.kind,
          errorType: outcome.errorType,
          message: outcome.message,
          ...credentials,
        };
        sends.push(
          handleOf(address.workflowId)
            .signal(barrierOutcomeSignal, message)
            .catch((error: unknown) =>
              log.warn('could not deliver a barrier outcome', {
                participant: outcome.participant,
                error: String(error),
              }),
            ),
        );
      }
      await Promise.all(sends);
    });
  };

  const refuseMalformed = (signal: string) => (payload: unknown, reason: string) =>
    run.refuseMalformed(signal, payload, reason).refused;
  onValidSignal(
    barrierArriveSignal,
    barrierArrivalSchema,
    (arrival) => act(run.arrive(arrival, Date.now())),
    refuseMalformed(barrierArriveSignal.name),
  );
  onValidSignal(
    barrierWithdrawSignal,
    barrierWithdrawalSchema,
    (withdrawal) => act(run.withdraw(withdrawal, Date.now())),
    refuseMalformed(barrierWithdrawSignal.name),
  );
  onValidSignal(
    workflowAbandonSignal,
    workflowAbandonSchema,
    (notice) => act(run.abandon(notice, Date.now())),
    refuseMalformed(workflowAbandonSignal.name),
  );
  // Child pipelines hear the calling pipeline's outcomes for their `parent.` barriers.
  onValidSignal(
    barrierOutcomeSignal,
    barrierOutcomeSchema,
    (outcome) => act(run.parentOutcome(outcome)),
    refuseMalformed(barrierOutcomeSignal.name),
  );
  onValidSignal(
    interventionStateSignal,
    interventionStateSchema,
    (state) => act(run.interventionState(state)),
    refuseMalformed(interventionStateSignal.name),
  );

  setHandler(
    interveneUpdate,
    async (request) => {
      run.intervene(request);
      await uncancellable(() =>
        childHandle(request.workflow).signal(interventionDecisionSignal, { action: request.action }),
      );
      return `${request.workflow}: ${request.action}`;
    },
    { validator: (request) => run.validateIntervene(request) },
  );
  setHandler(
    releaseBarrierUpdate,
    (command) => {
      act(run.releaseBarrier(command, Date.now()));
      return `barrier ${command.identifier} in stage ${command.stage}: forced`;
    },
    { validator: (command) => run.validateBarrierCommand(command) },
  );
  setHandler(
    breakBarrierUpdate,
    (command) => {
      act(run.breakBarrier(command, Date.now()));
      return `barrier ${command.identifier} in stage ${command.stage}: broken`;
    },
    { validator: (command) => run.validateBarrierCommand(command) },
  );
  setHandler(pipelineStatusQuery, () => run.document());
  onValidSignal(
    trainOutcomeSignal,
    trainOutcomeSchema,
    (outcome) => act(run.trainOutcome(outcome, Date.now())),
    refuseMalformed(trainOutcomeSignal.name),
  );
  setHandler(trainMembershipQuery, (request) => {
    const parsed = trainMembershipRequestSchema.safeParse(request);
    return parsed.success ? run.trainMembership(parsed.data) : null;
  });

  // Aborting (cancelling) the pipeline: break what stands and cancel the children ourselves. The
  // main flow runs non-cancellable so that it can wait for the children to finish aborting.
  CancellationScope.current()
    .cancelRequested.catch(() => {
      const { decision, cancel } = run.abort(Date.now());
      act(decision);
      for (const name of cancel) {
        uncancellable(() => childHandle(name).cancel()).catch((error: unknown) =>
          log.warn('could not cancel a child', { workflow: name, error: String(error) }),
        );
      }
    })
    .catch(() => undefined);

  const runChild = async (wf: WorkflowPlan): Promise<void> => {
    run.startWorkflow(wf);
    let ended: { returned: unknown } | { threw: true };
    try {
      const returned = await executeChild(deploymentWorkflow, {
        workflowId: childWorkflowId(pipelineId, wf.name),
        staticSummary: `Convoy workflow ${wf.name} · stage ${wf.stage} of pipeline ${plan.name}`,
        args: [
          {
            pipelineId,
            coordinatorId: pipelineId,
            workflow: wf,
            pipelineFailureStrategies: plan.failureStrategies,
            ...credentials,
            ...(searchAttributes && { searchAttributes, barrierWaitsOnPipeline: true as const }),
          },
        ],
        ...(searchAttributes && { typedSearchAttributes: initialSearchAttributes(plan.name) }),
        // Cancellation is driven explicitly (see above); if the parent is terminated, the
        // children still get a cancellation request and end cleanly.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      ended = { returned };
    } catch (error) {
      // A child that failed, aborted or rolled back fails with its document in the details.
      const document = documentOfFailedChild(error);
      if (document !== undefined) {
        ended = { returned: document };
      } else {
        ended = { threw: true };
        log.warn('child workflow did not complete normally', { workflow: wf.name, error: String(error) });
      }
    }
    act(run.endWorkflow(wf, ended, Date.now()));
  };

  let done = false;
  /** One durable timer, for the earliest pending deadline of all barriers. */
  const enforceDeadlines = async (): Promise<void> => {
    while (!done) {
      await condition(() => done || run.nextDeadline() !== undefined);
      if (done) return;
      // Other handlers may have run since the condition was met: the deadline may be gone again.
      const armedFor = run.nextDeadline();
      if (armedFor === undefined) continue;
      // Re-arm only when an earlier deadline appears; a later one waits for this timer to fire.
      const interrupted = await condition(
        () => done || (run.nextDeadline() ?? Infinity) < armedFor,
        Math.max(1, armedFor - Date.now()),
        { summary: renderDeadlineSummary(run.barriersDueAt(armedFor), armedFor) },
      );
      if (!interrupted) act(run.expire(Date.now()));
    }
  };

  await CancellationScope.nonCancellable(async () => {
    const deadlines = enforceDeadlines();
    for (const stage of plan.stages) {
      if (run.isAborted) break;
      run.startStage(stage, Date.now());
      showDetails();
      await Promise.all(stage.workflows.map(runChild));
      if (!run.endStage(stage)) break;
    }
    act(run.finish(Date.now()));
    tellTrains();
    showDetails();
    done = true;
    await deadlines;
    while (trainSends.size > 0) await Promise.all(trainSends);
    await Promise.all(parentSends);
  });
  const document = fitDocument(run.document());
  showVisibility(() => run.visibility());
  return close(document, pipelineOutcome(document));
}

const { joinTrain } = proxyActivities<TrainActivities>({
  summary: 'arrive at the release train',
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '200ms' },
});

/**
 * Runs a command that must go out even after the pipeline was cancelled (signals to children,
 * cancelling them): in a cancelled scope the SDK would refuse to issue it.
 */
function uncancellable<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}
