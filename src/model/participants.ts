/**
 * Barrier participants: how they are named and where each one lives. A participant of a stage's
 * barrier is a workflow of the stage (`payments`) or a part of one, named `<workflow>/<part>`:
 * a branch of one of its parallel steps (`payments/canary`). Names of workflows, branches and
 * `forEach` items never contain `/`, so a participant splits at its first `/`.
 *
 * The one place that maps a participant to the Temporal workflow to signal (and the part inside
 * it): the coordinator sends barrier outcomes through {@link participantTarget}.
 *
 * Pure module (workflow code uses it).
 */
import type { BarrierStepPlan, BranchPlan, BranchStepPlan, PipelinePlan, WorkflowPlan } from './plan';
import { childWorkflowId } from './protocol';

/** Joins a workflow and a part of it (a branch) into a participant name. */
export const PARTICIPANT_SEPARATOR = '/';

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

/** Where a participant lives: which deployment workflow of the pipeline, and which branch in it. */
export type ParticipantTarget =
  | { readonly kind: 'workflow'; readonly workflow: string }
  | { readonly kind: 'branch'; readonly workflow: string; readonly branch: string };

/**
 * The target of `participant` in `plan`; undefined when the plan has no such participant. A
 * plain workflow name is its own target without a look-up (the coordinator's hot path).
 */
export function participantTarget(plan: PipelinePlan, participant: string): ParticipantTarget | undefined {
  const { workflow, part } = splitParticipant(participant);
  if (part === undefined) return { kind: 'workflow', workflow };
  const wf = workflowOf(plan, workflow);
  if (wf && branchOf(wf, part)) return { kind: 'branch', workflow, branch: part };
  return undefined;
}

/** The ID of the Temporal workflow to signal for `target` in pipeline `pipelineId`. */
export function targetWorkflowId(pipelineId: string, target: ParticipantTarget): string {
  return childWorkflowId(pipelineId, target.workflow);
}

/** The branch of `target`, as barrier messages carry it (absent for a whole workflow). */
export function branchField(target: ParticipantTarget): { branch?: string } {
  return target.kind === 'branch' ? { branch: target.branch } : {};
}

/**
 * True when `participant` is `brokenBy` or a part of the workflow `brokenBy`: a workflow that
 * gives up breaks the barriers of its branches too, and none of them waits for word any more.
 */
export function isPartOf(participant: string, brokenBy: string): boolean {
  if (participant === brokenBy) return true;
  const { workflow, part } = splitParticipant(participant);
  return part !== undefined && workflow === brokenBy && !brokenBy.includes(PARTICIPANT_SEPARATOR);
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

/** Every participant `wf` may be: itself and each of its branches. */
export function participantsOf(wf: WorkflowPlan): string[] {
  return [wf.name, ...branchesOf(wf).map((entry) => joinParticipant(wf.name, entry.branch.name))];
}

/**
 * The steps that one participant of `wf` runs in order: the workflow's own steps outside its
 * parallel steps (no branch), or the steps of branch `branch`; undefined when `wf` has no such branch.
 */
export function participantSteps(wf: WorkflowPlan, branch?: string): BranchStepPlan[] | undefined {
  if (branch === undefined) return wf.steps.filter((step) => step.type !== 'parallel');
  return branchOf(wf, branch)?.branch.steps;
}

/** A barrier step of one participant, and whether the plan skips it (its step or its group). */
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

/** Every step name of `wf` (its own steps, its branches' steps), e.g. to check an intervention. */
export function hasStepNamed(wf: WorkflowPlan, name: string): boolean {
  return wf.steps.some(
    (step) =>
      step.name === name ||
      (step.type === 'parallel' && step.branches.some((b) => b.steps.some((s) => s.name === name))),
  );
}

function workflowOf(plan: PipelinePlan, name: string): WorkflowPlan | undefined {
  for (const stage of plan.stages) {
    const found = stage.workflows.find((wf) => wf.name === name);
    if (found) return found;
  }
  return undefined;
}
