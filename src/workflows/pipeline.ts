/**
 * The pipeline workflow: runs stages in order, each stage's workflows as parallel child
 * deployment workflows, and coordinates their barriers. The barrier book-keeping itself is the
 * pure state machine of `src/barrier`; this file only feeds it signals, timers and child
 * results, and turns its outcomes into signals to the children.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  workflowInfo,
  type ExternalWorkflowHandle,
} from '@temporalio/workflow';
import { z } from 'zod';
import { Book, type Transition } from '../model/barrier';
import type { BarrierBook } from '../model/barrier';
import { pipelinePlanSchema, type WorkflowPlan } from '../model/plan';
import {
  isoMs,
  workflowResultSchema,
  type PipelineResult,
  type PipelineStatus,
  type StageStatus,
  type WorkflowResult,
} from '../model/result';
import { deploymentWorkflow } from './deployment';
import { renderPipelineDetails } from './details';
import { Patches } from './patches';
import {
  barrierArrivalSchema,
  barrierArriveSignal,
  barrierCommandSchema,
  barrierOutcomeSignal,
  barrierWithdrawalSchema,
  barrierWithdrawSignal,
  breakBarrierUpdate,
  childWorkflowId,
  interventionDecisionSignal,
  interventionStateSchema,
  interventionStateSignal,
  interveneRequestSchema,
  interveneUpdate,
  parsePayload,
  pipelineStatusQuery,
  releaseBarrierUpdate,
  workflowAbandonSchema,
  workflowAbandonSignal,
  type BarrierCommand,
} from '../model/protocol';

/** Input of {@link pipelineWorkflow}. */
export const pipelineInputSchema = z.object({ plan: pipelinePlanSchema });
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

/** Reason recorded on every barrier still standing when an operator aborts the pipeline. */
export const PIPELINE_ABORTED_REASON = 'pipeline aborted';

export async function pipelineWorkflow(rawInput: PipelineInput): Promise<PipelineResult> {
  const { plan } = pipelineInputSchema.parse(rawInput);
  const pipelineId = workflowInfo().workflowId;
  const startedAt = Date.now();

  let status: PipelineStatus = 'running';
  let endedAt: number | undefined;
  // Every barrier of every stage exists from the start; the document shows those of started stages.
  let book: BarrierBook = Book.createBookFromPlan(plan);
  const stageStatus = new Map<string, StageStatus>(plan.stages.map((s) => [s.name, 'not-started']));
  const workflows = new Map<string, WorkflowResult>();
  for (const stage of plan.stages) {
    for (const wf of stage.workflows)
      workflows.set(wf.name, { name: wf.name, stage: stage.name, status: 'not-started', steps: [] });
  }
  const waitingForIntervention = new Set<string>();
  const stageStartedAt = new Map<string, number>();
  const handles = new Map<string, ExternalWorkflowHandle>();
  const childHandle = (name: string): ExternalWorkflowHandle => {
    let handle = handles.get(name);
    if (!handle) {
      handle = getExternalWorkflowHandle(childWorkflowId(pipelineId, name));
      handles.set(name, handle);
    }
    return handle;
  };

  /**
   * The Web UI's "current details" of the pipeline (no history events). Rendered once per burst
   * of changes, in a microtask: a task handling hundreds of arrivals renders it once, not each time.
   */
  let detailsPending = false;
  const showDetails = (): void => {
    if (detailsPending) return;
    detailsPending = true;
    void Promise.resolve().then(() => {
      detailsPending = false;
      setCurrentDetails(
        renderPipelineDetails(
          status,
          plan.stages.map((s) => ({ name: s.name, status: stageStatus.get(s.name)! })),
          Book.listBarriers(book),
        ),
      );
    });
  };

  /**
   * Applies a transition of the barrier book and sends every outcome to its participant. All
   * sends start synchronously, so every participant a decision releases is signalled in the
   * workflow task that made the decision. `notFor` names a participant that broke the barrier
   * itself: it is failing or gone, and a signal to it would only cost history events.
   */
  const apply = (transition: Transition<BarrierBook>, notFor?: string): void => {
    const changed = transition.state !== book;
    book = transition.state;
    if (changed) showDetails();
    if (transition.rejected) log.info('barrier input ignored', { reason: transition.rejected });
    for (const outcome of transition.outcomes) {
      if (outcome.participant === notFor && patched(Patches.noOutcomeToAbandoner)) continue;
      uncancellable(() =>
        childHandle(outcome.participant).signal(barrierOutcomeSignal, {
          identifier: outcome.identifier,
          kind: outcome.kind,
          errorType: outcome.errorType,
          message: outcome.message,
        }),
      ).catch((error: unknown) =>
        log.warn('could not deliver a barrier outcome', {
          participant: outcome.participant,
          error: String(error),
        }),
      );
    }
  };

  /** A signal is accepted only from a workflow of this pipeline that is running now. */
  const runningSender = (name: string): WorkflowResult | undefined => {
    const wf = workflows.get(name);
    if (!wf || wf.status === 'not-started' || isFinal(wf.status)) {
      log.warn('ignored a signal from an unknown or finished workflow', { workflow: name });
      return undefined;
    }
    return wf;
  };

  setHandler(barrierArriveSignal, (payload) => {
    const parsed = parsePayload(barrierArrivalSchema, payload);
    if (!parsed.ok) return log.warn('rejected a malformed barrier arrival', { reason: parsed.reason });
    const { workflow, identifier, timeoutMs } = parsed.value;
    const sender = runningSender(workflow);
    if (!sender) return;
    const key = { stage: sender.stage, identifier };
    if (!Book.getBarrier(book, key)) {
      // Cannot happen with a validated plan; answer rather than leave the child waiting.
      apply({
        state: book,
        outcomes: [
          {
            ...key,
            participant: workflow,
            kind: 'broken',
            errorType: 'barrier-broken',
            message: `barrier ${identifier} is not a barrier of stage ${sender.stage}`,
          },
        ],
      });
      return;
    }
    // The child's clock marks the arrival (a signal may wait in a backlog), bounded by the stage's
    // start and now: a bad clock can neither extend a deadline nor time a barrier out at once.
    const arrivedAt = Math.max(
      stageStartedAt.get(sender.stage) ?? 0,
      Math.min(parsed.value.arrivedAt, Date.now()),
    );
    apply(Book.arrive(book, key, workflow, arrivedAt, timeoutMs));
    // An arrival may carry a deadline already in the past (a slow signal): settle it now.
    apply(Book.expireAll(book, Date.now()));
  });

  setHandler(barrierWithdrawSignal, (payload) => {
    const parsed = parsePayload(barrierWithdrawalSchema, payload);
    if (!parsed.ok) return log.warn('rejected a malformed barrier withdrawal', { reason: parsed.reason });
    const sender = runningSender(parsed.value.workflow);
    if (!sender) return;
    const key = { stage: sender.stage, identifier: parsed.value.identifier };
    apply(Book.withdraw(book, key, parsed.value.workflow, Date.now()));
  });

  setHandler(workflowAbandonSignal, (payload) => {
    const parsed = parsePayload(workflowAbandonSchema, payload);
    if (!parsed.ok) return log.warn('rejected a malformed abandon signal', { reason: parsed.reason });
    const sender = runningSender(parsed.value.workflow);
    if (!sender) return;
    const { workflow, reason } = parsed.value;
    apply(Book.abandonAll(book, sender.stage, workflow, reason, Date.now()), workflow);
  });

  setHandler(interventionStateSignal, (payload) => {
    const parsed = parsePayload(interventionStateSchema, payload);
    if (!parsed.ok) return log.warn('rejected a malformed intervention state', { reason: parsed.reason });
    if (!runningSender(parsed.value.workflow)) return;
    if (parsed.value.waiting) waitingForIntervention.add(parsed.value.workflow);
    else waitingForIntervention.delete(parsed.value.workflow);
  });

  setHandler(
    interveneUpdate,
    async (request) => {
      waitingForIntervention.delete(request.workflow);
      await uncancellable(() =>
        childHandle(request.workflow).signal(interventionDecisionSignal, { action: request.action }),
      );
      return `${request.workflow}: ${request.action}`;
    },
    {
      validator: (request) => {
        const parsed = parsePayload(interveneRequestSchema, request);
        if (!parsed.ok) throw new Error(`invalid intervene request: ${parsed.reason}`);
        const wf = workflows.get(parsed.value.workflow);
        if (!wf) throw new Error(`no workflow named ${parsed.value.workflow} in pipeline ${pipelineId}`);
        if (!waitingForIntervention.has(wf.name)) {
          throw new Error(
            `workflow ${wf.name} is not waiting for manual intervention (it is ${describeStatus(wf.name)})`,
          );
        }
      },
    },
  );

  const validateBarrierCommand = (command: BarrierCommand): void => {
    const parsed = parsePayload(barrierCommandSchema, command);
    if (!parsed.ok) throw new Error(`invalid barrier command: ${parsed.reason}`);
    const { stage, identifier } = parsed.value;
    if (!stageStatus.has(stage)) throw new Error(`no stage named ${stage} in pipeline ${pipelineId}`);
    const barrier = Book.getBarrier(book, { stage, identifier });
    if (!barrier) throw new Error(`no barrier ${identifier} in stage ${stage}`);
    if (stageStatus.get(stage) === 'not-started') throw new Error(`stage ${stage} has not started yet`);
    if (barrier.status !== 'standing')
      throw new Error(`barrier ${identifier} in stage ${stage} is already ${barrier.status}`);
  };
  setHandler(
    releaseBarrierUpdate,
    (command) => {
      apply(Book.operatorRelease(book, command, command.reason ?? 'released by an operator', Date.now()));
      return `barrier ${command.identifier} in stage ${command.stage}: forced`;
    },
    { validator: validateBarrierCommand },
  );
  setHandler(
    breakBarrierUpdate,
    (command) => {
      apply(Book.operatorBreak(book, command, command.reason ?? 'broken by an operator', Date.now()));
      return `barrier ${command.identifier} in stage ${command.stage}: broken`;
    },
    { validator: validateBarrierCommand },
  );

  const describeStatus = (name: string): WorkflowResult['status'] => {
    const wf = workflows.get(name)!;
    if (isFinal(wf.status) || wf.status === 'not-started') return wf.status;
    if (waitingForIntervention.has(name)) return 'waiting-for-intervention';
    if (Book.listBarriers(book).some((b) => b.stage === wf.stage && b.waiting.includes(name))) {
      return 'waiting-at-barrier';
    }
    return 'running';
  };

  const document = (): PipelineResult => ({
    pipelineId,
    name: plan.name,
    status,
    startedAt: isoMs(startedAt),
    ...(endedAt !== undefined ? { endedAt: isoMs(endedAt) } : {}),
    stages: plan.stages.map((s) => ({
      name: s.name,
      status: stageStatus.get(s.name)!,
      workflows: s.workflows.map((w) => w.name),
    })),
    workflows: [...workflows.values()].map((wf) => ({ ...wf, status: describeStatus(wf.name) })),
    barriers: Book.listBarriers(book)
      .filter((b) => stageStatus.get(b.stage) !== 'not-started')
      .map(Book.toBarrierResult),
  });
  setHandler(pipelineStatusQuery, document);

  // Aborting (cancelling) the pipeline: break what stands and cancel the children ourselves. The
  // main flow runs non-cancellable so that it can wait for the children to finish aborting.
  let aborted = false;
  const running = new Set<string>();
  CancellationScope.current()
    .cancelRequested.catch(() => {
      aborted = true;
      apply({ ...Book.breakAllStanding(book, PIPELINE_ABORTED_REASON, Date.now()), outcomes: [] });
      for (const name of running) {
        uncancellable(() => childHandle(name).cancel()).catch((error: unknown) =>
          log.warn('could not cancel a child', { workflow: name, error: String(error) }),
        );
      }
    })
    .catch(() => undefined);

  const runChild = async (wf: WorkflowPlan): Promise<void> => {
    workflows.set(wf.name, { name: wf.name, stage: wf.stage, status: 'running', steps: [] });
    running.add(wf.name);
    let result: WorkflowResult;
    try {
      const raw = await executeChild(deploymentWorkflow, {
        workflowId: childWorkflowId(pipelineId, wf.name),
        staticSummary: `Convoy workflow ${wf.name} · stage ${wf.stage} of pipeline ${plan.name}`,
        args: [
          {
            pipelineId,
            coordinatorId: pipelineId,
            workflow: wf,
            pipelineFailureStrategies: plan.failureStrategies,
          },
        ],
        // Cancellation is driven explicitly (see above); if the parent is terminated, the
        // children still get a cancellation request and end cleanly.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      const parsed = workflowResultSchema.safeParse(raw);
      result = parsed.success ? parsed.data : { name: wf.name, stage: wf.stage, status: 'failed', steps: [] };
    } catch (error) {
      result = {
        name: wf.name,
        stage: wf.stage,
        status: aborted ? 'aborted' : 'failed',
        steps: [],
      };
      log.warn('child workflow did not complete normally', { workflow: wf.name, error: String(error) });
    }
    running.delete(wf.name);
    waitingForIntervention.delete(wf.name);
    workflows.set(wf.name, result);
    // The result is the authoritative word: a child that died without signalling still breaks
    // its barriers, and one that finished without reaching a barrier counts as arrived there.
    if (result.status === 'succeeded') {
      apply(Book.withdrawAll(book, wf.stage, wf.name, Date.now()));
    } else {
      apply(
        Book.abandonAll(book, wf.stage, wf.name, `${wf.name} ended ${result.status}`, Date.now()),
        wf.name,
      );
    }
  };

  let done = false;
  /** One durable timer, for the earliest pending deadline of all barriers. */
  const enforceDeadlines = async (): Promise<void> => {
    while (!done) {
      await condition(() => done || Book.nextDeadline(book) !== undefined);
      if (done) return;
      // Other handlers may have run since the condition was met: the deadline may be gone again.
      const armedFor = Book.nextDeadline(book);
      if (armedFor === undefined) continue;
      // Re-arm only when an earlier deadline appears; a later one waits for this timer to fire.
      const interrupted = await condition(
        () => done || (Book.nextDeadline(book) ?? Infinity) < armedFor,
        Math.max(1, armedFor - Date.now()),
        { summary: 'earliest barrier deadline' },
      );
      if (!interrupted) apply(Book.expireAll(book, Date.now()));
    }
  };

  await CancellationScope.nonCancellable(async () => {
    const deadlines = enforceDeadlines();
    for (const stage of plan.stages) {
      if (aborted) break;
      stageStatus.set(stage.name, 'running');
      stageStartedAt.set(stage.name, Date.now());
      showDetails();
      await Promise.all(stage.workflows.map(runChild));
      const succeeded = stage.workflows.every((wf) => workflows.get(wf.name)?.status === 'succeeded');
      stageStatus.set(stage.name, aborted ? 'aborted' : succeeded ? 'succeeded' : 'failed');
      if (!succeeded) break;
    }
    status = aborted
      ? 'aborted'
      : [...stageStatus.values()].every((s) => s === 'succeeded')
        ? 'succeeded'
        : 'failed';
    endedAt = Date.now();
    showDetails();
    done = true;
    await deadlines;
  });
  return document();
}

/**
 * Runs a command that must go out even after the pipeline was cancelled (signals to children,
 * cancelling them): in a cancelled scope the SDK would refuse to issue it.
 */
function uncancellable<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}

function isFinal(status: WorkflowResult['status']): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'aborted' || status === 'rolled-back';
}
