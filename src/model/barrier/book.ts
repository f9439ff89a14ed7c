/**
 * All barrier instances of one pipeline run, as immutable plain data: the pipeline workflow keeps
 * one book, applies its children's signals to it, keeps ONE durable timer for
 * {@link nextDeadline}, and renders it with {@link toBarrierResults} for the status query.
 *
 * Every single-barrier operation of `./barrier` exists here addressed by {@link BarrierKey}; an
 * unknown key is `rejected` and changes nothing. The bulk operations (`...All`) touch only the
 * barriers they apply to and never report `rejected`: skipping a final barrier is expected there.
 * Like the single-barrier operations, nothing is mutated and an operation that changes nothing
 * returns the very same book object.
 */
import type { StageBarrierPlan } from '../plan';
import type { BarrierResult } from '../result';
import { isoMs } from '../result';
import * as Barrier from './barrier';
import type { BarrierKey, BarrierState, Outcome, Transition } from './barrier';

/** The barriers of one pipeline run, keyed by {@link keyOf}, in creation (plan) order. */
export interface BarrierBook {
  readonly barriers: Readonly<Record<string, BarrierState>>;
}

/** What {@link createBook} needs to know about each barrier. */
export interface BarrierDefinition extends BarrierKey {
  readonly participants: readonly string[];
}

/**
 * The map key of a barrier. JSON of the pair, so that no stage or identifier spelling can make two
 * barriers collide (a separator character could appear in a stage name).
 */
export function keyOf(key: BarrierKey): string {
  return JSON.stringify([key.stage, key.identifier]);
}

/**
 * A book of standing barriers, in the given order.
 * @throws RangeError on a duplicate (stage, identifier) or a barrier without participants.
 */
export function createBook(definitions: readonly BarrierDefinition[]): BarrierBook {
  const barriers: Record<string, BarrierState> = {};
  for (const { stage, identifier, participants } of definitions) {
    const id = keyOf({ stage, identifier });
    if (Object.hasOwn(barriers, id)) {
      throw new RangeError(`barrier "${identifier}" is defined twice in stage "${stage}"`);
    }
    barriers[id] = Barrier.createBarrier(stage, identifier, participants);
  }
  return { barriers };
}

/** A book with every barrier of the plan's stages (`PipelinePlan` fits). */
export function createBookFromPlan(plan: {
  readonly stages: readonly { readonly name: string; readonly barriers: readonly StageBarrierPlan[] }[];
}): BarrierBook {
  return createBook(plan.stages.flatMap((stage) => stage.barriers.map((b) => ({ ...b, stage: stage.name }))));
}

/** The barrier at `key`, if the book has one. */
export function getBarrier(book: BarrierBook, key: BarrierKey): BarrierState | undefined {
  const id = keyOf(key);
  return Object.hasOwn(book.barriers, id) ? book.barriers[id] : undefined;
}

/** Every barrier, in creation order. */
export function listBarriers(book: BarrierBook): BarrierState[] {
  return Object.values(book.barriers);
}

/**
 * {@link Barrier.arrive} on the barrier at `key`. An arrival at a barrier the book does not have
 * is rejected and still answered, with a `barrier-broken` outcome: every arrival gets exactly one
 * outcome, so no participant is left waiting for a barrier that does not exist.
 */
export function arrive(
  book: BarrierBook,
  key: BarrierKey,
  participant: string,
  nowMs: number,
  timeoutMs: number,
): Transition<BarrierBook> {
  const transition = applyAt(book, key, (s) => Barrier.arrive(s, participant, nowMs, timeoutMs));
  if (getBarrier(book, key) !== undefined) return transition;
  const outcome: Outcome = {
    ...key,
    participant,
    kind: Barrier.OutcomeKinds.broken,
    errorType: Barrier.BarrierErrorTypes.broken,
    message: `barrier ${key.identifier} is not a barrier of stage ${key.stage}`,
  };
  return { ...transition, outcomes: [outcome] };
}

/** {@link Barrier.withdraw} on the barrier at `key`. */
export function withdraw(
  book: BarrierBook,
  key: BarrierKey,
  participant: string,
  nowMs: number,
): Transition<BarrierBook> {
  return applyAt(book, key, (s) => Barrier.withdraw(s, participant, nowMs));
}

/** {@link Barrier.abandon} on the barrier at `key`. */
export function abandon(
  book: BarrierBook,
  key: BarrierKey,
  participant: string,
  reason: string,
  nowMs: number,
): Transition<BarrierBook> {
  return applyAt(book, key, (s) => Barrier.abandon(s, participant, reason, nowMs));
}

/** {@link Barrier.operatorRelease} on the barrier at `key` (`convoy barrier release`). */
export function operatorRelease(
  book: BarrierBook,
  key: BarrierKey,
  reason: string,
  nowMs: number,
): Transition<BarrierBook> {
  return applyAt(book, key, (s) => Barrier.operatorRelease(s, reason, nowMs));
}

/** {@link Barrier.operatorBreak} on the barrier at `key` (`convoy barrier break`). */
export function operatorBreak(
  book: BarrierBook,
  key: BarrierKey,
  reason: string,
  nowMs: number,
): Transition<BarrierBook> {
  return applyAt(book, key, (s) => Barrier.operatorBreak(s, reason, nowMs));
}

/** Applies any single-barrier operation to the barrier at `key` (a release train settling it, say). */
export function update(
  book: BarrierBook,
  key: BarrierKey,
  operation: (state: BarrierState) => Transition<BarrierState>,
): Transition<BarrierBook> {
  return applyAt(book, key, operation);
}

/**
 * `participant` of `stage` reached a terminal failure: break every standing barrier of that stage
 * it takes part in and has not withdrawn from — including one it is waiting at. Barriers it has
 * already crossed are final and stay as they are ("failing after crossing affects only that
 * participant's later barriers").
 */
export function abandonAll(
  book: BarrierBook,
  stage: string,
  participant: string,
  reason: string,
  nowMs: number,
): Transition<BarrierBook> {
  return applyToEach(book, standingFor(stage, participant), (s) =>
    Barrier.abandon(s, participant, reason, nowMs),
  );
}

/**
 * `participant` of `stage` finished successfully: it counts as arrived at every standing barrier of
 * that stage it has neither arrived at nor withdrawn from, which may cross them.
 */
export function withdrawAll(
  book: BarrierBook,
  stage: string,
  participant: string,
  nowMs: number,
): Transition<BarrierBook> {
  const open = standingFor(stage, participant);
  return applyToEach(
    book,
    (s) => open(s) && !Barrier.hasArrived(s, participant),
    (s) => Barrier.withdraw(s, participant, nowMs),
  );
}

/** {@link Barrier.expire} on every standing barrier: call it when the coordinator's timer fires. */
export function expireAll(book: BarrierBook, nowMs: number): Transition<BarrierBook> {
  return applyToEach(book, Barrier.isStanding, (s) => Barrier.expire(s, nowMs));
}

/** The pipeline was aborted: break every standing barrier with `reason` (SPEC: `pipeline aborted`). */
export function breakAllStanding(book: BarrierBook, reason: string, nowMs: number): Transition<BarrierBook> {
  return applyToEach(book, Barrier.isStanding, (s) => Barrier.abortBarrier(s, reason, nowMs));
}

/** Earliest pending deadline across all standing barriers: when the coordinator's one timer should fire. */
export function nextDeadline(book: BarrierBook): number | undefined {
  let earliest: number | undefined;
  for (const state of listBarriers(book)) {
    const deadline = Barrier.nextDeadline(state);
    if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
  }
  return earliest;
}

/** The `barriers` section of the result document (SPEC section 5), in creation order. */
export function toBarrierResults(book: BarrierBook): BarrierResult[] {
  return listBarriers(book).map(toBarrierResult);
}

/** One barrier as it appears in the result document; optional fields are omitted, not undefined. */
export function toBarrierResult(state: BarrierState): BarrierResult {
  const reason = Barrier.describeResolution(state);
  const deadline = Barrier.nextDeadline(state);
  return {
    stage: state.stage,
    identifier: state.identifier,
    participants: [...state.participants],
    status: state.status,
    arrivals: Object.fromEntries(
      Object.entries(Barrier.arrivalTimes(state)).map(([p, ms]) => [p, isoMs(ms)]),
    ),
    ...(deadline !== undefined && { deadline: isoMs(deadline) }),
    ...(state.resolvedAt !== undefined && { resolvedAt: isoMs(state.resolvedAt) }),
    ...(reason !== undefined && { reason }),
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

function applyAt(
  book: BarrierBook,
  key: BarrierKey,
  operation: (state: BarrierState) => Transition<BarrierState>,
): Transition<BarrierBook> {
  const state = getBarrier(book, key);
  if (state === undefined) {
    return { state: book, outcomes: [], rejected: `no barrier "${key.identifier}" in stage "${key.stage}"` };
  }
  const next = operation(state);
  const updated = next.state === state ? book : { barriers: { ...book.barriers, [keyOf(key)]: next.state } };
  return next.rejected === undefined
    ? { state: updated, outcomes: next.outcomes }
    : { state: updated, outcomes: next.outcomes, rejected: next.rejected };
}

/** Selects the standing barriers of `stage` that `participant` takes part in and has not withdrawn from. */
function standingFor(stage: string, participant: string): (state: BarrierState) => boolean {
  return (s) =>
    s.stage === stage &&
    Barrier.isStanding(s) &&
    Barrier.isParticipant(s, participant) &&
    !Barrier.hasWithdrawn(s, participant);
}

/** Applies `operation` to every selected barrier, in book order, collecting all outcomes. */
function applyToEach(
  book: BarrierBook,
  selected: (state: BarrierState) => boolean,
  operation: (state: BarrierState) => Transition<BarrierState>,
): Transition<BarrierBook> {
  const outcomes: Outcome[] = [];
  let barriers: Record<string, BarrierState> | undefined; // copied on the first change only
  for (const [id, state] of Object.entries(book.barriers)) {
    if (!selected(state)) continue;
    const next = operation(state);
    outcomes.push(...next.outcomes);
    if (next.state !== state) {
      barriers ??= { ...book.barriers };
      barriers[id] = next.state;
    }
  }
  return { state: barriers === undefined ? book : { barriers }, outcomes };
}
