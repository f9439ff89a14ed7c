/**
 * Every message between Convoy's processes, defined once: the signals children and parent
 * exchange, the queries, and the operator updates, each with the zod schema of its payload.
 * Handlers validate with these schemas, so a malformed payload is rejected without touching
 * workflow state.
 *
 * Anyone with signal rights in the namespace can send a well-formed signal, so a well-formed one
 * proves nothing: every child ↔ parent signal carries the pipeline's {@link capabilitySchema
 * capability}, a random token the parent creates and hands to its children in their input, and
 * `./message-checks` refuses those without it. Operator actions are updates, whose validators run
 * in the workflow that owns the state they change.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { BarrierErrorTypes, OutcomeKinds } from './barrier';
import { interventionActionSchema } from './plan';
import { BarrierStatuses, type PipelineResult, type TrainStatus, type WorkflowResult } from './result';

const name = z.string().min(1).max(300);

/**
 * The pipeline's shared secret (a UUID the pipeline workflow draws at its start): only the parent,
 * its children and whoever can read their inputs or histories know it. Optional in every schema
 * because pipelines started before it existed send none; the parent decides (by a patch marker)
 * whether it is required.
 */
export const capabilitySchema = z.string().min(16).max(100);
const capability = capabilitySchema.optional();

/**
 * The branch of a parallel step that a barrier message is about: the participant is then
 * `<workflow>/<branch>` (./participants). Absent when the workflow itself is the participant.
 */
const branch = name.optional();

/** Child → parent: the child reached a barrier step and waits there. */
export const barrierArrivalSchema = z.object({
  workflow: name,
  branch,
  identifier: name,
  /** The barrier step's timeoutMs: the deadline is arrivedAt + timeoutMs. */
  timeoutMs: z.number().int().min(1),
  /** Epoch ms at which the child reached the barrier (its workflow clock). */
  arrivedAt: z.number().int().min(0),
  capability,
});
export type BarrierArrival = z.infer<typeof barrierArrivalSchema>;
export const barrierArriveSignal = defineSignal<[BarrierArrival]>('convoy.barrierArrive');

/** Child → parent: the child will not reach this barrier but counts as arrived (step skipped by `when`). */
export const barrierWithdrawalSchema = z.object({ workflow: name, branch, identifier: name, capability });
export type BarrierWithdrawal = z.infer<typeof barrierWithdrawalSchema>;
export const barrierWithdrawSignal = defineSignal<[BarrierWithdrawal]>('convoy.barrierWithdraw');

/**
 * Child → parent: the child's failure handling resolved to a terminal action, so it breaks every
 * barrier it has not reached (its branches' too). Sent before rollback steps run, so peers learn at
 * once. With `branch`: that branch failed or was cancelled, and breaks its own barriers only.
 */
export const workflowAbandonSchema = z.object({
  workflow: name,
  branch,
  reason: z.string().min(1).max(4000),
  capability,
});
export type WorkflowAbandon = z.infer<typeof workflowAbandonSchema>;
export const workflowAbandonSignal = defineSignal<[WorkflowAbandon]>('convoy.workflowAbandon');

/**
 * Child → parent: the child started or stopped waiting for an operator decision. Only shown in
 * the parent's document: the decision itself goes to the child ({@link decideInterventionUpdate}).
 */
export const interventionStateSchema = z.object({
  workflow: name,
  waiting: z.boolean(),
  step: z.string().max(300).optional(),
  capability,
});
export type InterventionState = z.infer<typeof interventionStateSchema>;
export const interventionStateSignal = defineSignal<[InterventionState]>('convoy.interventionState');

/**
 * Parent → child: the barrier this child (or its branch `branch`) waits at has resolved. To a
 * workflow that relays for participants of its own (a child pipeline's workflow), `participant`
 * names which one (see ./participants).
 */
export const barrierOutcomeSchema = z.object({
  identifier: name,
  branch,
  participant: name.optional(),
  kind: z.enum(OutcomeKinds),
  errorType: z.enum(BarrierErrorTypes).optional(),
  message: z.string(),
  capability,
});
export type BarrierOutcomeMessage = z.infer<typeof barrierOutcomeSchema>;
export const barrierOutcomeSignal = defineSignal<[BarrierOutcomeMessage]>('convoy.barrierOutcome');

/**
 * Parent → child, pipelines started before {@link decideInterventionUpdate} only: an operator's
 * decision relayed by the parent's `intervene` update. A child with a capability refuses it.
 */
export const interventionDecisionSchema = z.object({ action: interventionActionSchema });
export type InterventionDecision = z.infer<typeof interventionDecisionSchema>;
export const interventionDecisionSignal = defineSignal<[InterventionDecision]>('convoy.interventionDecision');

/** Both workflows: the SPEC section 5 document (parent) or one workflow's entry of it (child). */
export const pipelineStatusQuery = defineQuery<PipelineResult>('status');
export const workflowStatusQuery = defineQuery<WorkflowResult>('status');

/**
 * Operator → child: the manual-intervention decision, sent to the deployment workflow that waits
 * for it, so that its validator sees the wait itself (not a copy that could be stale or forged)
 * and no decision can race the wait's own timeout. `step`, when given, must be the step it waits
 * at. Accepted means taken: the workflow acts on it.
 */
export const interventionRequestSchema = z.object({
  action: interventionActionSchema,
  step: name.optional(),
});
export type InterventionRequest = z.infer<typeof interventionRequestSchema>;
export const decideInterventionUpdate = defineUpdate<string, [InterventionRequest]>('convoy.intervene');

/**
 * Operator → parent, pipelines started before {@link decideInterventionUpdate}: the parent checked
 * its copy of the child's state and relayed the decision by signal. Pipelines with a capability
 * refuse it and name the child to ask.
 */
export const interveneRequestSchema = z.object({ workflow: name, action: interventionActionSchema });
export type InterveneRequest = z.infer<typeof interveneRequestSchema>;
export const interveneUpdate = defineUpdate<string, [InterveneRequest]>('intervene');

/** Operator → parent: force a standing barrier open (`release`) or broken (`break`). */
export const barrierCommandSchema = z.object({
  stage: name,
  identifier: name,
  reason: z.string().max(4000).optional(),
});
export type BarrierCommand = z.infer<typeof barrierCommandSchema>;
export const releaseBarrierUpdate = defineUpdate<string, [BarrierCommand]>('barrierRelease');
export const breakBarrierUpdate = defineUpdate<string, [BarrierCommand]>('barrierBreak');

/** The ID of a child deployment workflow: readable in the Web UI and derivable by anyone. */
export function childWorkflowId(pipelineId: string, workflowName: string): string {
  return `${pipelineId}/${workflowName}`;
}

/** Parses a payload with a schema, returning a readable reason instead of throwing. */
export function parsePayload<T>(
  schema: z.ZodType<T>,
  payload: unknown,
): { ok: true; value: T } | { ok: false; reason: string } {
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, reason };
}

// ---------------------------------------------------------------------------------------------
// Release trains (issue 14): pipelines ↔ the train workflow `convoyTrain` of (train, identifier).
//
// Pipelines and the train share no input, so there is no capability to hand out. Instead each
// pipeline draws a token of its own (like its capability) and sends it with its messages; the
// train believes a message only once the pipeline it names confirmed the token through its
// {@link trainMembershipQuery} (a query the train's activity sends: a signal can be forged, a
// query's answer comes from the workflow asked). The train signals its outcome back with the
// pipeline's token, and a pipeline believes only outcomes that carry it.

/** The Temporal workflow type of a release train. */
export const TRAIN_WORKFLOW_TYPE = 'convoyTrain';

/** The workflow ID of a release train: one per (train, identifier); its runs tell crossings apart. */
export function trainWorkflowId(train: string, identifier: string): string {
  return `convoy-train/${train}/${identifier}`;
}

const pipelineClaim = {
  /** The pipeline's `name:`, as the train's `expect` lists it. */
  pipeline: name,
  /** The pipeline's ID (its workflow ID): where the train asks and answers. */
  pipelineId: name,
  /** The pipeline's train token (see above). */
  token: capabilitySchema,
};

/** Pipeline → train: its own participants have crossed its barrier; it waits for the train. */
export const trainArrivalSchema = z.object({
  ...pipelineClaim,
  /** The `expect` of the pipeline's file; must agree with the train run's. */
  expect: z.array(name).min(1).max(1000),
  arrivedAt: z.number().int().min(0),
  /** How much longer its participants may wait: the deadline is arrivedAt + timeoutMs. */
  timeoutMs: z.number().int().min(0),
});
export type TrainArrival = z.infer<typeof trainArrivalSchema>;
export const trainArriveSignal = defineSignal<[TrainArrival]>('convoy.trainArrive');

/** Pipeline → train: the pipeline broke its barrier (failed, aborted, timed out) or ended without it. */
export const trainAbandonSchema = z.object({ ...pipelineClaim, reason: z.string().min(1).max(4000) });
export type TrainAbandon = z.infer<typeof trainAbandonSchema>;
export const trainAbandonSignal = defineSignal<[TrainAbandon]>('convoy.trainAbandon');

/** Train → pipeline: how the train run it joined resolved. */
export const trainOutcomeSchema = z.object({
  train: name,
  identifier: name,
  /** The train run's Temporal run ID. */
  runId: z.string().max(100),
  token: capabilitySchema,
  kind: z.enum(OutcomeKinds),
  errorType: z.enum(BarrierErrorTypes).optional(),
  message: z.string().max(8000),
  status: z.enum(BarrierStatuses),
  reason: z.string().max(8000).optional(),
  missing: z.array(name).max(1000).optional(),
  /** Pipeline name → ISO time it arrived at the train. */
  arrivals: z.record(z.string(), z.string()),
  resolvedAt: z.string().optional(),
});
export type TrainOutcomeMessage = z.infer<typeof trainOutcomeSchema>;
export const trainOutcomeSignal = defineSignal<[TrainOutcomeMessage]>('convoy.trainOutcome');

/** Train's activity → pipeline: is this your token for this train barrier? */
export const trainMembershipRequestSchema = z.object({ train: name, identifier: name, token: z.string() });
export type TrainMembershipRequest = z.infer<typeof trainMembershipRequestSchema>;
/** The pipeline's answer: its name and its `expect` when the token is its own, else null. */
export interface TrainMembership {
  readonly pipeline: string;
  readonly expect: readonly string[];
}
export const trainMembershipQuery = defineQuery<TrainMembership | null, [TrainMembershipRequest]>(
  'convoy.trainMembership',
);

/** The train run's document. */
export const trainStatusQuery = defineQuery<TrainStatus>('convoy.trainStatus');

/** Operator → train: force the standing train open (`release`) or broken (`break`). */
export const trainCommandSchema = z.object({ reason: z.string().max(4000).optional() });
export type TrainCommand = z.infer<typeof trainCommandSchema>;
export const releaseTrainUpdate = defineUpdate<string, [TrainCommand]>('convoy.trainRelease');
export const breakTrainUpdate = defineUpdate<string, [TrainCommand]>('convoy.trainBreak');
