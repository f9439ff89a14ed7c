/**
 * A pipeline's side of its release trains (issue 14): the pure rules the pipeline workflow follows
 * for each barrier of its plan that names a train.
 *
 * The pipeline's own barrier gets one more participant, the train ({@link trainParticipant}), so
 * that it stands while the pipeline waits for the train and resolves only by the train's word:
 * - once every other participant has arrived or withdrawn, the pipeline arrives at the train
 *   (a {@link TrainJoin}); the barrier's deadline is handed to the train (the earliest waiting
 *   participant's arrival plus its timeout, as SPEC section 3 counts it), so that both cannot
 *   race;
 * - the train's outcome settles the barrier: released (crossed, or forced by an operator),
 *   broken (naming who broke the train), timed out (naming the missing pipelines);
 * - a barrier that breaks or times out before the pipeline arrived (a participant failed, the
 *   pipeline was aborted), or a pipeline that ends without reaching it, is reported to the train
 *   (a {@link TrainLeave}), which breaks for every pipeline waiting there.
 *
 * Pure module (workflow code uses it).
 */
import * as Barrier from '../barrier/barrier';
import * as Book from '../barrier/book';
import type { BarrierBook, BarrierKey } from '../barrier';
import type { PipelinePlan, StageBarrierPlan, TrainPlan } from '../plan';
import {
  trainWorkflowId,
  type TrainAbandon,
  type TrainArrival,
  type TrainMembership,
  type TrainMembershipRequest,
  type TrainOutcomeMessage,
} from '../protocol';
import { BarrierStatuses, type BarrierResult, type BarrierTrain } from '../result';

/** The train's place among a barrier's participants; `:` never occurs in a workflow name. */
export function trainParticipant(train: string): string {
  return `train:${train}`;
}

/** What the pipeline's `joinTrain` activity sends: signal-with-start of the train workflow. */
export interface TrainJoin {
  readonly workflowId: string;
  readonly train: string;
  readonly identifier: string;
  readonly expect: readonly string[];
  readonly arrival: TrainArrival;
}

/** What the pipeline signals to the train when it will not arrive (or no longer waits). */
export interface TrainLeave {
  readonly workflowId: string;
  readonly notice: TrainAbandon;
}

/** The activities of release trains: the worker implements them (src/activities/train.ts). */
export interface TrainActivities {
  /** Signal-with-start of the train workflow with the pipeline's arrival. */
  joinTrain(join: TrainJoin): Promise<void>;
  /**
   * Asks the pipeline `pipelineId` whether `token` is its token for the train barrier; its answer
   * (null: no, or no such pipeline).
   */
  verifyTrainMember(
    request: { pipelineId: string } & TrainMembershipRequest,
  ): Promise<TrainMembership | null>;
}

/** A train barrier of the plan. */
interface TrainBarrier extends BarrierKey {
  readonly train: TrainPlan;
  /** The smallest barrier timeout of its steps: how long the train may wait when nobody waits here. */
  readonly timeoutMs: number;
}

type Phase = 'gathering' | 'arrived' | 'answered' | 'left';

/** The result of an outcome from a train: a book transition, or why the message is not taken. */
export type TrainAnswer =
  | { readonly transition: Barrier.Transition<BarrierBook> }
  | { readonly refused: string }
  | { readonly rejected: string };

/** The plan's train barriers. */
function trainBarriers(plan: PipelinePlan): TrainBarrier[] {
  return plan.stages.flatMap((stage) =>
    stage.barriers.flatMap((barrier) => {
      if (barrier.train === undefined) return [];
      const timeouts = stage.workflows.flatMap((wf) =>
        wf.steps.flatMap((step) =>
          step.type === 'barrier' && step.identifier === barrier.identifier ? [step.timeoutMs] : [],
        ),
      );
      return [
        {
          stage: stage.name,
          identifier: barrier.identifier,
          train: barrier.train,
          timeoutMs: Math.min(...timeouts),
        },
      ];
    }),
  );
}

/** True when the plan has a barrier that joins a release train. */
export function hasTrains(plan: PipelinePlan): boolean {
  return plan.stages.some((stage) => stage.barriers.some((barrier) => barrier.train !== undefined));
}

/** The plan's stages with each train barrier's participants plus the train: what the book is made of. */
export function withTrainParticipants(plan: PipelinePlan): {
  stages: { name: string; barriers: StageBarrierPlan[] }[];
} {
  return {
    stages: plan.stages.map((stage) => ({
      name: stage.name,
      barriers: stage.barriers.map((barrier) =>
        barrier.train === undefined
          ? barrier
          : { ...barrier, participants: [...barrier.participants, trainParticipant(barrier.train.name)] },
      ),
    })),
  };
}

/** The pipeline's train barriers and where each stands; one per pipeline run. */
export class TrainLinks {
  private readonly barriers: TrainBarrier[];
  private readonly phases = new Map<string, Phase>();
  private readonly answers = new Map<string, TrainOutcomeMessage>();

  /**
   * @param token the pipeline's train token; undefined when the plan has no train (or the
   *   pipeline predates trains): then no train message is believed.
   */
  constructor(
    private readonly plan: PipelinePlan,
    private readonly pipelineId: string,
    private readonly token: string | undefined,
  ) {
    this.barriers = token === undefined ? [] : trainBarriers(plan);
    for (const barrier of this.barriers) this.phases.set(Book.keyOf(barrier), 'gathering');
  }

  /** True when (stage, identifier) is a train barrier. */
  isTrainBarrier(key: BarrierKey): boolean {
    return this.phases.has(Book.keyOf(key));
  }

  /**
   * What the pipeline now tells its trains, given its book at `nowMs` and whether it has ended:
   * arrivals (with the book, whose barriers that arrived no longer keep their deadline) and leaves.
   */
  messages(
    book: BarrierBook,
    nowMs: number,
    ended: string | undefined,
  ): { book: BarrierBook; joins: TrainJoin[]; leaves: TrainLeave[] } {
    const joins: TrainJoin[] = [];
    const leaves: TrainLeave[] = [];
    let current = book;
    for (const barrier of this.barriers) {
      const key = Book.keyOf(barrier);
      const phase = this.phases.get(key);
      const state = Book.getBarrier(current, barrier);
      if (state === undefined || phase === 'answered' || phase === 'left') continue;
      const leave = (reason: string): void => {
        this.phases.set(key, 'left');
        leaves.push({ workflowId: this.workflowIdOf(barrier), notice: { ...this.claim(), reason } });
      };
      if (!Barrier.isStanding(state)) {
        leave(Barrier.describeResolution(state) ?? `barrier ${barrier.identifier} ${state.status}`);
        continue;
      }
      if (phase === 'arrived') continue;
      const missing = Barrier.missingParticipants(state);
      if (missing.length === 1 && missing[0] === trainParticipant(barrier.train.name)) {
        const deadline = Barrier.nextDeadline(state);
        const timeoutMs = deadline === undefined ? barrier.timeoutMs : Math.max(0, deadline - nowMs);
        current = Book.update(current, barrier, (s) => ({
          state: Barrier.withoutDeadline(s),
          outcomes: [],
        })).state;
        this.phases.set(key, 'arrived');
        joins.push({
          workflowId: this.workflowIdOf(barrier),
          train: barrier.train.name,
          identifier: barrier.identifier,
          expect: barrier.train.expect,
          arrival: { ...this.claim(), expect: [...barrier.train.expect], arrivedAt: nowMs, timeoutMs },
        });
      } else if (ended !== undefined) {
        leave(`pipeline ${this.pipelineId} ended ${ended} before reaching barrier ${barrier.identifier}`);
      }
    }
    return { book: current, joins, leaves };
  }

  /**
   * The train's outcome: settles the pipeline's barrier, when it carries the pipeline's token,
   * names one of its train barriers and the pipeline waits for that train.
   */
  answer(book: BarrierBook, message: TrainOutcomeMessage, nowMs: number): TrainAnswer {
    if (this.token === undefined || message.token !== this.token)
      return { refused: "its token is not the pipeline's" };
    const barrier = this.barriers.find(
      (b) => b.train.name === message.train && b.identifier === message.identifier,
    );
    if (barrier === undefined)
      return { refused: `no barrier ${message.identifier} joins train ${message.train}` };
    const key = Book.keyOf(barrier);
    if (this.phases.get(key) !== 'arrived') {
      return {
        rejected: `train ${message.train} answered for barrier ${message.identifier}, where the pipeline does not wait for it`,
      };
    }
    this.phases.set(key, 'answered');
    this.answers.set(key, message);
    const participant = trainParticipant(barrier.train.name);
    const transition = Book.update(book, barrier, (state) => {
      if (message.kind === Barrier.OutcomeKinds.released) {
        return message.status === BarrierStatuses.forced
          ? Barrier.settle(
              state,
              {
                status: BarrierStatuses.forced,
                reason: `train ${message.train}: ${message.reason ?? 'released'}`,
              },
              nowMs,
            )
          : Barrier.arrive(state, participant, nowMs, 0);
      }
      if (message.kind === Barrier.OutcomeKinds.timedOut) {
        const missing = message.missing ?? [];
        return Barrier.settle(
          state,
          {
            status: BarrierStatuses.timedOut,
            reason: `train ${message.train} timed out waiting for ${missing.join(', ')}`,
            missing,
          },
          nowMs,
        );
      }
      const reason =
        message.status === BarrierStatuses.broken && message.reason !== undefined
          ? message.reason
          : message.message;
      return Barrier.settle(state, { status: BarrierStatuses.broken, reason, brokenBy: participant }, nowMs);
    });
    // The train takes part only to hold the barrier: it has no workflow to tell.
    return {
      transition: {
        ...transition,
        outcomes: transition.outcomes.filter((o) => o.participant !== participant),
      },
    };
  }

  /**
   * The pipeline could not deliver its arrival to the train (the join activity failed for good):
   * its barrier breaks, so that its participants do not wait for an answer that cannot come.
   */
  unreachable(
    book: BarrierBook,
    join: TrainJoin,
    reason: string,
    nowMs: number,
  ): Barrier.Transition<BarrierBook> {
    const barrier = this.barriers.find(
      (b) => b.train.name === join.train && b.identifier === join.identifier,
    );
    if (barrier === undefined || this.phases.get(Book.keyOf(barrier)) !== 'arrived')
      return { state: book, outcomes: [] };
    this.phases.set(Book.keyOf(barrier), 'left');
    return Book.update(book, barrier, (state) =>
      Barrier.settle(
        state,
        {
          status: BarrierStatuses.broken,
          reason: `could not reach train ${join.train}: ${reason}`,
          brokenBy: trainParticipant(join.train),
        },
        nowMs,
      ),
    );
  }

  /** The pipeline's answer to a train asking whether `request.token` is its own. */
  membership(request: TrainMembershipRequest): TrainMembership | null {
    if (this.token === undefined || request.token !== this.token) return null;
    const barrier = this.barriers.find(
      (b) => b.train.name === request.train && b.identifier === request.identifier,
    );
    return barrier === undefined ? null : { pipeline: this.plan.name, expect: [...barrier.train.expect] };
  }

  /** A barrier of the document with its train, as far as the pipeline knows it. */
  decorate(result: BarrierResult): BarrierResult {
    const barrier = this.barriers.find((b) => b.stage === result.stage && b.identifier === result.identifier);
    if (barrier === undefined) return result;
    const answer = this.answers.get(Book.keyOf(barrier));
    const train: BarrierTrain = {
      name: barrier.train.name,
      workflowId: this.workflowIdOf(barrier),
      expect: [...barrier.train.expect],
      status: answer?.status ?? BarrierStatuses.standing,
      arrivals: answer?.arrivals ?? {},
      ...(answer !== undefined && { runId: answer.runId }),
      ...(answer?.missing !== undefined && { missing: answer.missing }),
      ...(answer?.resolvedAt !== undefined && { resolvedAt: answer.resolvedAt }),
      ...(answer?.reason !== undefined && { reason: answer.reason }),
    };
    return { ...result, train };
  }

  private workflowIdOf(barrier: TrainBarrier): string {
    return trainWorkflowId(barrier.train.name, barrier.identifier);
  }

  private claim(): { pipeline: string; pipelineId: string; token: string } {
    return { pipeline: this.plan.name, pipelineId: this.pipelineId, token: this.token! };
  }
}
