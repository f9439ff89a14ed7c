/**
 * The document of a pipeline Temporal ended without letting it finish (terminated, timed out):
 * its workflow code never returned a result, and a query would answer with the state it had, as
 * if it were still running. So the document is rebuilt from the pipeline's history, through the
 * same model the workflow uses ({@link PipelineRun}): the children it started and how they ended,
 * the barrier messages it received, the operators' commands and the deadlines that fired. Then
 * the pipeline gets its real status and end, standing barriers break with the reason, and each
 * workflow still running in that picture gets the result its own child workflow ended with.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { z } from 'zod';
import { PipelineRun } from '../model/pipeline-run';
import { pipelinePlanSchema, type PipelinePlan, type WorkflowPlan } from '../model/plan';
import {
  barrierArrivalSchema,
  barrierArriveSignal,
  barrierCommandSchema,
  barrierWithdrawalSchema,
  barrierWithdrawSignal,
  breakBarrierUpdate,
  childWorkflowId,
  interveneRequestSchema,
  interveneUpdate,
  interventionStateSchema,
  interventionStateSignal,
  parsePayload,
  releaseBarrierUpdate,
  workflowAbandonSchema,
  workflowAbandonSignal,
  workflowStatusQuery,
} from '../model/protocol';
import { isLiveWorkflowStatus, workflowResultSchema, type PipelineResult } from '../model/result';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** How Temporal ended a pipeline without its workflow code returning. */
export const ClosedStatuses = {
  TERMINATED: { status: 'terminated', reason: 'pipeline terminated' },
  TIMED_OUT: { status: 'timed-out', reason: 'pipeline timed out' },
} as const;

/** True when Temporal ended the pipeline without a result of its own. */
export function endedWithoutResult(description: WorkflowExecutionDescription): boolean {
  return description.status.name in ClosedStatuses;
}

/**
 * The pipeline's capability, as it handed it to its children (in their start input): the model
 * then refuses in replay exactly the forged messages the workflow refused. Undefined for a
 * pipeline older than capabilities, or one that started no child.
 */
async function capabilityOf(
  events: readonly HistoryEvent[],
  decode: (payloads: temporal.api.common.v1.IPayloads | null | undefined) => Promise<unknown[]>,
): Promise<string | undefined> {
  const childStart = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  if (!childStart) return undefined;
  const [input] = await decode(childStart.startChildWorkflowExecutionInitiatedEventAttributes!.input);
  const capability = (input as { capability?: unknown } | undefined)?.capability;
  return typeof capability === 'string' ? capability : undefined;
}

/** Feeds the history's events to the model, in order, as the workflow did. */
async function replay(
  client: Client,
  pipelineId: string,
  events: readonly HistoryEvent[],
): Promise<PipelineRun> {
  const converter = client.options.loadedDataConverter;
  const decode = (payloads: temporal.api.common.v1.IPayloads | null | undefined): Promise<unknown[]> =>
    decodeArrayFromPayloads(converter, payloads?.payloads);
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`the history of ${pipelineId} does not start with its start event`);
  const [input] = await decode(started.input);
  const plan: PipelinePlan = pipelinePlanSchema.parse((input as { plan: unknown }).plan);
  const run = new PipelineRun(
    plan,
    pipelineId,
    optionalTsToMs(events[0]!.eventTime) ?? 0,
    await capabilityOf(events, decode),
  );

  const byChildId = new Map<string, WorkflowPlan>();
  for (const stage of plan.stages)
    for (const wf of stage.workflows) byChildId.set(childWorkflowId(pipelineId, wf.name), wf);
  const startedStages = new Set<string>();
  const ended = new Set<string>();
  const endChild = (
    childId: string | null | undefined,
    outcome: { returned: unknown } | { threw: true },
    at: number,
  ) => {
    const wf = childId ? byChildId.get(childId) : undefined;
    if (!wf || ended.has(wf.name)) return;
    ended.add(wf.name);
    run.endWorkflow(wf, outcome, at);
    const stage = plan.stages.find((s) => s.name === wf.stage)!;
    if (stage.workflows.every((w) => ended.has(w.name))) run.endStage(stage);
  };

  /** As the workflow's handlers do: a malformed signal is refused and counted, not applied. */
  const checked =
    <T>(signal: string, schema: z.ZodType<T>, receive: (message: T, at: number) => void) =>
    (payload: unknown, at: number) => {
      const parsed = parsePayload(schema, payload);
      if (parsed.ok) receive(parsed.value, at);
      else run.refuseMalformed(signal, payload, parsed.reason);
    };
  const signals: Record<string, (payload: unknown, at: number) => void> = {
    [barrierArriveSignal.name]: checked(barrierArriveSignal.name, barrierArrivalSchema, (m, at) =>
      run.arrive(m, at),
    ),
    [barrierWithdrawSignal.name]: checked(barrierWithdrawSignal.name, barrierWithdrawalSchema, (m, at) =>
      run.withdraw(m, at),
    ),
    [workflowAbandonSignal.name]: checked(workflowAbandonSignal.name, workflowAbandonSchema, (m, at) =>
      run.abandon(m, at),
    ),
    [interventionStateSignal.name]: checked(interventionStateSignal.name, interventionStateSchema, (m) =>
      run.interventionState(m),
    ),
  };
  /**
   * A forged signal's payload may not decode at all (garbage compressed data, an unknown
   * encoding, a key nobody has): the worker refused it as malformed, and so does this replay.
   */
  const messageOf = async (
    payloads: temporal.api.common.v1.IPayloads | null | undefined,
  ): Promise<unknown> => {
    try {
      return (await decode(payloads))[0];
    } catch {
      return undefined;
    }
  };
  const updates: Record<string, (payload: unknown, at: number) => void> = {
    [releaseBarrierUpdate.name]: (p, at) => run.releaseBarrier(barrierCommandSchema.parse(p), at),
    [breakBarrierUpdate.name]: (p, at) => run.breakBarrier(barrierCommandSchema.parse(p), at),
    [interveneUpdate.name]: (p) => run.intervene(interveneRequestSchema.parse(p)),
  };
  /** A message the workflow rejected (its handlers validate) changed nothing there either. */
  const apply = (
    handler: ((payload: unknown, at: number) => void) | undefined,
    payload: unknown,
    at: number,
  ) => {
    try {
      handler?.(payload, at);
    } catch {
      // rejected, as it was then
    }
  };

  for (const event of events) {
    const at = optionalTsToMs(event.eventTime) ?? 0;
    const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated) {
      const wf = byChildId.get(initiated.workflowId ?? '');
      if (!wf) continue;
      if (!startedStages.has(wf.stage)) {
        startedStages.add(wf.stage);
        run.startStage(
          plan.stages.find((s) => s.name === wf.stage)!,
          at,
        );
      }
      run.startWorkflow(wf);
    }
    const completed = event.childWorkflowExecutionCompletedEventAttributes;
    if (completed) {
      const [returned] = await decode(completed.result);
      endChild(completed.workflowExecution?.workflowId, { returned }, at);
    }
    const childEnd =
      event.childWorkflowExecutionFailedEventAttributes ??
      event.childWorkflowExecutionCanceledEventAttributes ??
      event.childWorkflowExecutionTerminatedEventAttributes ??
      event.childWorkflowExecutionTimedOutEventAttributes;
    if (childEnd) endChild(childEnd.workflowExecution?.workflowId, { threw: true }, at);
    const startFailed = event.startChildWorkflowExecutionFailedEventAttributes;
    if (startFailed) endChild(startFailed.workflowId, { threw: true }, at);
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal) apply(signals[signal.signalName ?? ''], await messageOf(signal.input), at);
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (update) apply(updates[update.name ?? ''], await messageOf(update.args), at);
    if (event.timerFiredEventAttributes) run.expire(at);
    if (event.workflowExecutionCancelRequestedEventAttributes && !run.isAborted) run.abort(at);
  }
  return run;
}

/**
 * The document of a pipeline that Temporal terminated or timed out, built from its history (no
 * worker needed).
 */
export async function closedPipelineDocument(
  client: Client,
  pipelineId: string,
  description: WorkflowExecutionDescription,
): Promise<PipelineResult> {
  const closed = ClosedStatuses[description.status.name as keyof typeof ClosedStatuses];
  const handle = client.workflow.getHandle(pipelineId, description.runId);
  const history = await handle.fetchHistory();
  const run = await replay(client, pipelineId, history.events ?? []);
  const endedAt = (description.closeTime ?? new Date()).toISOString();
  const doc = run.document();
  doc.status = closed.status;
  doc.endedAt = endedAt;
  for (const stage of doc.stages) if (stage.status === 'running') stage.status = 'aborted';
  for (const barrier of doc.barriers) {
    if (barrier.status !== 'standing') continue;
    barrier.status = 'broken';
    barrier.reason = closed.reason;
    barrier.resolvedAt = endedAt;
  }
  // The children outlive their parent's end (they are asked to cancel): their own word is final.
  await Promise.all(
    doc.workflows.map(async (wf, index) => {
      if (!isLiveWorkflowStatus(wf.status)) return;
      try {
        const child = client.workflow.getHandle(childWorkflowId(pipelineId, wf.name));
        const { status } = await child.describe();
        const result =
          status.name === 'COMPLETED' ? await child.result() : await child.query(workflowStatusQuery);
        doc.workflows[index] = workflowResultSchema.parse(result);
      } catch {
        // The child is gone or cannot answer: the parent's last word stands.
      }
    }),
  );
  return doc;
}
