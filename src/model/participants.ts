/**
 * Barrier participants: how they are named and where each one lives. A participant of a stage's
 * barrier is named after what takes part:
 *
 * - a workflow of the stage: its name (`payments`, `orders[eu]`);
 * - a branch of one of its parallel steps: `<workflow>/<branch>` (`payments/canary`);
 * - a workflow of a child pipeline that a workflow of the stage runs (a `type: pipeline` step),
 *   at a barrier step `parent.<identifier>`: `<calling workflow>/<child workflow>` (`api/migrate`).
 *
 * Names of workflows, branches and `forEach` items never contain `/`, so a participant splits at
 * its first `/`; whether `a/b` is a branch of `a` or a child pipeline's workflow `b` is the plan's
 * to say ({@link resolveParticipant}). Validation refuses a workflow whose branch and child
 * pipeline participant share a name, so the two never collide.
 *
 * The one place that maps a participant to the Temporal workflow to signal:
 * {@link participantAddress}. A branch lives in its workflow's deployment workflow (the outcome
 * names the `branch`); a child pipeline's workflow is reached through the child pipeline workflow
 * `<pipelineId>/<workflow>/<step>`, which relays (the outcome names the `subParticipant`).
 *
 * Pure module (workflow code uses it).
 */
import type {
  BarrierStepPlan,
  BranchPlan,
  BranchStepPlan,
  PipelinePlan,
  PipelineStepPlan,
  WorkflowPlan,
} from './plan';
import { childWorkflowId } from './protocol';

/** Joins a workflow and a part of it (a branch, a child pipeline's workflow) into a participant name. */
export const PARTICIPANT_SEPARATOR = '/';

/** A barrier step in a child pipeline with this prefix joins the calling stage's barrier. */
export const PARENT_BARRIER_PREFIX = 'parent.';

/** The participant name of `workflow`, or of its part `part` (`<workflow>/<part>`). */
export function joinParticipant(workflow: string, part?: string): string {
  return part === undefined ? workflow : `${workflow}${PARTICIPANT_SEPARATOR}${part}`;
}

/** The workflow a participant belongs to, and the part of it when it is one (the inverse of join). */
export function splitParticipant(participant: string): { workflow: string; part?: string } {
  const at = participant.indexOf(PARTICIPANT_SEPARATOR);
  return at < 0
    ? { workflow: participant }
    : { workflow: participant.slice(0, at), part: participant.slice(at + PARTICIPANT_SEPARATOR.length) };
}

/** The participant name of `childWorkflow` of a child pipeline run by `caller`. */
export function nestedParticipantName(caller: string, childWorkflow: string): string {
  return joinParticipant(caller, childWorkflow);
}

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
      readonly kind: 'branch';
      readonly name: string;
      /** The workflow of the stage whose parallel step holds the branch. */
      readonly workflow: WorkflowPlan;
      readonly branch: BranchPlan;
      /** The branch's parallel step is skipped (`when`) in the plan. */
      readonly groupSkipped: boolean;
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
  const { workflow: callerName, part } = splitParticipant(name);
  if (part === undefined || callerName.length === 0) return undefined;
  const workflow = workflowNamed(plan, callerName);
  if (!workflow) return undefined;
  const inBranch = branchOf(workflow, part);
  if (inBranch) return { kind: 'branch', name, workflow, ...inBranch };
  for (const step of workflow.steps) {
    if (step.type !== 'pipeline') continue;
    const child = workflowNamed(step.pipeline, part);
    if (child && joinsParent(child)) return { kind: 'child-pipeline', name, workflow, step, child };
  }
  return undefined;
}

/** Where a message for a participant goes: a workflow, and which part of it the message is for. */
export interface ParticipantAddress {
  readonly workflowId: string;
  /** Set for a branch: the deployment workflow hands the message to that branch. */
  readonly branch?: string;
  /** Set when the workflow relays the message to one of its own participants (a child pipeline). */
  readonly subParticipant?: string;
}

/**
 * The workflow to signal for `participant` of a pipeline whose ID is `pipelineId`: the stage's
 * workflow itself (for it or one of its branches), or the child pipeline workflow that relays to
 * its child workflow. Undefined when the plan has no such participant. A plain workflow name is
 * its own address without a look-up (the coordinator's hot path).
 */
export function participantAddress(
  plan: PipelinePlan,
  pipelineId: string,
  participant: string,
): ParticipantAddress | undefined {
  if (!participant.includes(PARTICIPANT_SEPARATOR))
    return { workflowId: childWorkflowId(pipelineId, participant) };
  const resolved = resolveParticipant(plan, participant);
  switch (resolved?.kind) {
    case undefined:
      return undefined;
    case 'workflow':
      return { workflowId: childWorkflowId(pipelineId, resolved.name) };
    case 'branch':
      return {
        workflowId: childWorkflowId(pipelineId, resolved.workflow.name),
        branch: resolved.branch.name,
      };
    case 'child-pipeline':
      return { workflowId: resolved.step.pipeline.pipelineId, subParticipant: resolved.child.name };
  }
}

/**
 * True when `participant` is `workflow` or a part of it (a branch, a child pipeline's workflow):
 * a workflow that gives up breaks the barriers of its parts too, and none of them waits for word.
 */
export function isPartOf(participant: string, workflow: string): boolean {
  if (participant === workflow) return true;
  const { workflow: owner, part } = splitParticipant(participant);
  return part !== undefined && owner === workflow && !workflow.includes(PARTICIPANT_SEPARATOR);
}

/** A branch of a workflow, with whether its parallel step is skipped (`when`) in the plan. */
export interface BranchOfWorkflow {
  readonly branch: BranchPlan;
  readonly groupSkipped: boolean;
}

/** Every branch of `wf`'s parallel steps, in step order. */
export function branchesOf(wf: WorkflowPlan): BranchOfWorkflow[] {
  return wf.steps.flatMap((step) =>
    step.type === 'parallel' ? step.branches.map((branch) => ({ branch, groupSkipped: step.skip })) : [],
  );
}

/** `wf`'s branch named `name`, if it has one. */
export function branchOf(wf: WorkflowPlan, name: string): BranchOfWorkflow | undefined {
  return branchesOf(wf).find((entry) => entry.branch.name === name);
}

/** Every participant `wf` may be in its own deployment workflow: itself and each of its branches. */
export function participantsOf(wf: WorkflowPlan): string[] {
  return [wf.name, ...branchesOf(wf).map((entry) => joinParticipant(wf.name, entry.branch.name))];
}

/** Every participant `wf` brings: itself, its branches and its child pipelines' workflows. */
export function allParticipantsOf(wf: WorkflowPlan): string[] {
  return [...participantsOf(wf), ...nestedParticipantsOf(wf)];
}

/**
 * The steps that one participant of `wf` runs in order: the workflow's own steps outside its
 * parallel steps (no branch), or the steps of branch `branch`; undefined when `wf` has no such branch.
 */
export function participantSteps(wf: WorkflowPlan, branch?: string): BranchStepPlan[] | undefined {
  if (branch === undefined)
    return wf.steps.filter(
      (step): step is BranchStepPlan => step.type !== 'parallel' && step.type !== 'pipeline',
    );
  return branchOf(wf, branch)?.branch.steps;
}

/** A barrier step of one participant, and whether the plan skips it (its step, group or child pipeline). */
export interface ParticipantBarrier {
  readonly step: BarrierStepPlan;
  readonly skip: boolean;
}

/** The barrier step for `identifier` of `wf` itself (no branch) or of its branch `branch`. */
export function participantBarrier(
  wf: WorkflowPlan,
  identifier: string,
  branch?: string,
): ParticipantBarrier | undefined {
  const groupSkipped = branch === undefined ? false : (branchOf(wf, branch)?.groupSkipped ?? false);
  const step = participantSteps(wf, branch)?.find(
    (candidate): candidate is BarrierStepPlan =>
      candidate.type === 'barrier' && candidate.identifier === identifier,
  );
  return step && { step, skip: step.skip || groupSkipped };
}

/** The barrier step by which `participant` takes part in its stage's barrier `identifier`. */
export function participantBarrierStep(
  participant: ResolvedParticipant,
  identifier: string,
): ParticipantBarrier | undefined {
  switch (participant.kind) {
    case 'workflow':
      return participantBarrier(participant.workflow, identifier);
    case 'branch':
      return participantBarrier(participant.workflow, identifier, participant.branch.name);
    case 'child-pipeline': {
      const taking = participantBarrier(participant.child, parentBarrierIdentifier(identifier));
      return taking && { step: taking.step, skip: taking.skip || participant.step.skip };
    }
  }
}

/** `wf`'s own barrier step for `identifier` (outside its branches), if it has one. */
export function barrierStepIn(wf: WorkflowPlan, identifier: string): BarrierStepPlan | undefined {
  return participantBarrier(wf, identifier)?.step;
}

/** Whether `wf` has a step named `name` (its own steps, its branches' steps), e.g. to check an intervention. */
export function hasStepNamed(wf: WorkflowPlan, name: string): boolean {
  return wf.steps.some(
    (step) =>
      step.name === name ||
      (step.type === 'parallel' && step.branches.some((b) => b.steps.some((s) => s.name === name))),
  );
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
  return plan.stages.flatMap((stage) => stage.workflows.filter(joinsParent));
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

/** A child pipeline's workflow joins the calling stage's barriers by a `parent.` step of its own. */
function joinsParent(wf: WorkflowPlan): boolean {
  return wf.steps.some((step) => step.type === 'barrier' && parentBarrierOf(step.identifier) !== undefined);
}

function workflowNamed(plan: PipelinePlan, name: string): WorkflowPlan | undefined {
  for (const stage of plan.stages) {
    const found = stage.workflows.find((wf) => wf.name === name);
    if (found) return found;
  }
  return undefined;
}
