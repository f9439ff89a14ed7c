/**
 * Which child ↔ parent messages a workflow may believe. A signal proves only that someone with
 * signal rights in the namespace sent it, so a message counts when it carries the pipeline's
 * capability and agrees with what the receiver already knows from the plan: the sender is a
 * workflow of the plan, a participant of the barrier it names, and says what the plan says
 * (its timeout, a skipped step). Whatever the message claims beyond that is not used: the
 * coordinator takes timeouts from the plan.
 *
 * Refused messages are counted per claimed sender ({@link RejectedMessages}) and logged once per
 * sender, so that a flood costs one log line per sender, not one per signal.
 *
 * Pure module (workflow code uses it).
 */
import {
  hasStepNamed,
  parentBarrierIdentifier,
  participantBarrier,
  participantBarrierStep,
  resolveParticipant,
  joinParticipant,
  type ParticipantBarrier,
  type ResolvedParticipant,
} from './participants';
import type { BarrierStepPlan, PipelinePlan, WorkflowPlan } from './plan';
import type {
  BarrierArrival,
  BarrierOutcomeMessage,
  BarrierWithdrawal,
  InterventionState,
  WorkflowAbandon,
} from './protocol';

/** A message that passed the checks, with what the plan says about it; or why it did not. */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * What a barrier message is taken to mean: the sender's plan, the participant it speaks for (the
 * workflow, or `<workflow>/<branch>` for one of its branches) and that participant's barrier step.
 */
export interface CheckedParticipant {
  readonly workflow: WorkflowPlan;
  readonly participant: string;
}

/** What an arrival is taken to mean: its participant and its barrier step's timeout from the plan. */
export interface CheckedArrival extends CheckedParticipant {
  readonly timeoutMs: number;
}

/**
 * The capability check. `expected` undefined means the pipeline predates capabilities (its
 * children send none): every message passes this check, as it did then.
 */
export function checkCapability(expected: string | undefined, given: string | undefined): string | undefined {
  if (expected === undefined) return undefined;
  if (given === undefined) return 'it carries no capability';
  return given === expected ? undefined : "its capability is not the pipeline's";
}

/** The plan of the workflow named `name`, if the pipeline has one. */
export function workflowInPlan(plan: PipelinePlan, name: string): WorkflowPlan | undefined {
  const resolved = resolveParticipant(plan, name);
  return resolved?.kind === 'workflow' ? resolved.workflow : undefined;
}

/** `wf`'s own barrier step for `identifier` (outside its branches), if it takes part in that barrier. */
export function barrierStepOf(wf: WorkflowPlan, identifier: string): BarrierStepPlan | undefined {
  return participantBarrier(wf, identifier)?.step;
}

/**
 * The sender of a message and the participant it speaks for, as the plan knows it: a workflow of
 * the pipeline, one of its branches (`branch` must be a branch of `workflow` in the plan, so no
 * workflow can speak for another's branch, nor a made-up one), or (when `nested` allows) a child
 * pipeline's workflow that takes part in this pipeline's barriers, relayed by its pipeline.
 */
function sender(
  plan: PipelinePlan,
  expected: string | undefined,
  message: { workflow: string; branch?: string | undefined; capability?: string },
  nested = true,
): Checked<CheckedParticipant> {
  const refused = checkCapability(expected, message.capability);
  if (refused !== undefined) return { ok: false, reason: refused };
  const resolved = resolveParticipant(plan, message.workflow);
  if (!resolved || resolved.kind === 'branch' || (!nested && resolved.kind !== 'workflow'))
    return { ok: false, reason: `${message.workflow} is not a workflow of this pipeline` };
  if (message.branch === undefined) return { ok: true, value: checked(resolved) };
  const branch =
    resolved.kind === 'workflow' &&
    resolveParticipant(plan, joinParticipant(message.workflow, message.branch));
  if (!branch || branch.kind !== 'branch')
    return { ok: false, reason: `${message.workflow} has no branch named ${message.branch}` };
  return { ok: true, value: checked(branch) };
}

function checked(resolved: ResolvedParticipant): CheckedParticipant {
  return { workflow: resolved.workflow, participant: resolved.name };
}

/** The sender's barrier step for the message's barrier, or why it is not a participant of it. */
function barrierOf(
  plan: PipelinePlan,
  checked: CheckedParticipant,
  identifier: string,
): Checked<ParticipantBarrier> {
  const resolved = resolveParticipant(plan, checked.participant);
  const barrier = resolved && participantBarrierStep(resolved, identifier);
  return barrier
    ? { ok: true, value: barrier }
    : { ok: false, reason: `${checked.participant} is not a participant of barrier ${identifier}` };
}

/**
 * A child's arrival at a barrier: a participant of that barrier, at a step the plan runs, with the
 * plan's timeout. The coordinator uses the plan's timeout, never the message's. A child
 * pipeline's workflow arrives (through its pipeline workflow) at its `parent.` step.
 */
export function checkArrival(
  plan: PipelinePlan,
  expected: string | undefined,
  arrival: BarrierArrival,
): Checked<CheckedArrival> {
  const from = sender(plan, expected, arrival);
  if (!from.ok) return from;
  const barrier = barrierOf(plan, from.value, arrival.identifier);
  if (!barrier.ok) return barrier;
  const { participant } = from.value;
  const { step, skip } = barrier.value;
  if (skip) return { ok: false, reason: `${participant} skips barrier ${arrival.identifier} in the plan` };
  if (arrival.timeoutMs !== step.timeoutMs) {
    return {
      ok: false,
      reason: `timeoutMs ${arrival.timeoutMs} disagrees with the plan's ${step.timeoutMs} for ${participant} at barrier ${arrival.identifier}`,
    };
  }
  return { ok: true, value: { ...from.value, timeoutMs: step.timeoutMs } };
}

/** A child's withdrawal: only for a barrier step the plan skips (`when` evaluated false). */
export function checkWithdrawal(
  plan: PipelinePlan,
  expected: string | undefined,
  withdrawal: BarrierWithdrawal,
): Checked<CheckedParticipant> {
  const from = sender(plan, expected, withdrawal);
  if (!from.ok) return from;
  const barrier = barrierOf(plan, from.value, withdrawal.identifier);
  if (!barrier.ok) return barrier;
  if (!barrier.value.skip) {
    return {
      ok: false,
      reason: `${from.value.participant} does not skip barrier ${withdrawal.identifier} in the plan`,
    };
  }
  return from;
}

/** A child's notice that it (or one of its branches) gives up: it breaks its barriers. */
export function checkAbandon(
  plan: PipelinePlan,
  expected: string | undefined,
  notice: WorkflowAbandon,
): Checked<CheckedParticipant> {
  return sender(plan, expected, notice);
}

/**
 * A child's notice that it waits (or no longer waits) for an operator, at one of its steps. Only
 * the stage's own workflows send it: a child pipeline's workflows tell their own pipeline.
 */
export function checkInterventionState(
  plan: PipelinePlan,
  expected: string | undefined,
  state: InterventionState,
): Checked<CheckedParticipant> {
  const from = sender(plan, expected, state, false);
  if (!from.ok || state.step === undefined) return from;
  return hasStepNamed(from.value.workflow, state.step)
    ? from
    : { ok: false, reason: `${state.workflow} has no step named ${state.step}` };
}

/**
 * The coordinator's outcome, as its child `wf` checks it: for one of its own barriers, or one of
 * its branch's when the outcome names a branch.
 */
export function checkOutcome(
  wf: WorkflowPlan,
  expected: string | undefined,
  outcome: BarrierOutcomeMessage,
): Checked<BarrierOutcomeMessage> {
  const refused = checkCapability(expected, outcome.capability);
  if (refused !== undefined) return { ok: false, reason: refused };
  return participantBarrier(wf, outcome.identifier, outcome.branch)
    ? { ok: true, value: outcome }
    : {
        ok: false,
        reason: `${outcome.identifier} is not a barrier of ${joinParticipant(wf.name, outcome.branch)}`,
      };
}

/**
 * The calling pipeline's outcome, as a child pipeline checks it before relaying it: it carries
 * the calling pipeline's capability (`expected`, handed down in the child pipeline's input) and is
 * for one of the child pipeline's workflows that has a barrier step `parent.<identifier>`.
 * Returns the workflow to relay it to.
 */
export function checkParentOutcome(
  plan: PipelinePlan,
  expected: string | undefined,
  outcome: BarrierOutcomeMessage,
): Checked<WorkflowPlan> {
  const refused = checkCapability(expected, outcome.capability);
  if (refused !== undefined) return { ok: false, reason: refused };
  if (outcome.participant === undefined)
    return { ok: false, reason: 'it names no participant of this pipeline' };
  const wf = workflowInPlan(plan, outcome.participant);
  if (!wf) return { ok: false, reason: `${outcome.participant} is not a workflow of this pipeline` };
  return barrierStepOf(wf, parentBarrierIdentifier(outcome.identifier))
    ? { ok: true, value: wf }
    : {
        ok: false,
        reason: `${outcome.participant} does not take part in the calling pipeline's barrier ${outcome.identifier}`,
      };
}

/** The sender a message claims to come from, for counting: its `workflow` field when it has one. */
export function claimedSender(payload: unknown, fallback: string): string {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    const workflow = (payload as { workflow?: unknown }).workflow;
    if (typeof workflow === 'string' && workflow.length > 0 && workflow.length <= 300) return workflow;
  }
  return fallback;
}

/** The count of refused messages in a status document; absent while there are none. */
export interface RejectedMessagesSummary {
  readonly count: number;
  /** Claimed sender → refused messages from it; senders past the first few share one entry. */
  readonly bySender: Readonly<Record<string, number>>;
}

/** Senders counted (and logged) one by one; later ones share {@link OTHER_SENDERS}. */
export const MAX_NAMED_SENDERS = 20;
/** The entry of every sender past the first {@link MAX_NAMED_SENDERS}. */
export const OTHER_SENDERS = '(other senders)';

/**
 * Counts refused messages by claimed sender, and says which to log: the first from each sender.
 * Senders are attacker-chosen names, so only the first {@link MAX_NAMED_SENDERS} get an entry (and
 * a log line) of their own: a flood under random names costs at most that many lines plus one.
 */
export class RejectedMessages {
  private total = 0;
  private readonly bySender = new Map<string, number>();

  /** Records one refused message from `sender`; true when it is the first (the one to log). */
  record(sender: string): boolean {
    const key = this.bySender.has(sender) || this.bySender.size < MAX_NAMED_SENDERS ? sender : OTHER_SENDERS;
    const before = this.bySender.get(key) ?? 0;
    this.bySender.set(key, before + 1);
    this.total += 1;
    return before === 0;
  }

  /** The document's `rejectedMessages`, or undefined when nothing was refused. */
  summary(): RejectedMessagesSummary | undefined {
    if (this.total === 0) return undefined;
    return { count: this.total, bySender: Object.fromEntries(this.bySender) };
  }
}

/** A refused message, for the workflow to log when `log` is true. */
export interface Refusal {
  readonly message: string;
  readonly sender: string;
  readonly reason: string;
  /** The first refusal from this sender: log it; later ones are only counted. */
  readonly log: boolean;
}
