/**
 * What the train workflow decides beyond the train's state machine (`./train.ts`): which
 * messages count, what is carried into the next run, and what is shown. The train workflow keeps
 * one instance and only moves signals, verification results, updates and its timer in and out.
 *
 * Trust: a message names a pipeline ID and carries that pipeline's token. It counts only once the
 * pipeline itself confirmed the token (the workflow asks through an activity that queries the
 * pipeline, `trainMembershipQuery`), and then with the name and `expect` the pipeline gave, not
 * those the message claims. A confirmed token is remembered per pipeline ID for the run, so each
 * pipeline is asked once. Refused messages are counted by claimed sender, as pipelines count theirs.
 *
 * Pure module (workflow code uses it).
 */
import { RejectedMessages, claimedSender, type Refusal } from '../message-checks';
import type { TrainAbandon, TrainArrival, TrainCommand, TrainMembership } from '../protocol';
import type { TrainStatus } from '../result';
import { renderTrainDetails } from '../web-ui-details';
import * as Train from './train';

/** A message to the train, as received. */
export type TrainMessage =
  | { readonly kind: 'arrive'; readonly arrival: TrainArrival }
  | { readonly kind: 'abandon'; readonly notice: TrainAbandon };

/** What one input did, for the workflow to act on. */
export interface TrainDecision {
  readonly changed: boolean;
  /** Outcomes to signal, each to its pipeline. */
  readonly outcomes: readonly Train.TrainOutcome[];
  readonly rejected?: string;
  readonly refused?: Refusal;
}

/** Default reasons of the operator commands. */
export const TRAIN_RELEASE_REASON = 'released by an operator';
export const TRAIN_BREAK_REASON = 'broken by an operator';

const NOTHING: TrainDecision = { changed: false, outcomes: [] };

/** The message's claimed sender and token. */
function claimOf(message: TrainMessage): { pipeline: string; pipelineId: string; token: string } {
  return message.kind === 'arrive' ? message.arrival : message.notice;
}

export class TrainRun {
  private state: Train.TrainState;
  /** Pipeline ID → the token and membership it confirmed. */
  private readonly confirmed = new Map<string, { token: string; membership: TrainMembership }>();
  private readonly late: TrainMessage[] = [];
  /** Pipeline IDs that confirmed they left this run: an arrival of theirs that lands later is stale. */
  private readonly left = new Set<string>();
  private readonly rejectedMessages = new RejectedMessages();

  constructor(
    input: { train: string; identifier: string; expect: readonly string[] },
    nowMs: number,
    private readonly run: { workflowId: string; runId: string },
  ) {
    this.state = Train.createTrain(input.train, input.identifier, input.expect, nowMs);
  }

  get isStanding(): boolean {
    return Train.isStanding(this.state);
  }

  nextDeadline(): number | undefined {
    return Train.nextDeadline(this.state);
  }

  /**
   * The membership the message's pipeline already confirmed for this token, if it did: then no
   * need to ask it again. Undefined: ask ({@link receive} takes the answer).
   */
  knownMembership(message: TrainMessage): TrainMembership | undefined {
    const claim = claimOf(message);
    const known = this.confirmed.get(claim.pipelineId);
    return known !== undefined && known.token === claim.token ? known.membership : undefined;
  }

  /**
   * True when the message is for the next run and needs no answer now: an arrival at a train
   * that is final already, from a pipeline that did not take part in it ({@link lateArrivals}).
   * An abandon at a final train has no effect and is dropped.
   */
  takeIfLate(message: TrainMessage): boolean {
    if (this.isStanding) return false;
    const claim = claimOf(message);
    const member = Train.memberOf(this.state, claim.pipeline);
    if (
      message.kind === 'arrive' &&
      member?.pipelineId !== claim.pipelineId &&
      !this.left.has(claim.pipelineId)
    )
      this.late.push(message);
    return true;
  }

  /**
   * A message with the answer of the pipeline it names: `membership` null when the pipeline did
   * not confirm the token (or could not be asked): refused and counted.
   */
  receive(message: TrainMessage, membership: TrainMembership | null, nowMs: number): TrainDecision {
    const claim = claimOf(message);
    const signal = message.kind === 'arrive' ? 'convoy.trainArrive' : 'convoy.trainAbandon';
    if (membership === null)
      return this.refuse(signal, claim.pipeline, `pipeline ${claim.pipelineId} did not confirm the token`);
    if (membership.pipeline !== claim.pipeline) {
      return this.refuse(
        signal,
        claim.pipeline,
        `pipeline ${claim.pipelineId} is ${membership.pipeline}, not ${claim.pipeline}`,
      );
    }
    this.confirmed.set(claim.pipelineId, { token: claim.token, membership });
    if (message.kind === 'abandon') {
      this.left.add(claim.pipelineId);
      return this.apply(
        Train.abandon(this.state, { ...message.notice, pipeline: membership.pipeline }, nowMs),
      );
    }
    const { arrival } = message;
    const transition = Train.arrive(
      this.state,
      { ...arrival, pipeline: membership.pipeline, expect: membership.expect },
      nowMs,
    );
    if (transition.carry && !this.left.has(claim.pipelineId)) this.late.push(message);
    return this.apply(transition);
  }

  /** Arrivals for the next run, in the order they came. */
  lateArrivals(): TrainMessage[] {
    return [...this.late];
  }

  expire(nowMs: number): TrainDecision {
    return this.apply(Train.expire(this.state, nowMs));
  }

  /** Throws, with a reason for the operator, unless the train stands. */
  validateCommand(): void {
    Train.validateCommand(this.state);
  }

  release(command: TrainCommand, nowMs: number): TrainDecision {
    return this.apply(Train.operatorRelease(this.state, command.reason ?? TRAIN_RELEASE_REASON, nowMs));
  }

  breakTrain(command: TrainCommand, nowMs: number): TrainDecision {
    return this.apply(Train.operatorBreak(this.state, command.reason ?? TRAIN_BREAK_REASON, nowMs));
  }

  /** A signal whose payload does not parse: counted like any refused message. */
  refuseMalformed(signal: string, payload: unknown, reason: string): TrainDecision {
    const claimed = claimedPipeline(payload);
    return this.refuse(signal, claimed, `malformed: ${reason}`);
  }

  status(): TrainStatus {
    const rejectedMessages = this.rejectedMessages.summary();
    return { ...Train.toStatus(this.state, this.run), ...(rejectedMessages ? { rejectedMessages } : {}) };
  }

  /** The Web UI's "current details" of the train run. */
  details(): string {
    return renderTrainDetails(this.status());
  }

  /** The outcome fields every pipeline's message shares: the run, its status and arrivals. */
  outcomeContext(): {
    train: string;
    identifier: string;
    runId: string;
    status: TrainStatus['status'];
    reason?: string;
    missing?: string[];
    arrivals: Record<string, string>;
    resolvedAt?: string;
  } {
    const status = this.status();
    return {
      train: status.train,
      identifier: status.identifier,
      runId: status.runId,
      status: status.status,
      ...(status.reason !== undefined && { reason: status.reason }),
      ...(this.state.barrier.missing !== undefined && { missing: [...this.state.barrier.missing] }),
      arrivals: status.arrivals,
      ...(status.resolvedAt !== undefined && { resolvedAt: status.resolvedAt }),
    };
  }

  private refuse(message: string, sender: string, reason: string): TrainDecision {
    const log = this.rejectedMessages.record(sender);
    return { changed: false, outcomes: [], refused: { message, sender, reason, log } };
  }

  private apply(transition: Train.TrainTransition): TrainDecision {
    const changed = transition.state !== this.state;
    this.state = transition.state;
    if (!changed && transition.outcomes.length === 0)
      return transition.rejected === undefined ? NOTHING : { ...NOTHING, rejected: transition.rejected };
    return {
      changed,
      outcomes: transition.outcomes,
      ...(transition.rejected !== undefined && { rejected: transition.rejected }),
    };
  }
}

/** The pipeline a malformed message claims to come from: its `pipeline` field when it has one. */
function claimedPipeline(payload: unknown): string {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    const pipeline = (payload as { pipeline?: unknown }).pipeline;
    if (typeof pipeline === 'string' && pipeline.length > 0 && pipeline.length <= 300) return pipeline;
  }
  return claimedSender(payload, '(malformed)');
}
