/**
 * Starting, watching and steering pipelines: the typed client API behind the CLI, usable from
 * scripts as well.
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { PipelinePlan } from '../model/plan';
import {
  isLiveWorkflowStatus,
  pipelineResultSchema,
  type PipelineResult,
  type WorkflowResult,
} from '../model/result';
import {
  breakBarrierUpdate,
  childWorkflowId,
  interveneUpdate,
  pipelineStatusQuery,
  releaseBarrierUpdate,
  workflowStatusQuery,
} from '../model/protocol';
import type { pipelineWorkflow } from '../workflows/pipeline';
import type { TemporalConfig } from '../connection/config';
import type { InterventionAction } from '../model/plan';
import { TemporalUnreachableError } from '../connection/errors';
import { diagnoseUnreachable } from '../connection/diagnose';
import {
  OperatorCommandRejectedError,
  PipelineAlreadyExistsError,
  PipelineNotFoundError,
  type OperatorCommand,
} from './errors';

/** Connects to Temporal, turning connection failures into {@link TemporalUnreachableError}. */
export async function connectClient(config: Pick<TemporalConfig, 'address' | 'namespace'>): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: config.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: config.namespace });
  } catch (error) {
    throw new TemporalUnreachableError(
      `cannot reach Temporal at ${config.address}: ${await diagnoseUnreachable(config.address)}` +
        ' (set TEMPORAL_ADDRESS, start a server with `convoy dev`, or use --embedded)',
      { cause: error },
    );
  }
}

/** The Temporal workflow type of every pipeline workflow. */
export const PIPELINE_WORKFLOW_TYPE = 'pipelineWorkflow';

/** Starts a pipeline workflow for a compiled plan; its workflow ID is the plan's pipelineId. */
export async function startPipeline(
  client: Client,
  plan: PipelinePlan,
  taskQueue: string,
): Promise<WorkflowHandle<typeof pipelineWorkflow>> {
  try {
    return await client.workflow.start<typeof pipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
      workflowId: plan.pipelineId,
      taskQueue,
      args: [{ plan }],
      memo: { convoyPipeline: plan.name, source: plan.source },
      staticSummary: `Convoy pipeline ${plan.name}`,
      staticDetails: plan.stages
        .map((s) => `- stage \`${s.name}\`: ${s.workflows.map((w) => w.name).join(', ')}`)
        .join('\n'),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new PipelineAlreadyExistsError(
        `a pipeline with id ${plan.pipelineId} is already running`,
        plan.pipelineId,
        { cause: error },
      );
    }
    throw error;
  }
}

function notFound(pipelineId: string, cause: unknown): PipelineNotFoundError {
  return new PipelineNotFoundError(`no pipeline with id ${pipelineId}`, pipelineId, { cause });
}

function notRunning(pipelineId: string, cause: unknown): PipelineNotFoundError {
  return new PipelineNotFoundError(`no running pipeline with id ${pipelineId}`, pipelineId, { cause });
}

/** Waits for a pipeline to end and returns its result document. */
export async function waitForPipeline(client: Client, pipelineId: string): Promise<PipelineResult> {
  let raw: unknown;
  try {
    raw = await client.workflow.getHandle(pipelineId).result();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(pipelineId, error);
    throw error;
  }
  return pipelineResultSchema.parse(raw);
}

/**
 * The live document of a pipeline: the pipeline workflow's `status` query, with the steps of
 * each running workflow filled in from that child's own query (the parent hears only of
 * barrier steps and final results, which keeps its history small).
 */
export async function describePipeline(client: Client, pipelineId: string): Promise<PipelineResult> {
  const handle = client.workflow.getHandle(pipelineId);
  let doc: PipelineResult;
  try {
    const { status } = await handle.describe();
    // A finished pipeline's document is its result, read from history: no worker needs to be
    // running to answer for it, as a query would require.
    doc =
      status.name === 'COMPLETED'
        ? pipelineResultSchema.parse(await handle.result())
        : pipelineResultSchema.parse(await handle.query(pipelineStatusQuery));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(pipelineId, error);
    throw error;
  }
  const live = doc.workflows.filter((wf) => isLiveWorkflowStatus(wf.status));
  await Promise.all(
    live.map(async (wf) => {
      try {
        const child: WorkflowResult = await client.workflow
          .getHandle(childWorkflowId(pipelineId, wf.name))
          .query(workflowStatusQuery);
        wf.steps = child.steps;
      } catch {
        // The child may have just finished; the parent's word stands.
      }
    }),
  );
  return doc;
}

async function runUpdate<T>(
  operation: () => Promise<T>,
  pipelineId: string,
  command: OperatorCommand,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notRunning(pipelineId, error);
    if (error instanceof WorkflowUpdateFailedError) {
      throw new OperatorCommandRejectedError(error.cause?.message ?? error.message, pipelineId, command, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Gives an operator decision to a workflow waiting for manual intervention. */
export async function intervene(
  client: Client,
  pipelineId: string,
  workflow: string,
  action: InterventionAction,
): Promise<string> {
  const handle = client.workflow.getHandle(pipelineId);
  return runUpdate(
    () => handle.executeUpdate(interveneUpdate, { args: [{ workflow, action }] }),
    pipelineId,
    'intervene',
  );
}

/** Forces a standing barrier open (`release`) or broken (`break`). */
export async function overrideBarrier(
  client: Client,
  pipelineId: string,
  command: 'release' | 'break',
  stage: string,
  identifier: string,
  reason?: string,
): Promise<string> {
  const handle = client.workflow.getHandle(pipelineId);
  const update = command === 'release' ? releaseBarrierUpdate : breakBarrierUpdate;
  return runUpdate(
    () => handle.executeUpdate(update, { args: [{ stage, identifier, reason }] }),
    pipelineId,
    command === 'release' ? 'release-barrier' : 'break-barrier',
  );
}

/** Aborts a pipeline: its standing barriers break with reason `pipeline aborted`. */
export async function cancelPipeline(client: Client, pipelineId: string): Promise<void> {
  try {
    await client.workflow.getHandle(pipelineId).cancel();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notRunning(pipelineId, error);
    throw error;
  }
}
