/**
 * Starting, watching and steering pipelines: the typed client API behind the CLI, usable from
 * scripts as well.
 */
import {
  ApplicationFailure,
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  QueryNotRegisteredError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { isResultFailureType } from '../model/outcome';
import { ConvoySearchAttributes } from '../model/visibility';
import type { PipelinePlan } from '../model/plan';
import { childPipelineId } from '../model/participants';
import {
  isLiveWorkflowStatus,
  pipelineResultSchema,
  type PipelineResult,
  type WorkflowResult,
} from '../model/result';
import {
  breakBarrierUpdate,
  childWorkflowId,
  decideInterventionUpdate,
  pipelineStatusQuery,
  releaseBarrierUpdate,
  workflowStatusQuery,
} from '../model/protocol';
import type { pipelineWorkflow } from '../workflows/pipeline';
import { connectionOptions, describeConnection, type TemporalConnection } from '../connection/config';
import { payloadCodecsFromEnv } from '../codec/settings';
import type { InterventionAction } from '../model/plan';
import { TemporalUnreachableError } from '../connection/errors';
import { unreachableCause } from '../connection/diagnose';
import {
  NotAPipelineError,
  OperatorCommandRejectedError,
  PipelineAlreadyEndedError,
  PipelineAlreadyExistsError,
  PipelineNotFoundError,
  type OperatorCommand,
} from './errors';
import { closedPipelineDocument, endedWithoutResult } from './closed-pipeline';
import { fillInTrains } from './trains';

/**
 * Connects to Temporal (address, TLS, API key as resolved), turning connection failures into
 * {@link TemporalUnreachableError} whose message carries no secret. With `CONVOY_CODEC_KEY` in
 * `env`, payloads are encrypted and decrypted (src/codec).
 */
export async function connectClient(
  config: TemporalConnection,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Client> {
  const payloadCodecs = payloadCodecsFromEnv(env);
  try {
    const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' });
    return new Client({ connection, namespace: config.namespace, dataConverter: { payloadCodecs } });
  } catch (error) {
    throw new TemporalUnreachableError(
      `cannot reach Temporal at ${describeConnection(config)}: ${await unreachableCause(config, error)}` +
        ' (set TEMPORAL_ADDRESS or a TEMPORAL_PROFILE, start a server with `convoy dev`, or use --embedded)',
      { cause: error },
    );
  }
}

/** The Temporal workflow type of every pipeline workflow. */
export const PIPELINE_WORKFLOW_TYPE = 'pipelineWorkflow';

/** Per client: whether its namespace has Convoy's search attributes (asked once). */
const searchAttributesRegistered = new WeakMap<Client, Promise<boolean>>();

/**
 * True when the client's namespace has every Convoy search attribute with its type. A cluster
 * that does not (or does not let us ask) gets pipelines that keep no search attributes: an
 * upsert of an unknown attribute would fail their workflow tasks.
 */
export function hasConvoySearchAttributes(client: Client): Promise<boolean> {
  let known = searchAttributesRegistered.get(client);
  if (!known) {
    known = client.connection.operatorService
      .listSearchAttributes({ namespace: client.options.namespace })
      .then(({ customAttributes }) =>
        Object.values(ConvoySearchAttributes).every(
          ({ name, type }) => customAttributes?.[name] === encodeSearchAttributeIndexedValueType(type),
        ),
      )
      .catch(() => false);
    searchAttributesRegistered.set(client, known);
  }
  return known;
}

const pipelineKey = defineSearchAttributeKey(
  ConvoySearchAttributes.pipeline.name,
  SearchAttributeType.KEYWORD,
);
/** The typed keys of `ConvoyStatus` and `ConvoyWaitingBarriers`, for reading them from visibility. */
export const statusKey = defineSearchAttributeKey(
  ConvoySearchAttributes.status.name,
  SearchAttributeType.KEYWORD,
);
export const waitingBarriersKey = defineSearchAttributeKey(
  ConvoySearchAttributes.waitingBarriers.name,
  SearchAttributeType.KEYWORD_LIST,
);

/**
 * Starts a pipeline workflow for a compiled plan; its workflow ID is the plan's pipelineId. The ID
 * of a pipeline that ended is taken too, unless `allowReuse`; that of a running one always is.
 */
export async function startPipeline(
  client: Client,
  plan: PipelinePlan,
  taskQueue: string,
  allowReuse = false,
): Promise<WorkflowHandle<typeof pipelineWorkflow>> {
  const searchAttributes = await hasConvoySearchAttributes(client);
  try {
    return await client.workflow.start<typeof pipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
      workflowId: plan.pipelineId,
      taskQueue,
      args: [{ plan, ...(searchAttributes && { searchAttributes }) }],
      ...(searchAttributes && {
        typedSearchAttributes: [
          { key: pipelineKey, value: plan.name },
          { key: statusKey, value: 'running' },
        ],
      }),
      workflowIdReusePolicy: allowReuse
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      memo: { convoyPipeline: plan.name, source: plan.source },
      staticSummary: `Convoy pipeline ${plan.name}`,
      staticDetails: plan.stages
        .map((s) => `- stage \`${s.name}\`: ${s.workflows.map((w) => w.name).join(', ')}`)
        .join('\n'),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      throw await idTaken(client, plan.pipelineId, error);
    throw error;
  }
}

/** Why a pipeline ID is taken: a running pipeline has it, or one that ended and may be reused. */
async function idTaken(
  client: Client,
  pipelineId: string,
  cause: unknown,
): Promise<PipelineAlreadyExistsError> {
  const existing = await client.workflow
    .getHandle(pipelineId)
    .describe()
    .catch(() => undefined);
  if (!existing || existing.status.name === 'RUNNING') {
    return new PipelineAlreadyExistsError(`a pipeline with id ${pipelineId} is already running`, pipelineId, {
      cause,
      running: true,
    });
  }
  const ended = existing.closeTime ? ` at ${existing.closeTime.toISOString()}` : '';
  return new PipelineAlreadyExistsError(
    `pipeline id ${pipelineId} belongs to a pipeline that ended (${existing.status.name.toLowerCase()}${ended}); ` +
      'reuse it with --allow-reuse (allowReuse), or choose another id',
    pipelineId,
    { cause, running: false },
  );
}

function notFound(pipelineId: string, cause: unknown): PipelineNotFoundError {
  return new PipelineNotFoundError(`no pipeline with id ${pipelineId}`, pipelineId, { cause });
}

function notRunning(pipelineId: string, cause: unknown): PipelineNotFoundError {
  return new PipelineNotFoundError(`no running pipeline with id ${pipelineId}`, pipelineId, { cause });
}

/**
 * Waits for a Convoy workflow (a pipeline or one of its children) to end and returns the
 * document it ended with: its result when it succeeded, its failure's details when it failed,
 * was aborted or rolled back (SPEC section 5). Any other end (terminated, timed out) throws.
 */
export async function workflowDocument(handle: WorkflowHandle): Promise<unknown> {
  try {
    return await handle.result();
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && isResultFailureType(cause.type) && cause.details?.length)
      return cause.details[0];
    throw error;
  }
}

/**
 * Describes the pipeline workflow with this ID, making sure it is one: an unknown ID is a
 * {@link PipelineNotFoundError}, another workflow's (a pipeline's child, as the Web UI lists
 * them) a {@link NotAPipelineError} that points at its pipeline.
 */
export async function describePipelineExecution(
  client: Client,
  pipelineId: string,
): Promise<WorkflowExecutionDescription> {
  let description: WorkflowExecutionDescription;
  try {
    description = await client.workflow.getHandle(pipelineId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(pipelineId, error);
    throw error;
  }
  if (description.type === PIPELINE_WORKFLOW_TYPE) return description;
  const parent = description.parentExecution?.workflowId;
  if (parent && pipelineId.startsWith(`${parent}/`)) {
    const workflow = pipelineId.slice(parent.length + 1);
    throw new NotAPipelineError(
      `${pipelineId} is not a pipeline: it is the workflow ${workflow} of pipeline ${parent} (a child workflow); use the pipeline id ${parent}`,
      pipelineId,
      parent,
      workflow,
    );
  }
  throw new NotAPipelineError(
    `${pipelineId} is not a Convoy pipeline (its workflow type is ${description.type})`,
    pipelineId,
  );
}

/** Waits for a pipeline to end and returns its result document. */
export async function waitForPipeline(client: Client, pipelineId: string): Promise<PipelineResult> {
  await describePipelineExecution(client, pipelineId);
  let raw: unknown;
  try {
    raw = await workflowDocument(client.workflow.getHandle(pipelineId));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(pipelineId, error);
    if (error instanceof WorkflowFailedError) {
      const description = await describePipelineExecution(client, pipelineId);
      if (endedWithoutResult(description)) return closedPipelineDocument(client, pipelineId, description);
    }
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
  const description = await describePipelineExecution(client, pipelineId);
  // A finished pipeline's document is its result, or its history when Temporal ended it: no
  // worker needs to be running to answer for it, as a query would require.
  if (endedWithoutResult(description)) return closedPipelineDocument(client, pipelineId, description);
  let doc: PipelineResult;
  try {
    doc =
      description.status.name === 'COMPLETED' || description.status.name === 'FAILED'
        ? pipelineResultSchema.parse(await workflowDocument(handle))
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
        // Only the workflow itself knows what an operator is asked and until when.
        if (child.intervention) wf.intervention = child.intervention;
        if (child.rejectedMessages) wf.rejectedMessages = child.rejectedMessages;
      } catch {
        // The child may have just finished; the parent's word stands.
      }
      await describeRunningChildPipelines(client, pipelineId, wf);
    }),
  );
  if (doc.status === 'running') await fillInTrains(client, doc);
  return doc;
}

/**
 * A running `pipeline` step's record has no document yet (the workflow cannot query its child):
 * the child pipeline's own live document goes in, its running workflows filled in the same way.
 */
async function describeRunningChildPipelines(
  client: Client,
  pipelineId: string,
  wf: WorkflowResult,
): Promise<void> {
  await Promise.all(
    wf.steps.map(async (step) => {
      if (step.type !== 'pipeline' || step.pipeline || step.status !== 'running') return;
      try {
        step.pipeline = await describePipeline(client, childPipelineId(pipelineId, wf.name, step.name));
      } catch {
        // Not started yet, or just ended: the step's record says what is known.
      }
    }),
  );
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

/**
 * Gives an operator decision to a workflow waiting for manual intervention. The update goes to
 * that deployment workflow itself, which owns the wait: its validator refuses a decision when it
 * does not wait (any more), waits at another `step`, or already has one, and what it accepts it
 * acts on.
 */
export async function intervene(
  client: Client,
  pipelineId: string,
  workflow: string,
  action: InterventionAction,
  step?: string,
): Promise<string> {
  await describePipelineExecution(client, pipelineId);
  const childId = childWorkflowId(pipelineId, workflow);
  try {
    return await runUpdate(
      () =>
        client.workflow
          .getHandle(childId)
          .executeUpdate(decideInterventionUpdate, { args: [{ action, ...(step ? { step } : {}) }] }),
      pipelineId,
      'intervene',
    );
  } catch (error) {
    if (!(error instanceof PipelineNotFoundError)) throw error;
    // No such running child: say whether the pipeline or only the workflow is missing.
    let doc: PipelineResult;
    try {
      doc = pipelineResultSchema.parse(
        await client.workflow.getHandle(pipelineId).query(pipelineStatusQuery),
      );
    } catch (cause) {
      if (cause instanceof WorkflowNotFoundError || cause instanceof QueryNotRegisteredError)
        throw notRunning(pipelineId, cause);
      throw cause;
    }
    if (doc.status !== 'running') throw notRunning(pipelineId, error.cause);
    const wf = doc.workflows.find((w) => w.name === workflow);
    throw new OperatorCommandRejectedError(
      wf
        ? `workflow ${workflow} is not waiting for manual intervention (it is ${wf.status})`
        : `no workflow named ${workflow} in pipeline ${pipelineId}`,
      pipelineId,
      'intervene',
      { cause: error.cause },
    );
  }
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
  await describePipelineExecution(client, pipelineId);
  return runUpdate(
    () => handle.executeUpdate(update, { args: [{ stage, identifier, reason }] }),
    pipelineId,
    command === 'release' ? 'release-barrier' : 'break-barrier',
  );
}

/**
 * Aborts a pipeline: its standing barriers break with reason `pipeline aborted`. One that has
 * already ended is left alone: {@link PipelineAlreadyEndedError} says how it ended.
 */
export async function cancelPipeline(client: Client, pipelineId: string): Promise<void> {
  const description = await describePipelineExecution(client, pipelineId);
  if (description.status.name !== 'RUNNING') throw await alreadyEnded(client, pipelineId);
  try {
    await client.workflow.getHandle(pipelineId).cancel();
  } catch (error) {
    // It ended between the look and the request.
    if (error instanceof WorkflowNotFoundError) throw await alreadyEnded(client, pipelineId);
    throw error;
  }
}

async function alreadyEnded(client: Client, pipelineId: string): Promise<PipelineAlreadyEndedError> {
  const doc = await describePipeline(client, pipelineId);
  const when = doc.endedAt ? ` at ${doc.endedAt}` : '';
  return new PipelineAlreadyEndedError(
    `pipeline ${pipelineId} already ended: ${doc.status}${when}; nothing to cancel`,
    pipelineId,
    doc.status,
  );
}
