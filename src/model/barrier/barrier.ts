/**
 * One barrier instance — (pipeline run, stage, identifier) — as a pure, deterministic state
 * machine implementing SPEC section 3.
 *
 * The pipeline workflow is the coordinator: children signal arrive / withdraw / abandon, the
 * parent applies each signal here and sends every returned {@link Outcome} to the named child.
 * This module therefore obeys workflow rules: no Temporal or Node imports, no clock (time is
 * always passed in as epoch milliseconds), no randomness.
 *
 * State is immutable plain data (it survives a JSON round trip): operations never mutate their
 * input and return a new state; an operation that changes nothing returns the very same state
 * object. Each participant has a slot in a persistent vector (`./slots`), so an arrival copies
 * a few dozen entries whatever the barrier's size: the coordinator of a barrier of 2,000 took
 * seconds of CPU when every arrival copied the record of all arrivals so far. Read the
 * arrivals with {@link hasArrived}, {@link arrivalTimes} and {@link waitingParticipants}.
 *
 * Rules a newcomer should know before reading the code:
 * - Every operation first catches up with the clock ({@link expire} at `nowMs`), even one whose
 *   input is then rejected. Inside a Temporal activation a signal may be handled before the timer
 *   callback that was due first; catching up makes the answer depend only on the times involved,
 *   not on that order. So an arrival at or after another participant's deadline finds the barrier
 *   timed out, and after any operation at `nowMs` a standing barrier has no deadline `<= nowMs`.
 * - Inputs that cannot apply (unknown participant, duplicate arrival or withdrawal, an operator
 *   command on a final barrier, ...) are answered with `rejected` and change nothing themselves.
 *   A rejected transition still carries the outcomes of a timeout the catch-up found: deliver them.
 * - Every real arrival gets exactly one outcome, immediately or later: nobody is left blocked.
 *
 * Decisions where SPEC section 3 is silent:
 * - A withdrawn participant that arrives anyway is treated like any arrival that was already
 *   counted: it waits while the barrier stands and gets the barrier's outcome once it is final
 *   (at a crossed barrier: released at once).
 * - A participant that abandons while waiting (e.g. its workflow was cancelled at the barrier)
 *   breaks the barrier: fail closed rather than let peers cross a sync point one of them did not
 *   survive. It gets its own `barrier-broken` outcome too, so `waiting` always drains; the
 *   coordinator may skip delivering it to a child that has already closed.
 * - Abandoning a barrier one has withdrawn from, or one that is already final, has no effect
 *   ("failing after crossing affects only that participant's later barriers").
 * - Withdrawing after arriving, or from a final barrier, has no effect.
 */
import { ErrorTypes } from '../plan';
import { BarrierStatuses, type BarrierStatus } from '../result';
import { forEachSlot, getSlot, setSlot, slotDepth, type SlotTrie } from './slots';

/** Identifies a barrier instance within one pipeline run. */
export type BarrierKey = { readonly stage: string; readonly identifier: string };

/** Book-keeping of one barrier instance. Immutable plain data (JSON round-trips unchanged). */
export interface BarrierState extends BarrierKey {
  /** Workflow names (after `forEach` expansion) in plan order, without duplicates. */
  readonly participants: readonly string[];
  /** Participant -> its index in `participants`. Built once; every later state shares it. */
  readonly slotOf: Readonly<Record<string, number>>;
  readonly status: BarrierStatus;
  /**
   * Each participant's arrival by its index, when it arrived: epoch ms and its place in the
   * arrival order. Only real arrivals, including late ones at a final barrier.
   */
  readonly arrivals: SlotTrie;
  /** How many participants have arrived: the next arrival's place in the order. */
  readonly arrived: number;
  /** Participants that withdrew (step skipped, or finished without reaching it); they count as arrived. */
  readonly withdrawn: readonly string[];
  /**
   * The earliest deadline of a waiting participant (its arrival + its own timeoutMs): the barrier
   * times out when it passes. Absent while nobody waits and once final. Deadlines are only ever
   * added while the barrier stands, so the earliest is all the barrier needs to keep.
   */
  readonly deadline?: number;
  /** How many participants have neither arrived nor withdrawn; the barrier crosses at 0. */
  readonly pending: number;
  /** When the barrier left `standing` (epoch ms). */
  readonly resolvedAt?: number;
  /**
   * Why it resolved: the abandoning participant's or the operator's reason as given, the abort
   * reason (`pipeline aborted`), or for a timeout a generated sentence. Absent when crossed.
   */
  readonly reason?: string;
  /** Who broke it: the abandoning participant, or {@link OPERATOR}; absent for a pipeline abort. */
  readonly brokenBy?: string;
  /** Timed out only: participants that had neither arrived nor withdrawn at that moment. */
  readonly missing?: readonly string[];
}

/** What a waiting or arriving participant is told. */
export const OutcomeKinds = {
  released: 'released',
  broken: 'broken',
  timedOut: 'timed-out',
} as const;
export type OutcomeKind = (typeof OutcomeKinds)[keyof typeof OutcomeKinds];

/** The failure-strategy error types a barrier step can fail with (SPEC section 4). */
export const BarrierErrorTypes = {
  broken: ErrorTypes.barrierBroken,
  timedOut: ErrorTypes.barrierTimeout,
} as const;
export type BarrierErrorType = (typeof BarrierErrorTypes)[keyof typeof BarrierErrorTypes];

/** One message for one participant's barrier step; the coordinator sends it to that child. */
export interface Outcome extends BarrierKey {
  readonly participant: string;
  readonly kind: OutcomeKind;
  /** Set for `broken` and `timed-out`: the error type the barrier step fails with. */
  readonly errorType?: BarrierErrorType;
  /** Human-readable; names who broke the barrier and why, or the missing participants. */
  readonly message: string;
}

/** Result of applying one input: the new state, the outcomes to deliver, and why the input was ignored. */
export interface Transition<S> {
  readonly state: S;
  /** Outcomes to deliver, in the order participants arrived. */
  readonly outcomes: readonly Outcome[];
  /** Set when the input was not applied (unknown participant, duplicate, final barrier, ...). */
  readonly rejected?: string;
}

/** The value of {@link BarrierState.brokenBy} when an operator broke the barrier. */
export const OPERATOR = 'operator';

/**
 * A new standing barrier. A single-participant barrier stands until its participant arrives and
 * then crosses at once.
 * @throws RangeError when `participants` is empty: nobody could ever cross it (the plan forbids it).
 */
export function createBarrier(
  stage: string,
  identifier: string,
  participants: readonly string[],
): BarrierState {
  const unique = [...new Set(participants)];
  if (unique.length === 0) {
    throw new RangeError(`${label({ stage, identifier })} has no participants`);
  }
  return {
    stage,
    identifier,
    participants: unique,
    slotOf: Object.fromEntries(unique.map((p, i) => [p, i])),
    status: BarrierStatuses.standing,
    arrivals: [],
    arrived: 0,
    withdrawn: [],
    pending: unique.length,
  };
}

/**
 * `participant` reached the barrier step at `nowMs`; it waits at most `timeoutMs` from now.
 * Crosses the barrier (releasing every waiting participant) when this was the last one missing.
 * At a final barrier the arrival is recorded and answered at once with the barrier's outcome.
 */
export function arrive(
  state: BarrierState,
  participant: string,
  nowMs: number,
  timeoutMs: number,
): Transition<BarrierState> {
  return afterCatchUp(state, nowMs, (current) => {
    if (!isParticipant(current, participant)) return reject(current, notAParticipant(current, participant));
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      return reject(current, `invalid timeout ${timeoutMs}: expected non-negative milliseconds`);
    }
    if (hasArrived(current, participant)) {
      return reject(current, `${participant} already arrived at ${label(current)}`);
    }

    const arrival: Arrival = [nowMs, current.arrived];
    const recorded: BarrierState = {
      ...current,
      arrivals: setSlot(current.arrivals, depthOf(current), current.slotOf[participant]!, arrival),
      arrived: current.arrived + 1,
      pending: hasWithdrawn(current, participant) ? current.pending : current.pending - 1,
    };
    if (current.status !== BarrierStatuses.standing) {
      // Late arrival at a final barrier: it gets the same outcome its peers got.
      return { state: recorded, outcomes: [outcomeFor(recorded, participant)] };
    }
    const waiting: BarrierState = {
      ...recorded,
      deadline: Math.min(current.deadline ?? Number.POSITIVE_INFINITY, nowMs + timeoutMs),
    };
    return crossIfComplete(waiting, nowMs);
  });
}

/**
 * `participant` will not reach the barrier (its step was skipped by `when`, or it finished
 * successfully without reaching it): it counts as arrived, which may cross the barrier.
 */
export function withdraw(state: BarrierState, participant: string, nowMs: number): Transition<BarrierState> {
  return afterCatchUp(state, nowMs, (current) => {
    if (!isParticipant(current, participant)) return reject(current, notAParticipant(current, participant));
    if (hasWithdrawn(current, participant)) {
      return reject(current, `${participant} already withdrew from ${label(current)}`);
    }
    if (hasArrived(current, participant)) {
      return reject(
        current,
        `${participant} already arrived at ${label(current)}; a withdrawal has no effect`,
      );
    }
    if (current.status !== BarrierStatuses.standing) {
      return reject(current, `${label(current)} is already ${current.status}; a withdrawal has no effect`);
    }
    return crossIfComplete(
      { ...current, withdrawn: [...current.withdrawn, participant], pending: current.pending - 1 },
      nowMs,
    );
  });
}

/**
 * `participant` failed, was aborted or cancelled (its failure handling resolved to a terminal
 * action) before crossing: the barrier breaks and every waiting participant gets `barrier-broken`
 * naming `participant` and `reason`. No effect when the barrier is already final or the
 * participant withdrew from it.
 */
export function abandon(
  state: BarrierState,
  participant: string,
  reason: string,
  nowMs: number,
): Transition<BarrierState> {
  return afterCatchUp(state, nowMs, (current) => {
    if (!isParticipant(current, participant)) return reject(current, notAParticipant(current, participant));
    if (hasWithdrawn(current, participant)) {
      return reject(
        current,
        `${participant} withdrew from ${label(current)} and counts as arrived; abandoning has no effect`,
      );
    }
    if (current.status !== BarrierStatuses.standing) {
      return reject(current, `${label(current)} is already ${current.status}; abandoning has no effect`);
    }
    return resolve(current, {
      status: BarrierStatuses.broken,
      resolvedAt: nowMs,
      reason,
      brokenBy: participant,
    });
  });
}

/** Operator override (`convoy barrier release`): `forced`; waiting and later arrivals pass. */
export function operatorRelease(
  state: BarrierState,
  reason: string,
  nowMs: number,
): Transition<BarrierState> {
  return resolveStanding(state, nowMs, 'release', { status: BarrierStatuses.forced, reason });
}

/** Operator override (`convoy barrier break`): `broken` with the operator's reason. */
export function operatorBreak(state: BarrierState, reason: string, nowMs: number): Transition<BarrierState> {
  return resolveStanding(state, nowMs, 'break', {
    status: BarrierStatuses.broken,
    reason,
    brokenBy: OPERATOR,
  });
}

/**
 * Someone outside the barrier settled it (a release train, issue 14): a standing barrier takes
 * `resolution` as it is (a train's `timed-out` names the train's missing pipelines in `missing`)
 * and every waiting participant gets the matching outcome.
 */
export function settle(
  state: BarrierState,
  resolution: Omit<Resolution, 'resolvedAt'>,
  nowMs: number,
): Transition<BarrierState> {
  return resolveStanding(state, nowMs, 'settle', resolution);
}

/**
 * The barrier's deadline handed over to someone else (a release train enforces it from now on):
 * the same barrier without a deadline, so that it no longer times out by itself.
 */
export function withoutDeadline(state: BarrierState): BarrierState {
  if (state.deadline === undefined) return state;
  const { deadline: _handedOver, ...rest } = state;
  return rest;
}

/**
 * The pipeline was aborted: a standing barrier breaks with `reason` (SPEC: `pipeline aborted`)
 * and no participant named as the breaker.
 */
export function abortBarrier(state: BarrierState, reason: string, nowMs: number): Transition<BarrierState> {
  return resolveStanding(state, nowMs, 'abort', { status: BarrierStatuses.broken, reason });
}

/**
 * Times the barrier out when some waiting participant's deadline is `<= nowMs` (so a timer firing
 * exactly at the deadline resolves it). Every waiting participant gets `barrier-timeout` naming the
 * participants that had neither arrived nor withdrawn. Otherwise returns the same state: a timer
 * firing for another barrier is normal, so nothing is `rejected`.
 */
export function expire(state: BarrierState, nowMs: number): Transition<BarrierState> {
  // A NaN or infinite time would poison every later comparison and the coordinator's durable timer.
  if (!Number.isFinite(nowMs)) return reject(state, `invalid time ${nowMs}: expected epoch milliseconds`);
  const deadline = nextDeadline(state);
  if (deadline === undefined || deadline > nowMs) return unchanged(state);

  const missing = missingParticipants(state);
  return resolve(state, {
    status: BarrierStatuses.timedOut,
    resolvedAt: nowMs,
    reason: `timed out waiting for ${missing.join(', ')}`,
    missing,
  });
}

/** Earliest deadline of a waiting participant while standing; `undefined` when none or final. */
export function nextDeadline(state: BarrierState): number | undefined {
  return state.status === BarrierStatuses.standing ? state.deadline : undefined;
}

/** True while the barrier is `standing`; every other status is final. */
export function isStanding(state: BarrierState): boolean {
  return state.status === BarrierStatuses.standing;
}

/** Participants that have neither arrived nor withdrawn, in plan order. */
export function missingParticipants(state: BarrierState): string[] {
  const withdrawn = new Set(state.withdrawn);
  return state.participants.filter((p) => !hasArrived(state, p) && !withdrawn.has(p));
}

/** True when `participant` has arrived (a real arrival, not a withdrawal). */
export function hasArrived(state: BarrierState, participant: string): boolean {
  const slot = slotIndex(state, participant);
  return slot !== undefined && getSlot<Arrival>(state.arrivals, depthOf(state), slot) !== null;
}

/** True when `participant` withdrew: it counts as arrived. */
export function hasWithdrawn(state: BarrierState, participant: string): boolean {
  return state.withdrawn.includes(participant);
}

/** True when `participant` takes part in the barrier. */
export function isParticipant(state: BarrierState, participant: string): boolean {
  return slotIndex(state, participant) !== undefined;
}

/** Participant -> arrival epoch ms, in arrival order: every real arrival, late ones included. */
export function arrivalTimes(state: BarrierState): Record<string, number> {
  return Object.fromEntries(arrivalsInOrder(state).map(({ participant, atMs }) => [participant, atMs]));
}

/** Arrived participants not yet given an outcome, in arrival order: all who arrived while it stands; none once final. */
export function waitingParticipants(state: BarrierState): string[] {
  return isStanding(state) ? arrivalsInOrder(state).map((a) => a.participant) : [];
}

/** True when `participant` waits at the standing barrier for its outcome. */
export function isWaiting(state: BarrierState, participant: string): boolean {
  return isStanding(state) && hasArrived(state, participant);
}

/**
 * The `reason` shown in the result document: who broke the barrier and why, the operator's
 * reason, `pipeline aborted`, or the missing participants. `undefined` while standing or crossed.
 */
export function describeResolution(state: BarrierState): string | undefined {
  // A participant's own reason ("step deploy failed") would not say who failed, so prefix its
  // name; an operator's or the pipeline's reason is shown as given.
  if (
    state.status === BarrierStatuses.broken &&
    state.brokenBy !== undefined &&
    state.brokenBy !== OPERATOR
  ) {
    return withReason(state.brokenBy, state.reason);
  }
  return state.reason;
}

// ---------------------------------------------------------------------------------------------
// Internals

export type Resolution = Pick<BarrierState, 'status' | 'resolvedAt' | 'reason' | 'brokenBy' | 'missing'>;

/** A participant's slot: when it arrived (epoch ms) and its place in the arrival order. */
type Arrival = readonly [atMs: number, order: number];

function depthOf(state: BarrierState): number {
  return slotDepth(state.participants.length);
}

function slotIndex(state: BarrierState, participant: string): number | undefined {
  // hasOwn, not `in`: a workflow could be named "constructor" or "toString".
  return Object.hasOwn(state.slotOf, participant) ? state.slotOf[participant] : undefined;
}

function arrivalsInOrder(state: BarrierState): { participant: string; atMs: number }[] {
  const found: { participant: string; atMs: number; order: number }[] = [];
  forEachSlot<Arrival>(state.arrivals, depthOf(state), ([atMs, order], index) =>
    found.push({ participant: state.participants[index]!, atMs, order }),
  );
  return found.sort((a, b) => a.order - b.order).map(({ participant, atMs }) => ({ participant, atMs }));
}

/** Operator commands and the pipeline abort: apply `resolution` to a standing barrier, else reject. */
function resolveStanding(
  state: BarrierState,
  nowMs: number,
  command: string,
  resolution: Omit<Resolution, 'resolvedAt'>,
): Transition<BarrierState> {
  return afterCatchUp(state, nowMs, (current) =>
    current.status === BarrierStatuses.standing
      ? resolve(current, { ...resolution, resolvedAt: nowMs })
      : reject(current, `cannot ${command} ${label(current)}: it is already ${current.status}`),
  );
}

/**
 * Catch up with the clock, then apply `step` to the result, delivering the outcomes of both.
 * An invalid `nowMs` rejects the whole operation (expire refuses it) before `step` runs.
 */
function afterCatchUp(
  state: BarrierState,
  nowMs: number,
  step: (current: BarrierState) => Transition<BarrierState>,
): Transition<BarrierState> {
  const caughtUp = expire(state, nowMs);
  if (caughtUp.rejected !== undefined) return caughtUp;
  const next = step(caughtUp.state);
  const outcomes = [...caughtUp.outcomes, ...next.outcomes];
  return next.rejected === undefined
    ? { state: next.state, outcomes }
    : { state: next.state, outcomes, rejected: next.rejected };
}

/** Crosses the barrier once every participant has arrived or withdrawn. */
function crossIfComplete(state: BarrierState, nowMs: number): Transition<BarrierState> {
  if (state.pending > 0) return unchanged(state);
  return resolve(state, { status: BarrierStatuses.crossed, resolvedAt: nowMs });
}

/** Makes the barrier final and gives every waiting participant its outcome in the same transition. */
function resolve(state: BarrierState, resolution: Resolution): Transition<BarrierState> {
  // Only defined fields are copied so that the state round-trips through JSON unchanged.
  const defined = Object.fromEntries(Object.entries(resolution).filter(([, v]) => v !== undefined));
  const { deadline, ...rest } = state; // a final barrier has no deadline
  const final: BarrierState = { ...rest, ...defined };
  return { state: final, outcomes: waitingParticipants(state).map((p) => outcomeFor(final, p)) };
}

/**
 * The outcome a participant that already arrived at a final barrier got, to give it again (a
 * child pipeline run again by a retried step arrives again); undefined while the barrier stands
 * or before the participant arrived.
 */
export function repeatedOutcome(state: BarrierState, participant: string): Outcome | undefined {
  if (state.status === BarrierStatuses.standing || !hasArrived(state, participant)) return undefined;
  return outcomeFor(state, participant);
}

/** The outcome any participant gets from a final barrier; late arrivals get the same message. */
function outcomeFor(state: BarrierState, participant: string): Outcome {
  const base = { stage: state.stage, identifier: state.identifier, participant };
  const subject = capitalise(label(state));
  switch (state.status) {
    case BarrierStatuses.crossed:
      return { ...base, kind: OutcomeKinds.released, message: `${subject} crossed` };
    case BarrierStatuses.forced:
      return {
        ...base,
        kind: OutcomeKinds.released,
        message: `${subject} ${withReason('released by operator', state.reason)}`,
      };
    case BarrierStatuses.broken: {
      const how = state.brokenBy === undefined ? 'broken' : `broken by ${state.brokenBy}`;
      return {
        ...base,
        kind: OutcomeKinds.broken,
        errorType: BarrierErrorTypes.broken,
        message: `${subject} ${withReason(how, state.reason)}`,
      };
    }
    case BarrierStatuses.timedOut:
      return {
        ...base,
        kind: OutcomeKinds.timedOut,
        errorType: BarrierErrorTypes.timedOut,
        message: `${subject} timed out waiting for ${(state.missing ?? []).join(', ')}`,
      };
    case BarrierStatuses.standing:
      // Callers only ask once the barrier is final; reaching this is a bug in this module.
      throw new Error(`${label(state)} is still standing; no outcome yet`);
  }
}

function notAParticipant(state: BarrierState, participant: string): string {
  return `${participant} is not a participant of ${label(state)}`;
}

function reject(state: BarrierState, rejected: string): Transition<BarrierState> {
  return { state, outcomes: [], rejected };
}

function unchanged(state: BarrierState): Transition<BarrierState> {
  return { state, outcomes: [] };
}

function label(key: BarrierKey): string {
  return `barrier "${key.identifier}" in stage "${key.stage}"`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `text: reason`, or just `text` when no reason was given. */
function withReason(text: string, reason: string | undefined): string {
  return reason === undefined || reason.trim() === '' ? text : `${text}: ${reason}`;
}
