/**
 * The pipelines the benchmarks run, built directly as execution plans (what `convoy run` hands
 * the pipeline workflow after compiling a file). Pure, so unit tests check them against the
 * plan schema.
 */
import type { PipelinePlan, StepPlan, WorkflowPlan } from '../src/model/plan';

/** Long enough that a barrier never times out by accident during a benchmark. */
export const NO_TIMEOUT_MS = 600_000;
const STAGE = 'bench';

export function waitStep(name: string, durationMs: number): StepPlan {
  return {
    name,
    type: 'wait',
    durationMs: Math.max(1, Math.round(durationMs)),
    skip: false,
    failureStrategies: [],
  };
}
export function barrierStep(name: string, identifier: string, timeoutMs = NO_TIMEOUT_MS): StepPlan {
  return { name, type: 'barrier', identifier, timeoutMs, skip: false, failureStrategies: [] };
}
/** A shell step that fails; with no failure strategies and no rollback its workflow aborts. */
export function failingStep(name: string): StepPlan {
  return { name, type: 'shell', command: 'exit 1', env: {}, skip: false, failureStrategies: [] };
}

/** A workflow of the benchmarks' one stage. */
export function workflow(name: string, steps: StepPlan[]): WorkflowPlan {
  return { name, stage: STAGE, variables: {}, steps, rollbackSteps: [], failureStrategies: [] };
}

/** One stage of `workflows`; every barrier identifier used by a step gets its participants. */
export function singleStagePlan(pipelineId: string, name: string, workflows: WorkflowPlan[]): PipelinePlan {
  const participants = new Map<string, string[]>();
  for (const wf of workflows) {
    for (const step of wf.steps) {
      if (step.type !== 'barrier') continue;
      const list = participants.get(step.identifier) ?? [];
      if (!list.includes(wf.name)) list.push(wf.name);
      participants.set(step.identifier, list);
    }
  }
  return {
    pipelineId,
    name,
    source: 'bench',
    failureStrategies: [],
    stages: [
      {
        name: STAGE,
        workflows,
        barriers: [...participants].map(([identifier, names]) => ({ identifier, participants: names })),
      },
    ],
  };
}

/** Zero-padded participant names sort in plan order: w000, w001, ... */
export function participantName(index: number, count: number): string {
  return `w${String(index).padStart(String(Math.max(count - 1, 1)).length, '0')}`;
}

/** Barrier identifiers of a multi-round plan: b1, b2, ... */
export function roundIdentifier(round: number): string {
  return `b${round + 1}`;
}

/** Timing of a release-latency plan. */
export interface ReleaseTiming {
  /** Wait of an early arriver before each barrier: `earlyMs + (i % 10) * earlyStaggerMs`. */
  earlyMs: number;
  earlyStaggerMs: number;
  /** Extra wait of the round's last arriver, so every peer has arrived (and been heard) before it. */
  lastQuietMs: number;
  /** Extra wait of the first round's last arriver, while the children are still being started. */
  startupMs: number;
}

/**
 * The Temporal server fires a timer shorter than about one second only after about one second
 * (measured by the timer probe of bench/floor.ts), so every wait is at least this long: the
 * plans then say what really happens.
 */
export const MIN_WAIT_MS = 1000;

/** A sensible timing for `participants`: the coordinator must have digested every early arrival. */
export function releaseTiming(participants: number): ReleaseTiming {
  return {
    earlyMs: MIN_WAIT_MS,
    earlyStaggerMs: 20,
    lastQuietMs: 300 + participants * 10,
    startupMs: 1000 + participants * 20,
  };
}

/**
 * The participant that arrives last in `round`: the last one started first (the parent starts its
 * children in plan order, so every peer is already running when it starts), then each in turn.
 */
export function lastArriverIndex(round: number, participants: number): number {
  return (participants - 1 + round) % participants;
}

/**
 * How long each participant waits before each barrier, in ms: `waits[participant][barrier]`; 0
 * crosses straight on (the barrier right after the previous one). Convoy's plans
 * ({@link barrierPlan}) and the raw floor (bench/floor-workflows.ts) are built from the same
 * matrix, so both run exactly the same schedule.
 */
export type Waits = number[][];

/**
 * Release latency from quiet: before each of `rounds` barriers, the round's designated last
 * arriver ({@link lastArriverIndex}) waits well past every peer.
 */
export function releaseWaits(
  participants: number,
  rounds: number,
  timing: ReleaseTiming = releaseTiming(participants),
): Waits {
  return Array.from({ length: participants }, (_, i) =>
    Array.from({ length: rounds }, (_, r) => {
      const early = timing.earlyMs + (i % 10) * timing.earlyStaggerMs;
      if (lastArriverIndex(r, participants) !== i) return early;
      return early + timing.earlyStaggerMs * 10 + timing.lastQuietMs + (r === 0 ? timing.startupMs : 0);
    }),
  );
}

/**
 * Back-to-back: one barrier from quiet (as {@link releaseWaits}' first), then `barriers` more,
 * each crossed right after the one before releases: no pause, no wait step.
 */
export function backToBackWaits(participants: number, barriers: number): Waits {
  return releaseWaits(participants, 1).map((first) => [...first, ...new Array<number>(barriers).fill(0)]);
}

/**
 * How `barriers` measured barriers are split between the two pipelines each system runs in an
 * ABBA order (floor, Convoy, Convoy, floor; bench/scenarios/release.ts): the larger half first,
 * or one part when there is only one barrier to measure.
 */
export function abbaParts(barriers: number): number[] {
  if (barriers < 2) return [barriers];
  const first = Math.ceil(barriers / 2);
  return [first, barriers - first];
}

/** Scale and throughput: every workflow waits a second (staggered by 10 ms steps) before each barrier. */
export function fanWaits(workflows: number, barriers: number): Waits {
  return Array.from({ length: workflows }, (_, i) =>
    new Array<number>(barriers).fill(MIN_WAIT_MS + (i % 20) * 10),
  );
}

/** The participant that fails in {@link failureWaits}. */
export const FAILER_INDEX = 0;

/**
 * Failure propagation: `peers` workflows reach the barrier quickly and wait; the failer
 * ({@link FAILER_INDEX}) waits `failAfterMs`, then fails a step before reaching it.
 */
export function failureWaits(peers: number, failAfterMs: number): Waits {
  return [[failAfterMs], ...Array.from({ length: peers }, (_, i) => [MIN_WAIT_MS + (i % 10) * 20])];
}

/**
 * Memory: `workflows` workflows arrive at one barrier within a second, except the last, which
 * arrives only after `holdMs`: meanwhile every workflow of the pipeline sits in the worker's cache.
 */
export function heldWaits(workflows: number, holdMs: number): Waits {
  return Array.from({ length: workflows }, (_, i) => [i === workflows - 1 ? holdMs : MIN_WAIT_MS]);
}

/**
 * A one-stage plan running `waits`: participant i ({@link participantName}) waits `waits[i][b]`
 * (when above 0) and then crosses barrier b ({@link roundIdentifier}). The `failer`, if any,
 * fails a shell step (no strategies, no rollback: it aborts) right before its first barrier.
 */
export function barrierPlan(pipelineId: string, name: string, waits: Waits, failer?: number): PipelinePlan {
  const workflows = waits.map((perBarrier, i) => {
    const steps: StepPlan[] = [];
    perBarrier.forEach((ms, b) => {
      if (ms > 0) steps.push(waitStep(`wait-${b + 1}`, ms));
      if (i === failer && b === 0) steps.push(failingStep('deploy'));
      steps.push(barrierStep(`cross-${b + 1}`, roundIdentifier(b)));
    });
    return workflow(participantName(i, waits.length), steps);
  });
  return singleStagePlan(pipelineId, name, workflows);
}

export const WAITER = 'waiter';
export const LATECOMER = 'latecomer';
export const TIMEOUT_BARRIER = 'deadline';

/** How long the latecomer of the timeout benchmark sleeps: every barrier times out before. */
export const TIMEOUT_LATE_MS = 30_000;

/** Timeout precision: the waiter arrives at once with `timeoutMs`; its peer sleeps `lateMs` first. */
export function timeoutPlan(pipelineId: string, timeoutMs: number, lateMs = TIMEOUT_LATE_MS): PipelinePlan {
  return singleStagePlan(pipelineId, 'bench-timeout', [
    workflow(WAITER, [waitStep('settle', MIN_WAIT_MS), barrierStep('cross', TIMEOUT_BARRIER, timeoutMs)]),
    workflow(LATECOMER, [waitStep('settle', lateMs), barrierStep('cross', TIMEOUT_BARRIER)]),
  ]);
}

/** Shortest and longest barrier timeout of the timeout benchmark (issue 9: 100 ms to 5 s). */
export const TIMEOUT_RANGE_MS = { min: 100, max: 5000 } as const;

/**
 * The timeouts of the timeout benchmark: spread evenly over {@link TIMEOUT_RANGE_MS} (a step of
 * about 0.618 of the range, the golden ratio, fills it without clusters), deterministic and all
 * different for the first 4,901 indices (3031 is prime to the range's 4,901 values).
 */
export function timeoutFor(index: number): number {
  const { min, max } = TIMEOUT_RANGE_MS;
  return min + ((index * 3031) % (max - min + 1));
}
