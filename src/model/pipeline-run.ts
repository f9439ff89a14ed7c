/**
 * What the pipeline workflow decides beyond the barrier book: which workflows' messages count,
 * when an arrival happened, what a child's end means for its barriers, how stages and the
 * pipeline end, which operator commands are allowed, and the result document. The pipeline
 * workflow keeps one instance and only moves signals, updates, timers and child results in and
 * out of it.
 *
 * Pure module (no clock: times are passed in as epoch milliseconds), so workflow code may use it.
 */
import {
  Book,
  nextDeadline as nextDeadlineOf,
  hasArrived,
  isStanding,
  isWaiting,
  type BarrierBook,
  type BarrierState,
  type Outcome,
  type Transition,
} from './barrier';
import {
  RejectedMessages,
  checkAbandon,
  checkArrival,
  checkInterventionState,
  checkWithdrawal,
  claimedSender,
  type Refusal,
} from './message-checks';
import { isPartOf, participantsOf, splitParticipant } from './participants';
import type { PipelinePlan, StagePlan, WorkflowPlan } from './plan';
import {
  barrierCommandSchema,
  childWorkflowId,
  interveneRequestSchema,
  parsePayload,
  type BarrierArrival,
  type BarrierCommand,
  type BarrierWithdrawal,
  type InterveneRequest,
  type InterventionState,
  type WorkflowAbandon,
} from './protocol';
import {
  isFinalWorkflowStatus,
  isLiveWorkflowStatus,
  isoMs,
  workflowResultSchema,
  type PipelineResult,
  type PipelineStatus,
  type StageStatus,
  type WorkflowResult,
} from './result';
import type { PipelineVisibility } from './visibility';
import { renderBarrierTrainDetails, renderPipelineDetails } from './web-ui-details';
import { TrainLinks, withTrainParticipants, type TrainJoin, type TrainLeave } from './train/link';
import type { TrainMembership, TrainMembershipRequest, TrainOutcomeMessage } from './protocol';

/** Reason recorded on every barrier still standing when an operator aborts the pipeline. */
export const PIPELINE_ABORTED_REASON = 'pipeline aborted';

/** Default reasons of the operator commands. */
export const OPERATOR_RELEASE_REASON = 'released by an operator';
export const OPERATOR_BREAK_REASON = 'broken by an operator';

/** What one input did, for the workflow to act on. */
export interface Decision {
  /** The document (and so the Web UI details) changed. */
  readonly changed: boolean;
  /** Barrier outcomes to signal, in order, each to its participant. */
  readonly outcomes: readonly Outcome[];
  /** Why the input was not applied, for the log. */
  readonly rejected?: string;
  /** The input was a message that failed the checks of `./message-checks`: counted, not applied. */
  readonly refused?: Refusal;
  /**
   * A participant that broke the barriers itself: it is failing or gone, so an outcome for it
   * would only cost history events.
   */
  readonly brokenBy?: string;
}

const NOTHING: Decision = { changed: false, outcomes: [] };

export class PipelineRun {
  private status: PipelineStatus = 'running';
  private endedAt: number | undefined;
  private aborted = false;
  // Every barrier of every stage exists from the start; the document shows those of started stages.
  private book: BarrierBook;
  private readonly stageStatus: Map<string, StageStatus>;
  private readonly stageStartedAt = new Map<string, number>();
  /** The parent's view of each child: not started, running, or the result it ended with. */
  private readonly workflows = new Map<string, WorkflowResult>();
  private readonly waitingForIntervention = new Set<string>();
  private readonly rejectedMessages = new RejectedMessages();
  /** The barriers that join release trains (issue 14). */
  private readonly trains: TrainLinks;

  /**
   * @param capability the pipeline's capability, which every child message must carry; undefined
   *   for a pipeline started before capabilities existed (its children send none).
   * @param trainToken the pipeline's token for its release trains; undefined when it has none.
   */
  constructor(
    readonly plan: PipelinePlan,
    readonly pipelineId: string,
    private readonly startedAt: number,
    readonly capability?: string,
    trainToken?: string,
  ) {
    this.trains = new TrainLinks(plan, pipelineId, trainToken);
    // A train barrier has the train as one more participant: it stands until the train answers.
    this.book = Book.createBookFromPlan(trainToken === undefined ? plan : withTrainParticipants(plan));
    this.stageStatus = new Map(plan.stages.map((s) => [s.name, 'not-started']));
    for (const stage of plan.stages) {
      for (const wf of stage.workflows)
        this.workflows.set(wf.name, { name: wf.name, stage: stage.name, status: 'not-started', steps: [] });
    }
  }

  /** True once an operator aborted the pipeline. */
  get isAborted(): boolean {
    return this.aborted;
  }

  // -------------------------------------------------------------------------------------------
  // Stages and children

  /** `stage` starts at `nowMs`: arrivals in it cannot be earlier. */
  startStage(stage: StagePlan, nowMs: number): void {
    this.stageStatus.set(stage.name, 'running');
    this.stageStartedAt.set(stage.name, nowMs);
  }

  /** The child for `wf` has been started. */
  startWorkflow(wf: WorkflowPlan): void {
    this.workflows.set(wf.name, { name: wf.name, stage: wf.stage, status: 'running', steps: [] });
  }

  /**
   * The child for `wf` ended: it returned `returned`, or failed, was cancelled or terminated
   * (`returned` undefined). Its result is the authoritative word: a child that died without
   * signalling still breaks its barriers, and one that finished without reaching a barrier
   * counts as arrived there.
   */
  endWorkflow(wf: WorkflowPlan, ended: { returned: unknown } | { threw: true }, nowMs: number): Decision {
    let result: WorkflowResult;
    if ('returned' in ended) {
      const parsed = workflowResultSchema.safeParse(ended.returned);
      result = parsed.success ? parsed.data : { name: wf.name, stage: wf.stage, status: 'failed', steps: [] };
    } else {
      result = { name: wf.name, stage: wf.stage, status: this.aborted ? 'aborted' : 'failed', steps: [] };
    }
    this.waitingForIntervention.delete(wf.name);
    this.workflows.set(wf.name, result);
    // The workflow speaks for its branches too: ended, none of them can arrive any more.
    const participants = participantsOf(wf);
    if (result.status === 'succeeded')
      return this.applyToEach(participants, (p) => Book.withdrawAll(this.book, wf.stage, p, nowMs));
    return this.applyToEach(
      participants,
      (p) => Book.abandonAll(this.book, wf.stage, p, `${wf.name} ended ${result.status}`, nowMs),
      wf.name,
    );
  }

  /** `stage`'s children have all ended: records its status; true when the pipeline goes on. */
  endStage(stage: StagePlan): boolean {
    const succeeded = stage.workflows.every((wf) => this.workflows.get(wf.name)?.status === 'succeeded');
    this.stageStatus.set(stage.name, this.aborted ? 'aborted' : succeeded ? 'succeeded' : 'failed');
    return succeeded;
  }

  /** The pipeline ended at `nowMs` (every stage ran, or one did not succeed, or it was aborted). */
  finish(nowMs: number): void {
    this.status = this.aborted
      ? 'aborted'
      : [...this.stageStatus.values()].every((s) => s === 'succeeded')
        ? 'succeeded'
        : 'failed';
    this.endedAt = nowMs;
  }

  /**
   * An operator aborted the pipeline: every standing barrier breaks with
   * {@link PIPELINE_ABORTED_REASON}, nobody is signalled (the children are cancelled instead).
   * Returns the children to cancel, in the order they started.
   */
  abort(nowMs: number): { decision: Decision; cancel: string[] } {
    this.aborted = true;
    const transition = Book.breakAllStanding(this.book, PIPELINE_ABORTED_REASON, nowMs);
    const decision = this.apply({ ...transition, outcomes: [] });
    const cancel = [...this.workflows.values()].filter((wf) => wf.status === 'running').map((wf) => wf.name);
    return { decision, cancel };
  }

  // -------------------------------------------------------------------------------------------
  // Children's messages

  /**
   * A child reached a barrier. Its own clock marks the arrival (a signal may wait in a backlog),
   * bounded by its stage's start and now: a bad clock can neither extend a deadline nor time a
   * barrier out at once. An arrival may carry a deadline already past (a slow signal): it is
   * settled at once.
   */
  arrive(arrival: BarrierArrival, nowMs: number): Decision {
    const checked = checkArrival(this.plan, this.capability, arrival);
    if (!checked.ok) return this.refuse('convoy.barrierArrive', arrival.workflow, checked.reason);
    const sender = this.runningSender(arrival.workflow);
    if (typeof sender === 'string') return { ...NOTHING, rejected: sender };
    const key = { stage: sender.stage, identifier: arrival.identifier };
    const arrivedAt = Math.max(
      this.stageStartedAt.get(sender.stage) ?? 0,
      Math.min(arrival.arrivedAt, nowMs),
    );
    const arrived = this.apply(
      Book.arrive(this.book, key, checked.value.participant, arrivedAt, checked.value.timeoutMs),
    );
    const settled = this.expire(nowMs);
    return {
      changed: arrived.changed || settled.changed,
      outcomes: [...arrived.outcomes, ...settled.outcomes],
      ...(arrived.rejected !== undefined ? { rejected: arrived.rejected } : {}),
    };
  }

  /** A child will not reach a barrier (its step is skipped): it counts as arrived. */
  withdraw(withdrawal: BarrierWithdrawal, nowMs: number): Decision {
    const checked = checkWithdrawal(this.plan, this.capability, withdrawal);
    if (!checked.ok) return this.refuse('convoy.barrierWithdraw', withdrawal.workflow, checked.reason);
    const sender = this.runningSender(withdrawal.workflow);
    if (typeof sender === 'string') return { ...NOTHING, rejected: sender };
    const key = { stage: sender.stage, identifier: withdrawal.identifier };
    return this.apply(Book.withdraw(this.book, key, checked.value.participant, nowMs));
  }

  /**
   * A child's failure handling ended it: it breaks every barrier it has not crossed, its branches'
   * included. From a branch (failed, or cancelled because a sibling failed): that branch's only.
   */
  abandon(notice: WorkflowAbandon, nowMs: number): Decision {
    const checked = checkAbandon(this.plan, this.capability, notice);
    if (!checked.ok) return this.refuse('convoy.workflowAbandon', notice.workflow, checked.reason);
    const sender = this.runningSender(notice.workflow);
    if (typeof sender === 'string') return { ...NOTHING, rejected: sender };
    const { participant, workflow } = checked.value;
    const participants = notice.branch === undefined ? participantsOf(workflow) : [participant];
    return this.applyToEach(
      participants,
      (p) => Book.abandonAll(this.book, sender.stage, p, notice.reason, nowMs),
      participant,
    );
  }

  /** A child started or stopped waiting for an operator. */
  interventionState(state: InterventionState): Decision {
    const checked = checkInterventionState(this.plan, this.capability, state);
    if (!checked.ok) return this.refuse('convoy.interventionState', state.workflow, checked.reason);
    const sender = this.runningSender(state.workflow);
    if (typeof sender === 'string') return { ...NOTHING, rejected: sender };
    if (state.waiting) this.waitingForIntervention.add(state.workflow);
    else this.waitingForIntervention.delete(state.workflow);
    return NOTHING;
  }

  /** A signal whose payload does not parse: counted like any refused message. */
  refuseMalformed(message: string, payload: unknown, reason: string): Decision {
    return this.refuse(message, claimedSender(payload, '(malformed)'), `malformed: ${reason}`);
  }

  // -------------------------------------------------------------------------------------------
  // Deadlines

  /** The earliest pending barrier deadline (epoch ms), if any: the one timer to keep. */
  nextDeadline(): number | undefined {
    return Book.nextDeadline(this.book);
  }

  /** The standing barriers whose deadline is `deadlineMs` (what the timer armed for it will time out). */
  barriersDueAt(deadlineMs: number): BarrierState[] {
    return this.barriers().filter((b) => nextDeadlineOf(b) === deadlineMs);
  }

  /** Times out every barrier whose deadline has passed at `nowMs`. */
  expire(nowMs: number): Decision {
    return this.apply(Book.expireAll(this.book, nowMs));
  }

  // -------------------------------------------------------------------------------------------
  // Operator commands (updates: each validated before it is accepted)

  /** Throws, with a reason for the operator, unless `request` may be given to its workflow now. */
  validateIntervene(request: unknown): void {
    const parsed = parsePayload(interveneRequestSchema, request);
    if (!parsed.ok) throw new Error(`invalid intervene request: ${parsed.reason}`);
    const wf = this.workflows.get(parsed.value.workflow);
    if (!wf) throw new Error(`no workflow named ${parsed.value.workflow} in pipeline ${this.pipelineId}`);
    // The child owns its wait: only its own validator can tell whether a decision would be taken.
    if (this.capability !== undefined) {
      throw new Error(
        `decisions go to the workflow itself: send the convoy.intervene update to ${childWorkflowId(this.pipelineId, wf.name)}`,
      );
    }
    if (!this.waitingForIntervention.has(wf.name)) {
      throw new Error(
        `workflow ${wf.name} is not waiting for manual intervention (it is ${this.statusOf(wf.name)})`,
      );
    }
  }

  /** The decision goes to the workflow: it no longer waits. */
  intervene(request: InterveneRequest): void {
    this.waitingForIntervention.delete(request.workflow);
  }

  /** Throws, with a reason for the operator, unless `command` names a standing barrier of a started stage. */
  validateBarrierCommand(command: unknown): void {
    const parsed = parsePayload(barrierCommandSchema, command);
    if (!parsed.ok) throw new Error(`invalid barrier command: ${parsed.reason}`);
    const { stage, identifier } = parsed.value;
    if (!this.stageStatus.has(stage))
      throw new Error(`no stage named ${stage} in pipeline ${this.pipelineId}`);
    const barrier = Book.getBarrier(this.book, { stage, identifier });
    if (!barrier) throw new Error(`no barrier ${identifier} in stage ${stage}`);
    const train = this.plan.stages
      .find((s) => s.name === stage)
      ?.barriers.find((b) => b.identifier === identifier)?.train;
    if (train !== undefined && this.trains.isTrainBarrier({ stage, identifier })) {
      throw new Error(
        `barrier ${identifier} in stage ${stage} joins release train ${train.name}: use convoy train release|break ${train.name} ${identifier}`,
      );
    }
    if (this.stageStatus.get(stage) === 'not-started') throw new Error(`stage ${stage} has not started yet`);
    if (barrier.status !== 'standing')
      throw new Error(`barrier ${identifier} in stage ${stage} is already ${barrier.status}`);
  }

  /** `convoy barrier release`: the barrier is forced open. */
  releaseBarrier(command: BarrierCommand, nowMs: number): Decision {
    return this.apply(
      Book.operatorRelease(this.book, command, command.reason ?? OPERATOR_RELEASE_REASON, nowMs),
    );
  }

  /** `convoy barrier break`: the barrier breaks. */
  breakBarrier(command: BarrierCommand, nowMs: number): Decision {
    return this.apply(Book.operatorBreak(this.book, command, command.reason ?? OPERATOR_BREAK_REASON, nowMs));
  }

  // -------------------------------------------------------------------------------------------
  // Release trains (issue 14; the rules are in ./train/link.ts)

  /**
   * What the pipeline now tells its trains: an arrival for each train barrier whose own
   * participants have all arrived (or withdrawn), a leave for each one it broke or will not
   * reach. Call after every change, and once more when the pipeline has finished.
   */
  trainMessages(nowMs: number): { joins: TrainJoin[]; leaves: TrainLeave[] } {
    const ended = this.endedAt === undefined ? undefined : this.status;
    const { book, joins, leaves } = this.trains.messages(this.book, nowMs, ended);
    this.book = book;
    return { joins, leaves };
  }

  /** A train's outcome for one of the pipeline's train barriers. */
  trainOutcome(message: TrainOutcomeMessage, nowMs: number): Decision {
    const answer = this.trains.answer(this.book, message, nowMs);
    if ('refused' in answer)
      return this.refuse('convoy.trainOutcome', `train ${message.train}`, answer.refused);
    if ('rejected' in answer) return { ...NOTHING, rejected: answer.rejected };
    return this.apply(answer.transition);
  }

  /** The join activity could not reach the train: the barrier breaks. */
  trainUnreachable(join: TrainJoin, reason: string, nowMs: number): Decision {
    return this.apply(this.trains.unreachable(this.book, join, reason, nowMs));
  }

  /** The answer to a train asking whether a token is this pipeline's (`trainMembershipQuery`). */
  trainMembership(request: TrainMembershipRequest): TrainMembership | null {
    return this.trains.membership(request);
  }

  // -------------------------------------------------------------------------------------------
  // What is shown

  /** The SPEC section 5 document, as it stands. */
  document(): PipelineResult {
    const rejectedMessages = this.rejectedMessages.summary();
    return {
      pipelineId: this.pipelineId,
      name: this.plan.name,
      status: this.status,
      startedAt: isoMs(this.startedAt),
      ...(this.endedAt !== undefined ? { endedAt: isoMs(this.endedAt) } : {}),
      stages: this.plan.stages.map((s) => ({
        name: s.name,
        status: this.stageStatus.get(s.name)!,
        workflows: s.workflows.map((w) => w.name),
      })),
      workflows: [...this.workflows.values()].map((wf) => ({ ...wf, status: this.statusOf(wf.name) })),
      barriers: this.barriers()
        .filter((b) => this.stageStatus.get(b.stage) !== 'not-started')
        .map((b) => this.trains.decorate(Book.toBarrierResult(b))),
      ...(rejectedMessages ? { rejectedMessages } : {}),
    };
  }

  /**
   * The pipeline's search attributes: what {@link pipelineVisibility} says of
   * {@link PipelineRun.document}, computed from the state itself. The workflow asks after every
   * burst of changes, and building the document (every workflow's steps, every arrival's time)
   * cost the coordinator time in proportion to the participants in the very tasks that release them.
   */
  visibility(): PipelineVisibility {
    if (this.status !== 'running') return { status: this.status, waitingBarriers: [] };
    // A participant that arrived at a standing barrier waits there while it is live and not
    // waiting for an operator (which the document shows instead).
    // A branch's participant (`<workflow>/<branch>`) waits as its workflow does.
    const waitsHere = (b: BarrierState, name: string): boolean => {
      const { workflow } = splitParticipant(name);
      return (
        hasArrived(b, name) &&
        !this.waitingForIntervention.has(workflow) &&
        isLiveWorkflowStatus(this.workflows.get(workflow)?.status ?? 'not-started')
      );
    };
    const waitingBarriers = [
      ...new Set(
        this.barriers()
          .filter((b) => isStanding(b) && b.participants.some((name) => waitsHere(b, name)))
          .map((b) => b.identifier),
      ),
    ].sort();
    const waitingForIntervention = [...this.waitingForIntervention].some((name) =>
      isLiveWorkflowStatus(this.workflows.get(name)?.status ?? 'not-started'),
    );
    const status = waitingForIntervention
      ? 'waiting-for-intervention'
      : waitingBarriers.length > 0
        ? 'waiting-at-barrier'
        : 'running';
    return { status, waitingBarriers };
  }

  /** The Web UI's "current details" of the pipeline. */
  details(): string {
    const trains = this.barriers()
      .filter((b) => this.trains.isTrainBarrier(b) && this.stageStatus.get(b.stage) !== 'not-started')
      .map((b) => this.trains.decorate(Book.toBarrierResult(b)));
    return (
      renderPipelineDetails(
        this.status,
        this.plan.stages.map((s) => ({ name: s.name, status: this.stageStatus.get(s.name)! })),
        this.barriers(),
      ) + renderBarrierTrainDetails(trains)
    );
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private barriers(): BarrierState[] {
    return Book.listBarriers(this.book);
  }

  /** A workflow's live status: the parent's view refined by barriers and operator waits. */
  private statusOf(name: string): WorkflowResult['status'] {
    const wf = this.workflows.get(name)!;
    if (!isLiveWorkflowStatus(wf.status)) return wf.status;
    if (this.waitingForIntervention.has(name)) return 'waiting-for-intervention';
    // A workflow waits at a barrier when it, or one of its branches, does.
    const isOrHasPart = (participant: string): boolean => isPartOf(participant, name);
    if (
      this.barriers().some(
        (b) => b.stage === wf.stage && b.participants.some((p) => isOrHasPart(p) && isWaiting(b, p)),
      )
    ) {
      return 'waiting-at-barrier';
    }
    return 'running';
  }

  /**
   * A message counts only from a workflow of this pipeline that is running now; otherwise the
   * reason it does not.
   */
  private runningSender(name: string): WorkflowResult | string {
    const wf = this.workflows.get(name);
    if (!wf || wf.status === 'not-started' || isFinalWorkflowStatus(wf.status)) {
      return `ignored a signal from an unknown or finished workflow: ${name}`;
    }
    return wf;
  }

  private refuse(message: string, sender: string, reason: string): Decision {
    const log = this.rejectedMessages.record(sender);
    return { changed: false, outcomes: [], refused: { message, sender, reason, log } };
  }

  /**
   * Applies one book operation per participant, in order, as one decision: each sees the book the
   * previous one left.
   */
  private applyToEach(
    participants: readonly string[],
    operation: (participant: string) => Transition<BarrierBook>,
    brokenBy?: string,
  ): Decision {
    const decisions = participants.map((participant) => this.apply(operation(participant), brokenBy));
    if (decisions.length === 1) return decisions[0]!;
    return {
      changed: decisions.some((d) => d.changed),
      outcomes: decisions.flatMap((d) => d.outcomes),
      ...(brokenBy !== undefined ? { brokenBy } : {}),
    };
  }

  private apply(transition: Transition<BarrierBook>, brokenBy?: string): Decision {
    const changed = transition.state !== this.book;
    this.book = transition.state;
    return {
      changed,
      outcomes: transition.outcomes,
      ...(transition.rejected !== undefined ? { rejected: transition.rejected } : {}),
      ...(brokenBy !== undefined ? { brokenBy } : {}),
    };
  }
}
