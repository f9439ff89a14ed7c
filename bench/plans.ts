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

function workflow(name: string, steps: StepPlan[]): WorkflowPlan {
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
 * Release latency: `participants` workflows cross `rounds` barriers; before each, the round's
 * designated last arriver ({@link lastArriverIndex}) waits well past every peer.
 */
export function releasePlan(
  pipelineId: string,
  participants: number,
  rounds: number,
  timing: ReleaseTiming = releaseTiming(participants),
): PipelinePlan {
  const workflows: WorkflowPlan[] = [];
  for (let i = 0; i < participants; i++) {
    const steps: StepPlan[] = [];
    for (let r = 0; r < rounds; r++) {
      const early = timing.earlyMs + (i % 10) * timing.earlyStaggerMs;
      const isLast = lastArriverIndex(r, participants) === i;
      const wait = isLast
        ? early + timing.earlyStaggerMs * 10 + timing.lastQuietMs + (r === 0 ? timing.startupMs : 0)
        : early;
      steps.push(waitStep(`wait-${r + 1}`, wait), barrierStep(`cross-${r + 1}`, roundIdentifier(r)));
    }
    workflows.push(workflow(participantName(i, participants), steps));
  }
  return singleStagePlan(pipelineId, `bench-release-${participants}`, workflows);
}

export const FAILER = 'failer';
export const FAILURE_BARRIER = 'together';

/**
 * Failure propagation: `peers` workflows reach the barrier quickly and wait; the failer waits
 * `failAfterMs`, then fails a shell step (default strategy: abort) before reaching it.
 */
export function failurePlan(pipelineId: string, peers: number, failAfterMs: number): PipelinePlan {
  const workflows: WorkflowPlan[] = [
    workflow(FAILER, [
      waitStep('settle', failAfterMs),
      failingStep('deploy'),
      barrierStep('cross', FAILURE_BARRIER),
    ]),
  ];
  for (let i = 0; i < peers; i++) {
    workflows.push(
      workflow(`peer-${participantName(i, peers)}`, [
        waitStep('settle', MIN_WAIT_MS + (i % 10) * 20),
        barrierStep('cross', FAILURE_BARRIER),
      ]),
    );
  }
  return singleStagePlan(pipelineId, `bench-failure-${peers + 1}`, workflows);
}

export const WAITER = 'waiter';
export const LATECOMER = 'latecomer';
export const TIMEOUT_BARRIER = 'deadline';

/** Timeout precision: the waiter arrives at once with `timeoutMs`; its peer sleeps `lateMs` first. */
export function timeoutPlan(pipelineId: string, timeoutMs: number, lateMs = 30_000): PipelinePlan {
  return singleStagePlan(pipelineId, 'bench-timeout', [
    workflow(WAITER, [waitStep('settle', MIN_WAIT_MS), barrierStep('cross', TIMEOUT_BARRIER, timeoutMs)]),
    workflow(LATECOMER, [waitStep('settle', lateMs), barrierStep('cross', TIMEOUT_BARRIER)]),
  ]);
}

/** The timeouts of the timeout benchmark: spread over 500..1500 ms, deterministic. */
export function timeoutFor(index: number): number {
  return 500 + ((index * 379) % 1001);
}

/**
 * Scale and throughput: `workflows` parallel workflows, each crossing `barriers` barriers that
 * all of them share, with a short staggered wait before each.
 */
export function fanPlan(
  pipelineId: string,
  workflows: number,
  barriers: number,
  name = 'bench-fan',
): PipelinePlan {
  const list: WorkflowPlan[] = [];
  for (let i = 0; i < workflows; i++) {
    const steps: StepPlan[] = [];
    for (let b = 0; b < barriers; b++) {
      steps.push(
        waitStep(`work-${b + 1}`, MIN_WAIT_MS + (i % 20) * 10),
        barrierStep(`cross-${b + 1}`, roundIdentifier(b)),
      );
    }
    list.push(workflow(participantName(i, workflows), steps));
  }
  return singleStagePlan(pipelineId, name, list);
}
