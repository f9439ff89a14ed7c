/**
 * One run of a release train (issue 14) as a pure, deterministic state machine: the pipelines of
 * the train's `expect` are its participants, each arriving once its own participants of the
 * barrier have crossed it. It is the single-barrier machine of `../barrier` with pipelines for
 * workflows, so crossing, breaking, timing out and the operator's release and break follow SPEC
 * section 3 exactly; this module adds what a train needs on top:
 *
 * - who a participant is: a pipeline name and the pipeline ID (and token) that arrived under it,
 *   so each outcome goes to the pipeline that arrived and carries its token;
 * - arrivals the barrier cannot count: a pipeline the train does not expect, one whose `expect`
 *   disagrees with the run's (that breaks the train: the pipelines are not configured alike), a
 *   second pipeline under a name that already arrived: each gets its own `broken` outcome;
 * - the run's end: once the train is final, an arrival from a pipeline that did not take part is
 *   not answered with the old outcome but carried into the train's next run (`carry`).
 *
 * Like the barrier machine: no clock (times are passed in), immutable plain data, an operation
 * that changes nothing returns the same state, and every counted arrival gets exactly one outcome.
 * Messages reaching this module have been verified (`./train-run.ts` asks the pipelines).
 */
import * as Barrier from '../barrier/barrier';
import { BarrierStatuses, isoMs, type BarrierStatus, type TrainStatus } from '../result';

/** A pipeline that arrived: where its outcome goes. */
export interface Member {
  readonly pipelineId: string;
  readonly token: string;
}

export interface TrainState {
  readonly train: string;
  readonly identifier: string;
  readonly startedAt: number;
  /** The barrier of pipelines; its participants are the run's `expect`. */
  readonly barrier: Barrier.BarrierState;
  /** Pipeline name → the pipeline that arrived under it. */
  readonly members: Readonly<Record<string, Member>>;
}

/** A verified pipeline's arrival: its name and `expect` as the pipeline itself confirmed them. */
export interface VerifiedArrival extends Member {
  readonly pipeline: string;
  readonly expect: readonly string[];
  readonly arrivedAt: number;
  readonly timeoutMs: number;
}

/** A verified pipeline's notice that it will not arrive (or no longer waits). */
export interface VerifiedAbandon extends Member {
  readonly pipeline: string;
  readonly reason: string;
}

/** What one pipeline is told. */
export interface TrainOutcome extends Member {
  readonly pipeline: string;
  readonly kind: Barrier.OutcomeKind;
  readonly errorType?: Barrier.BarrierErrorType;
  readonly message: string;
}

export interface TrainTransition {
  readonly state: TrainState;
  readonly outcomes: readonly TrainOutcome[];
  /** Why the input changed nothing, for the log. */
  readonly rejected?: string;
  /** The input is an arrival for the train's next run: this one is over. */
  readonly carry?: boolean;
}

/** The barrier's "stage" in a train: the train's own label, never a pipeline's stage name. */
function scope(train: string): string {
  return `train ${train}`;
}

/**
 * A new standing train run.
 * @throws RangeError when `expect` is empty (validation forbids it).
 */
export function createTrain(
  train: string,
  identifier: string,
  expect: readonly string[],
  nowMs: number,
): TrainState {
  return {
    train,
    identifier,
    startedAt: nowMs,
    barrier: Barrier.createBarrier(scope(train), identifier, expect),
    members: {},
  };
}

/** The pipelines the run expects, in order. */
export function expectOf(state: TrainState): readonly string[] {
  return state.barrier.participants;
}

export function isStanding(state: TrainState): boolean {
  return Barrier.isStanding(state.barrier);
}

export function nextDeadline(state: TrainState): number | undefined {
  return Barrier.nextDeadline(state.barrier);
}

/** Expected pipelines that have not arrived (nor withdrawn), in `expect` order. */
export function missingPipelines(state: TrainState): string[] {
  return Barrier.missingParticipants(state.barrier);
}

/** The pipeline that arrived under `pipeline`, if one did. */
export function memberOf(state: TrainState, pipeline: string): Member | undefined {
  return Object.hasOwn(state.members, pipeline) ? state.members[pipeline] : undefined;
}

/**
 * A pipeline arrived. Counted when the train is standing, expects it under a name no other
 * pipeline took, and its `expect` is the run's; otherwise it gets its own `broken` outcome (and a
 * disagreeing `expect` from an expected pipeline breaks the train for everyone). At a final
 * train, a newcomer is carried into the next run and a repeat is ignored.
 */
export function arrive(state: TrainState, arrival: VerifiedArrival, nowMs: number): TrainTransition {
  const caughtUp = expire(state, nowMs);
  const current = caughtUp.state;
  const member = memberOf(current, arrival.pipeline);
  const repeat = member !== undefined && member.pipelineId === arrival.pipelineId;
  if (!isStanding(current)) {
    return repeat
      ? { ...caughtUp, rejected: `${arrival.pipeline} already arrived at ${label(current)}` }
      : { ...caughtUp, carry: true };
  }
  if (repeat) return { ...caughtUp, rejected: `${arrival.pipeline} already arrived at ${label(current)}` };
  const refuse = (message: string): TrainTransition => ({
    state: current,
    outcomes: [...caughtUp.outcomes, brokenOutcome(arrival, `${capitalise(label(current))}: ${message}`)],
    rejected: message,
  });
  if (!Barrier.isParticipant(current.barrier, arrival.pipeline)) {
    return refuse(
      `pipeline ${arrival.pipeline} is not expected (the train expects ${expectOf(current).join(', ')})`,
    );
  }
  if (member !== undefined) {
    return refuse(`${arrival.pipeline} already arrived as pipeline ${member.pipelineId}`);
  }
  if (!sameNames(arrival.expect, expectOf(current))) {
    const reason = `${arrival.pipeline} expects ${arrival.expect.join(', ')} but the train run expects ${expectOf(current).join(', ')}`;
    const broken = abandon(current, { ...arrival, reason }, nowMs);
    return {
      state: broken.state,
      outcomes: [
        ...caughtUp.outcomes,
        ...broken.outcomes,
        brokenOutcome(arrival, `${capitalise(label(current))} broken: ${reason}`),
      ],
    };
  }
  const joined: TrainState = {
    ...current,
    members: {
      ...current.members,
      [arrival.pipeline]: { pipelineId: arrival.pipelineId, token: arrival.token },
    },
  };
  const at = Math.max(0, Math.min(arrival.arrivedAt, nowMs));
  const arrived = merge(
    caughtUp,
    apply(joined, Barrier.arrive(joined.barrier, arrival.pipeline, at, arrival.timeoutMs)),
  );
  // A deadline already past (the pipeline's participants waited long for their peers) settles at once.
  return merge(arrived, expire(arrived.state, nowMs));
}

/**
 * A pipeline broke its barrier or ended without reaching it: the standing train breaks for every
 * pipeline, naming it. The pipeline itself is not answered (it is failing or gone). A pipeline
 * that arrived under its name from another ID cannot break it for that one.
 */
export function abandon(state: TrainState, notice: VerifiedAbandon, nowMs: number): TrainTransition {
  const member = memberOf(state, notice.pipeline);
  if (member !== undefined && member.pipelineId !== notice.pipelineId) {
    const caughtUp = expire(state, nowMs);
    return {
      ...caughtUp,
      rejected: `${notice.pipeline} arrived as pipeline ${member.pipelineId}, not ${notice.pipelineId}`,
    };
  }
  const transition = apply(state, Barrier.abandon(state.barrier, notice.pipeline, notice.reason, nowMs));
  return { ...transition, outcomes: transition.outcomes.filter((o) => o.pipeline !== notice.pipeline) };
}

/** `convoy train release`: the train is forced open; every waiting pipeline is released. */
export function operatorRelease(state: TrainState, reason: string, nowMs: number): TrainTransition {
  return apply(state, Barrier.operatorRelease(state.barrier, reason, nowMs));
}

/** `convoy train break`: the train breaks for every waiting pipeline. */
export function operatorBreak(state: TrainState, reason: string, nowMs: number): TrainTransition {
  return apply(state, Barrier.operatorBreak(state.barrier, reason, nowMs));
}

/** Times the train out when a waiting pipeline's deadline is `<= nowMs`, naming the missing pipelines. */
export function expire(state: TrainState, nowMs: number): TrainTransition {
  return apply(state, Barrier.expire(state.barrier, nowMs));
}

/** Throws, with a reason for the operator, unless an operator command may change the train now. */
export function validateCommand(state: TrainState): void {
  if (!isStanding(state)) {
    throw new Error(`${label(state)} is already ${state.barrier.status}; a later pipeline starts a new run`);
  }
}

/** The run's document (`convoy train status`). */
export function toStatus(
  state: TrainState,
  run: { workflowId: string; runId: string },
): Omit<TrainStatus, 'rejectedMessages'> {
  const deadline = nextDeadline(state);
  const reason = Barrier.describeResolution(state.barrier);
  return {
    train: state.train,
    identifier: state.identifier,
    workflowId: run.workflowId,
    runId: run.runId,
    startedAt: isoMs(state.startedAt),
    status: state.barrier.status,
    expect: [...expectOf(state)],
    arrivals: arrivalsIso(state),
    pipelines: Object.fromEntries(Object.entries(state.members).map(([p, m]) => [p, m.pipelineId])),
    missing: missingPipelines(state),
    ...(deadline !== undefined && { deadline: isoMs(deadline) }),
    ...(state.barrier.resolvedAt !== undefined && { resolvedAt: isoMs(state.barrier.resolvedAt) }),
    ...(reason !== undefined && { reason }),
  };
}

/** Pipeline name → ISO arrival time, in arrival order. */
export function arrivalsIso(state: TrainState): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Barrier.arrivalTimes(state.barrier)).map(([p, ms]) => [p, isoMs(ms)]),
  );
}

/** The resolution a pipeline's own barrier takes from the train's final status. */
export function finalStatus(state: TrainState): BarrierStatus {
  return state.barrier.status;
}

// ---------------------------------------------------------------------------------------------
// Internals

function label(state: TrainState): string {
  return `train ${state.train} (barrier ${state.identifier})`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((name) => right.has(name));
}

function brokenOutcome(to: Member & { pipeline: string }, message: string): TrainOutcome {
  return {
    pipeline: to.pipeline,
    pipelineId: to.pipelineId,
    token: to.token,
    kind: Barrier.OutcomeKinds.broken,
    errorType: Barrier.BarrierErrorTypes.broken,
    message,
  };
}

/** Wraps a barrier transition: the barrier's outcomes become the members' outcomes, in train words. */
function apply(state: TrainState, transition: Barrier.Transition<Barrier.BarrierState>): TrainTransition {
  const next: TrainState =
    transition.state === state.barrier ? state : { ...state, barrier: transition.state };
  const outcomes = transition.outcomes.map((outcome) => {
    const member = memberOf(next, outcome.participant)!;
    return {
      pipeline: outcome.participant,
      pipelineId: member.pipelineId,
      token: member.token,
      kind: outcome.kind,
      ...(outcome.errorType !== undefined && { errorType: outcome.errorType }),
      message: describeOutcome(next),
    };
  });
  return transition.rejected === undefined
    ? { state: next, outcomes }
    : { state: next, outcomes, rejected: transition.rejected };
}

/** The message every pipeline gets from a final train. */
function describeOutcome(state: TrainState): string {
  const subject = capitalise(label(state));
  const reason = Barrier.describeResolution(state.barrier);
  switch (state.barrier.status) {
    case BarrierStatuses.crossed:
      return `${subject} crossed`;
    case BarrierStatuses.forced:
      return `${subject} released by operator${reason ? `: ${reason}` : ''}`;
    case BarrierStatuses.broken:
      return `${subject} broken${reason ? `: ${reason}` : ''}`;
    case BarrierStatuses.timedOut:
      return `${subject} timed out waiting for ${(state.barrier.missing ?? []).join(', ')}`;
    default:
      return `${subject} is ${state.barrier.status}`;
  }
}

/** Outcomes of a catch-up first, then of the operation. */
function merge(first: TrainTransition, second: TrainTransition): TrainTransition {
  const outcomes = [...first.outcomes, ...second.outcomes];
  return second.rejected === undefined
    ? { state: second.state, outcomes }
    : { state: second.state, outcomes, rejected: second.rejected };
}
