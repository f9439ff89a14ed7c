/**
 * Turns fetched histories into latency samples, one function per benchmark. Pure: the runner
 * fetches, these functions only read events, so unit tests cover them with hand-made histories.
 */
import {
  EventType,
  asRecord,
  firstOfType,
  forBarrier,
  signalsReceived,
  signalsSent,
  type BenchEvent,
} from './history';
import { percentile, round, summarize, type Summary } from './stats';
import { rawAbandonSignal, rawArriveSignal, rawOutcomeSignal } from './floor-workflows';
import { barrierArriveSignal, barrierOutcomeSignal, workflowAbandonSignal } from '../src/model/protocol';

/**
 * The signal names of one barrier implementation: a participant's arrival, the coordinator's
 * outcome, and a failing participant's notice. Convoy's come from its protocol, the raw floor's
 * from bench/floor-workflows.ts; their payloads share the fields the analyses read.
 */
export interface Protocol {
  arrive: string;
  outcome: string;
  abandon: string;
}
export const CONVOY: Protocol = {
  arrive: barrierArriveSignal.name,
  outcome: barrierOutcomeSignal.name,
  abandon: workflowAbandonSignal.name,
};
export const RAW: Protocol = {
  arrive: rawArriveSignal.name,
  outcome: rawOutcomeSignal.name,
  abandon: rawAbandonSignal.name,
};

/** Histories of a pipeline's children, keyed by workflow (participant) name. */
export type ChildHistories = ReadonlyMap<string, readonly BenchEvent[]>;

// ---------------------------------------------------------------------------------------------
// Timers and workflow tasks

/** One durable timer: what the workflow asked for and how long the server took to fire it. */
export interface TimerObservation {
  requestedMs: number;
  firedAfterMs: number;
}

/** Every timer that fired, from TimerStarted to TimerFired (both server times). */
export function timerObservations(events: readonly BenchEvent[]): TimerObservation[] {
  const started = new Map<string, BenchEvent>();
  const observations: TimerObservation[] = [];
  for (const e of events) {
    if (e.timerId === undefined) continue;
    if (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED) started.set(e.timerId, e);
    else if (e.eventType === EventType.EVENT_TYPE_TIMER_FIRED) {
      const start = started.get(e.timerId);
      if (start?.timerRequestedMs !== undefined) {
        observations.push({ requestedMs: start.timerRequestedMs, firedAfterMs: e.timeMs - start.timeMs });
      }
    }
  }
  return observations;
}

/** How a workflow's tasks went: how long each took on the worker and which the server failed. */
export interface WorkflowTaskStats {
  /** WorkflowTaskStarted → Completed or Failed, per task. */
  durationsMs: number[];
  /** Failed tasks by cause (e.g. FORCE_CLOSE_COMMAND: too many events buffered while it ran). */
  failed: Record<string, number>;
}

export function workflowTaskStats(events: readonly BenchEvent[]): WorkflowTaskStats {
  const durationsMs: number[] = [];
  const failed: Record<string, number> = {};
  let started: BenchEvent | undefined;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) started = e;
    const done =
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED ||
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED;
    if (done && started) {
      durationsMs.push(e.timeMs - started.timeMs);
      started = undefined;
    }
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
      const cause = e.failureCause ?? 'UNKNOWN';
      failed[cause] = (failed[cause] ?? 0) + 1;
    }
  }
  return { durationsMs, failed };
}

// ---------------------------------------------------------------------------------------------
// Release

/** One barrier crossing seen from the histories. */
export interface ReleaseRound {
  identifier: string;
  /** The participant whose arrival was sent last, and when (server time). */
  lastArriver: string;
  lastArrivalMs: number;
  /** Last arrival minus the one before it: how quiet the coordinator was when the last one came. */
  quietGapMs: number;
  /** Per participant: outcome received − last arrival sent. */
  latencies: number[];
  /** Outcome kinds received (all should be `released`). */
  kinds: Record<string, number>;
  /** Participants lacking an arrival or an outcome for this barrier. */
  missing: string[];
  /** Where the time goes, when the parent's history is given. */
  legs?: {
    /** Last arrival sent (child) → received (parent). */
    deliverMs: number;
    /** Per participant: parent received the last arrival → parent's outcome signal initiated. */
    decideMs: number[];
    /** Per participant: parent's outcome signal initiated → child received it. */
    transitMs: number[];
  };
}

/**
 * Release latency of one barrier: the last arrival (the latest arrival signal a participant
 * sent) → each participant's outcome signal received. The same for Convoy and the raw floor:
 * `protocol` names their signals.
 */
export function analyzeRelease(
  children: ChildHistories,
  identifier: string,
  parent?: { events: readonly BenchEvent[]; childId: (name: string) => string },
  protocol: Protocol = CONVOY,
): ReleaseRound {
  const match = forBarrier(identifier);
  const arrivals: { name: string; timeMs: number }[] = [];
  const missing: string[] = [];
  for (const [name, events] of children) {
    const sent = signalsSent(events, protocol.arrive, match)[0];
    if (sent) arrivals.push({ name, timeMs: sent.timeMs });
    else missing.push(name);
  }
  arrivals.sort((a, b) => a.timeMs - b.timeMs);
  const last = arrivals[arrivals.length - 1];
  const secondLast = arrivals[arrivals.length - 2];
  const lastArrivalMs = last?.timeMs ?? Number.NaN;
  const latencies: number[] = [];
  const kinds: Record<string, number> = {};
  const received = new Map<string, number>();
  for (const [name, events] of children) {
    const outcome = signalsReceived(events, protocol.outcome, match)[0];
    if (!outcome) {
      if (!missing.includes(name)) missing.push(name);
      continue;
    }
    const kind = String(asRecord(outcome.payload).kind);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    received.set(name, outcome.timeMs);
    latencies.push(outcome.timeMs - lastArrivalMs);
  }
  const round: ReleaseRound = {
    identifier,
    lastArriver: last?.name ?? '',
    lastArrivalMs,
    quietGapMs: last && secondLast ? last.timeMs - secondLast.timeMs : Number.NaN,
    latencies,
    kinds,
    missing,
  };
  if (parent && last) {
    const heard = signalsReceived(
      parent.events,
      protocol.arrive,
      (p) => p.identifier === identifier && p.workflow === last.name,
    )[0];
    if (heard) {
      const decideMs: number[] = [];
      const transitMs: number[] = [];
      const sentTo = new Map<string, number>();
      for (const e of signalsSent(parent.events, protocol.outcome, match)) {
        if (e.target && !sentTo.has(e.target)) sentTo.set(e.target, e.timeMs);
      }
      for (const [name, at] of received) {
        const sent = sentTo.get(parent.childId(name));
        if (sent === undefined) continue;
        decideMs.push(sent - heard.timeMs);
        transitMs.push(at - sent);
      }
      round.legs = { deliverMs: heard.timeMs - last.timeMs, decideMs, transitMs };
    }
  }
  return round;
}

/** Where a release's time went, as p50s (and the decision's p99) over its samples. */
export interface ReleaseLegs {
  deliverP50Ms: number;
  decideP50Ms: number;
  decideP99Ms: number;
  transitP50Ms: number;
}

/** What the reports say about a run of barriers: latency over all of them, legs, outcomes. */
export interface ReleaseFigures {
  summary: Summary;
  legs: ReleaseLegs;
  kinds: Record<string, number>;
  missing: number;
  /** Smallest gap between a barrier's last two arrivals. */
  minQuietGapMs: number;
}

export function releaseFigures(rounds: readonly ReleaseRound[]): ReleaseFigures {
  const legs = rounds.flatMap((r) => (r.legs ? [r.legs] : []));
  const decideMs = legs.flatMap((l) => l.decideMs);
  const p50 = (values: readonly number[]): number => round(percentile(values, 50));
  const kinds: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
  return {
    summary: summarize(rounds.flatMap((r) => r.latencies).filter(Number.isFinite)),
    legs: {
      deliverP50Ms: p50(legs.map((l) => l.deliverMs)),
      decideP50Ms: p50(decideMs),
      decideP99Ms: round(percentile(decideMs, 99)),
      transitP50Ms: p50(legs.flatMap((l) => l.transitMs)),
    },
    kinds,
    missing: rounds.reduce((n, r) => n + r.missing.length, 0),
    minQuietGapMs: round(Math.min(...rounds.map((r) => r.quietGapMs))),
  };
}

// ---------------------------------------------------------------------------------------------
// Failure propagation

export interface FailurePropagation {
  /** The failing step's ActivityTaskFailed (server time). */
  failedAtMs: number;
  /** The failer's abandon signal sent. */
  abandonSentMs: number;
  /** Per waiting peer: outcome received − failedAtMs. */
  latencies: number[];
  /** Per waiting peer: outcome received − abandonSentMs. */
  fromAbandon: number[];
  kinds: Record<string, number>;
  /** Peers without an outcome for the barrier. */
  missing: string[];
}

/** Failure → every waiting peer's outcome for `identifier` received (Convoy's or, by `protocol`, the floor's). */
export function analyzeFailure(
  failer: readonly BenchEvent[],
  peers: ChildHistories,
  identifier: string,
  protocol: Protocol = CONVOY,
): FailurePropagation {
  const failedAtMs = firstOfType(failer, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)?.timeMs ?? Number.NaN;
  const abandonSentMs = signalsSent(failer, protocol.abandon)[0]?.timeMs ?? Number.NaN;
  const latencies: number[] = [];
  const fromAbandon: number[] = [];
  const kinds: Record<string, number> = {};
  const missing: string[] = [];
  for (const [name, events] of peers) {
    const outcome = signalsReceived(events, protocol.outcome, forBarrier(identifier))[0];
    if (!outcome) {
      missing.push(name);
      continue;
    }
    const kind = String(asRecord(outcome.payload).kind);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    latencies.push(outcome.timeMs - failedAtMs);
    fromAbandon.push(outcome.timeMs - abandonSentMs);
  }
  return { failedAtMs, abandonSentMs, latencies, fromAbandon, kinds, missing };
}

// ---------------------------------------------------------------------------------------------
// Timeout precision

export interface TimeoutObservation {
  /** The waiter's `convoy.barrierArrive` sent (server time). */
  arrivalSentMs: number;
  /** The `arrivedAt` the waiter put in that signal (its workflow clock): the engine's deadline base. */
  arrivedAtPayloadMs: number;
  /** The waiter's `convoy.barrierOutcome` received, if any. */
  outcomeMs: number;
  kind: string;
  /** outcome received − (arrival sent + timeoutMs). */
  latenessMs: number;
  /** outcome received − (arrivedAt payload + timeoutMs): the lateness against the engine's own deadline. */
  latenessFromPayloadMs: number;
  /** Where the time goes, when the parent's history is given. */
  legs?: {
    /** The parent's last TimerFired before it sent the outcome − (arrival sent + timeoutMs): the server timer. */
    timerMs: number;
    /** That TimerFired → the parent initiated the outcome signal: its workflow task. */
    decideMs: number;
    /** Outcome initiated (parent) → received (waiter). */
    transitMs: number;
    /**
     * How long the parent's workflow task that armed the timer ran (WorkflowTaskStarted →
     * TimerStarted): the workflow computes the timer's duration from its task's start, the server
     * starts the timer when the task completes, so the timer fires this much after the deadline.
     */
    armMs: number;
    /** The server's own lateness on that timer: TimerFired − TimerStarted − the duration asked for (as the raw timer's). */
    serverTimerMs: number;
  };
}

/** How late a barrier timed out for the participant waiting at it. */
export function analyzeTimeout(
  waiter: readonly BenchEvent[],
  identifier: string,
  timeoutMs: number,
  parent?: { events: readonly BenchEvent[]; waiterId: string },
  protocol: Protocol = CONVOY,
): TimeoutObservation {
  const match = forBarrier(identifier);
  const arrival = signalsSent(waiter, protocol.arrive, match)[0];
  const outcome = signalsReceived(waiter, protocol.outcome, match)[0];
  const arrivalSentMs = arrival?.timeMs ?? Number.NaN;
  const payloadAt = asRecord(arrival?.payload).arrivedAt;
  const arrivedAtPayloadMs = typeof payloadAt === 'number' ? payloadAt : Number.NaN;
  const outcomeMs = outcome?.timeMs ?? Number.NaN;
  const observation: TimeoutObservation = {
    arrivalSentMs,
    arrivedAtPayloadMs,
    outcomeMs,
    kind: outcome ? String(asRecord(outcome.payload).kind) : 'none',
    latenessMs: outcomeMs - (arrivalSentMs + timeoutMs),
    latenessFromPayloadMs: outcomeMs - (arrivedAtPayloadMs + timeoutMs),
  };
  if (parent && outcome) {
    const sent = signalsSent(parent.events, protocol.outcome, match).find(
      (e) => e.target === parent.waiterId,
    );
    const fired = sent
      ? parent.events
          .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED && e.eventId < sent.eventId)
          .pop()
      : undefined;
    const started = fired
      ? parent.events.find(
          (e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED && e.timerId === fired.timerId,
        )
      : undefined;
    const armedBy = started
      ? parent.events
          .filter(
            (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED && e.eventId < started.eventId,
          )
          .pop()
      : undefined;
    if (sent && fired && started && armedBy) {
      observation.legs = {
        timerMs: fired.timeMs - (arrivalSentMs + timeoutMs),
        decideMs: sent.timeMs - fired.timeMs,
        transitMs: outcome.timeMs - sent.timeMs,
        armMs: started.timeMs - armedBy.timeMs,
        serverTimerMs: fired.timeMs - started.timeMs - (started.timerRequestedMs ?? Number.NaN),
      };
    }
  }
  return observation;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** Resident-set growth per unit (MiB, 3 decimals): (while − before) / units; null when unread. */
export function rssGrowthPerMb(
  beforeMb: number | undefined,
  whileMb: number | undefined,
  units: number,
): number | null {
  if (beforeMb === undefined || whileMb === undefined || units <= 0) return null;
  return round((whileMb - beforeMb) / units, 3);
}
