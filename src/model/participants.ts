/**
 * Who a barrier participant is and where its messages go. A participant of a stage's barrier is
 * named after what takes part:
 *
 * - a workflow of the stage: its name (`payments`, `orders[eu]`);
 * - a workflow of a child pipeline that a workflow of the stage runs (a `type: pipeline` step),
 *   at a barrier step `parent.<identifier>`: `<calling workflow>/<child workflow>` (`api/migrate`).
 *
 * The pipeline workflow (the coordinator) sends each outcome to {@link participantAddress}'s
 * workflow; a `subParticipant` tells that workflow which of its own participants the outcome is
 * for (the child pipeline workflow relays it to its child workflow). Naming and addressing rules
 * live here and nowhere else.
 *
 * Pure module (workflow code uses it).
 */
import type { BarrierStepPlan, PipelinePlan, PipelineStepPlan, WorkflowPlan } from './plan';

/** A barrier step in a child pipeline with this prefix joins the calling stage's barrier. */
export const PARENT_BARRIER_PREFIX = 'parent.';

/** Separates the calling workflow from the child pipeline's workflow in a participant name. */
export const PARTICIPANT_SEPARATOR = '/';

/** The calling stage's barrier a child pipeline's barrier step joins, or undefined for its own barriers. */
export function parentBarrierOf(identifier: string): string | undefined {
  return identifier.startsWith(PARENT_BARRIER_PREFIX)
    ? identifier.slice(PARENT_BARRIER_PREFIX.length)
    : undefined;
}

/** The child pipeline's identifier for the calling stage's barrier `identifier`. */
export function parentBarrierIdentifier(identifier: string): string {
  return `${PARENT_BARRIER_PREFIX}${identifier}`;
}

/** The participant name of `childWorkflow` of a child pipeline run by `caller`. */
export function nestedParticipantName(caller: string, childWorkflow: string): string {
  return `${caller}${PARTICIPANT_SEPARATOR}${childWorkflow}`;
}

/**
 * The workflow ID of a child pipeline: `<workflow's ID>/<step>`, so its own children are
 * `<pipelineId>/<workflow>/<step>/<child workflow>`, readable in the Web UI and derivable by
 * anyone who knows the pipeline.
 */
export function childPipelineId(pipelineId: string, caller: string, step: string): string {
  return `${pipelineId}/${caller}/${step}`;
}

/** A participant as the plan knows it. */
export type ResolvedParticipant =
  | {
      readonly kind: 'workflow';
      readonly name: string;
      /** The workflow of the stage (whose lifecycle the coordinator follows). */
      readonly workflow: WorkflowPlan;
    }
  | {
      readonly kind: 'child-pipeline';
      readonly name: string;
      /** The workflow of the stage that runs the child pipeline. */
      readonly workflow: WorkflowPlan;
      readonly step: PipelineStepPlan;
      /** The child pipeline's workflow that takes part. */
      readonly child: WorkflowPlan;
    };

/**
 * Resolves a participant name against a plan, or undefined when the plan has no such
 * participant. A child pipeline's workflow resolves only when it has a `parent.` barrier step.
 */
export function resolveParticipant(plan: PipelinePlan, name: string): ResolvedParticipant | undefined {
  const direct = workflowNamed(plan, name);
  if (direct) return { kind: 'workflow', name, workflow: direct };
  const cut = name.indexOf(PARTICIPANT_SEPARATOR);
  if (cut <= 0) return undefined;
  const workflow = workflowNamed(plan, name.slice(0, cut));
  if (!workflow) return undefined;
  const childName = name.slice(cut + 1);
  for (const step of workflow.steps) {
    if (step.type !== 'pipeline') continue;
    const child = workflowNamed(step.pipeline, childName);
    if (child && child.steps.some((s) => s.type === 'barrier' && parentBarrierOf(s.identifier) !== undefined))
      return { kind: 'child-pipeline', name, workflow, step, child };
  }
  return undefined;
}

/** How a participant takes part in barrier `identifier` of the plan: its step, and whether it is skipped. */
export interface ParticipantBarrierStep {
  readonly step: BarrierStepPlan;
  /** The step is skipped, or the whole child pipeline is. */
  readonly skip: boolean;
}

/** The barrier step by which `participant` takes part in the calling stage's barrier `identifier`. */
export function participantBarrierStep(
  participant: ResolvedParticipant,
  identifier: string,
): ParticipantBarrierStep | undefined {
  if (participant.kind === 'workflow') {
    const step = barrierStepIn(participant.workflow, identifier);
    return step && { step, skip: step.skip };
  }
  const step = barrierStepIn(participant.child, parentBarrierIdentifier(identifier));
  return step && { step, skip: step.skip || participant.step.skip };
}

/** `wf`'s barrier step for `identifier`, if it has one. */
export function barrierStepIn(wf: WorkflowPlan, identifier: string): BarrierStepPlan | undefined {
  return wf.steps.find(
    (step): step is BarrierStepPlan => step.type === 'barrier' && step.identifier === identifier,
  );
}

/** Where a message for a participant goes: a workflow, and which of its participants it is for. */
export interface ParticipantAddress {
  readonly workflowId: string;
  /** Set when the workflow relays the message to one of its own participants. */
  readonly subParticipant?: string;
}

/**
 * The workflow to signal for `participant` of a pipeline whose ID is `pipelineId`: the stage's
 * workflow itself, or the child pipeline workflow that relays to its child workflow.
 */
export function participantAddress(
  plan: PipelinePlan,
  pipelineId: string,
  participant: string,
): ParticipantAddress {
  const resolved = resolveParticipant(plan, participant);
  if (resolved?.kind === 'child-pipeline') {
    return { workflowId: resolved.step.pipeline.pipelineId, subParticipant: resolved.child.name };
  }
  return { workflowId: `${pipelineId}/${participant}` };
}

/** The participants `caller` brings to the calling stage's barriers through its child pipelines. */
export function nestedParticipantsOf(caller: WorkflowPlan): string[] {
  const names: string[] = [];
  for (const step of caller.steps) {
    if (step.type !== 'pipeline') continue;
    for (const child of parentParticipantsOf(step.pipeline)) {
      const name = nestedParticipantName(caller.name, child.name);
      if (!names.includes(name)) names.push(name);
    }
  }
  return names;
}

/** The workflows of a (child) pipeline that take part in a barrier of the calling stage. */
export function parentParticipantsOf(plan: PipelinePlan): WorkflowPlan[] {
  return plan.stages.flatMap((stage) =>
    stage.workflows.filter((wf) =>
      wf.steps.some((step) => step.type === 'barrier' && parentBarrierOf(step.identifier) !== undefined),
    ),
  );
}

function workflowNamed(plan: PipelinePlan, name: string): WorkflowPlan | undefined {
  for (const stage of plan.stages) {
    const found = stage.workflows.find((wf) => wf.name === name);
    if (found) return found;
  }
  return undefined;
}

/**
 * Each (participant, calling-stage barrier) pair a child pipeline step brings: what the calling
 * workflow withdraws when the step is skipped.
 */
export function parentBarrierSteps(
  caller: string,
  step: PipelineStepPlan,
): { workflow: string; identifier: string }[] {
  return parentParticipantsOf(step.pipeline).flatMap((wf) =>
    wf.steps.flatMap((s) => {
      const joined = s.type === 'barrier' ? parentBarrierOf(s.identifier) : undefined;
      return joined === undefined
        ? []
        : [{ workflow: nestedParticipantName(caller, wf.name), identifier: joined }];
    }),
  );
}
