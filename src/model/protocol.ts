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
import type { PipelineResult, WorkflowResult } from './result';

const name = z.string().min(1).max(300);

/**
 * The pipeline's shared secret (a UUID the pipeline workflow draws at its start): only the parent,
 * its children and whoever can read their inputs or histories know it. Optional in every schema
 * because pipelines started before it existed send none; the parent decides (by a patch marker)
 * whether it is required.
 */
export const capabilitySchema = z.string().min(16).max(100);
const capability = capabilitySchema.optional();

/** Child → parent: the child reached a barrier step and waits there. */
export const barrierArrivalSchema = z.object({
  workflow: name,
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
export const barrierWithdrawalSchema = z.object({ workflow: name, identifier: name, capability });
export type BarrierWithdrawal = z.infer<typeof barrierWithdrawalSchema>;
export const barrierWithdrawSignal = defineSignal<[BarrierWithdrawal]>('convoy.barrierWithdraw');

/**
 * Child → parent: the child's failure handling resolved to a terminal action, so it breaks every
 * barrier it has not reached. Sent before rollback steps run, so peers learn at once.
 */
export const workflowAbandonSchema = z.object({
  workflow: name,
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
 * Parent → child: the barrier this child waits at has resolved. To a workflow that relays for
 * participants of its own (a child pipeline's workflow), `participant` names which one
 * (see ./participants).
 */
export const barrierOutcomeSchema = z.object({
  identifier: name,
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
