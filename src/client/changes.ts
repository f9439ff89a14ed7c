/**
 * What changed in a pipeline between two of its documents (SPEC section 5), as typed events:
 * what `PipelineHandle.watch()` yields. Pure: the caller polls, this only compares.
 */
import { joinParticipant } from '../model/participants';
import type {
  BarrierResult,
  BarrierStatus,
  BranchStatus,
  PipelineResult,
  PipelineStatus,
  StageStatus,
  StepResult,
  WorkflowResult,
  WorkflowStatus,
} from '../model/result';

/** The pipeline's status changed; the first event of a watch has no `from`. */
export interface PipelineStatusEvent {
  readonly type: 'pipeline-status';
  readonly pipelineId: string;
  readonly from?: PipelineStatus;
  readonly to: PipelineStatus;
  /** When the pipeline started (to `running`) or ended (to a final status). */
  readonly at?: string;
}

/** A stage started or ended. */
export interface StageStatusEvent {
  readonly type: 'stage-status';
  readonly stage: string;
  readonly from?: StageStatus;
  readonly to: StageStatus;
}

/**
 * A workflow's status changed: it started, waits at a barrier or for an operator, runs again,
 * or ended (`succeeded`, `failed`, `aborted`, `rolled-back`).
 */
export interface WorkflowStatusEvent {
  readonly type: 'workflow-status';
  readonly workflow: string;
  readonly stage: string;
  readonly from?: WorkflowStatus;
  readonly to: WorkflowStatus;
}

/** A step (or a new attempt of it, or a rollback step) started. */
export interface StepStartedEvent {
  readonly type: 'step-started';
  readonly workflow: string;
  readonly stage: string;
  /** For a step of a branch of a parallel step: the branch's name. */
  readonly branch?: string;
  /**
   * The step's position in its workflow's `steps` (rollback steps follow the others), or in its
   * branch's `steps`.
   */
  readonly index: number;
  /** The step's record when the change was seen. */
  readonly step: StepResult;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly at?: string;
}

/**
 * A step ended: `succeeded`, `failed` (with its `error`), `ignored` or `skipped`. A failed step
 * that its failure strategy then ignores ends a second time, `ignored`.
 */
export interface StepEndedEvent {
  readonly type: 'step-ended';
  readonly workflow: string;
  readonly stage: string;
  /** For a step of a branch of a parallel step: the branch's name. */
  readonly branch?: string;
  readonly index: number;
  readonly step: StepResult;
  readonly at?: string;
}

/**
 * A branch of a parallel step started (`running`), waits (at a barrier, for an operator) or
 * ended: `succeeded`, `failed`, `cancelled` (a sibling failed) or `skipped`.
 */
export interface BranchStatusEvent {
  readonly type: 'branch-status';
  readonly workflow: string;
  readonly stage: string;
  /** The parallel step. */
  readonly step: string;
  readonly branch: string;
  /** The branch as a barrier participant: `<workflow>/<branch>`. */
  readonly participant: string;
  readonly from?: BranchStatus;
  readonly to: BranchStatus;
  /** When it started or ended, when the document tells. */
  readonly at?: string;
}

/** A participant arrived at a barrier. */
export interface BarrierArrivalEvent {
  readonly type: 'barrier-arrival';
  readonly stage: string;
  readonly identifier: string;
  /** The participant: a workflow, or `<workflow>/<branch>` for a branch of a parallel step. */
  readonly workflow: string;
  readonly at: string;
}

/** A barrier stopped standing: `crossed`, `broken`, `timed-out` or `forced` (released by an operator). */
export interface BarrierResolvedEvent {
  readonly type: 'barrier-resolved';
  readonly stage: string;
  readonly identifier: string;
  readonly status: Exclude<BarrierStatus, 'standing'>;
  /** Who broke it and why, who was missing, or the operator's reason. */
  readonly reason?: string;
  readonly at?: string;
  /** The barrier as it stands now. */
  readonly barrier: BarrierResult;
}

/** One change in a pipeline, as `PipelineHandle.watch()` yields them. */
export type PipelineEvent =
  | PipelineStatusEvent
  | StageStatusEvent
  | WorkflowStatusEvent
  | BranchStatusEvent
  | StepStartedEvent
  | StepEndedEvent
  | BarrierArrivalEvent
  | BarrierResolvedEvent;

/** An event and the time it happened, when the document tells. */
interface Timed {
  at: string | undefined;
  event: PipelineEvent;
}

const FINAL_STEP_STATUSES: ReadonlySet<StepResult['status']> = new Set([
  'succeeded',
  'failed',
  'ignored',
  'skipped',
]);

/**
 * The events that lead from `previous` (undefined: nothing seen yet) to `next`. From nothing,
 * everything that has happened so far is reported, so a watch that starts late still sees the
 * whole story; statuses still at their initial `not-started` are not.
 *
 * Order: the pipeline starting; stages and workflows starting; then steps and barriers in the
 * order of their timestamps; then workflows and stages changing otherwise; the pipeline ending.
 */
export function diffPipelineDocuments(
  previous: PipelineResult | undefined,
  next: PipelineResult,
): PipelineEvent[] {
  const starting: PipelineEvent[] = [];
  const timed: Timed[] = [];
  const later: PipelineEvent[] = [];

  const pipelineChanged = previous?.status !== next.status;
  if (pipelineChanged && next.status === 'running')
    starting.push(pipelineStatus(previous, next, next.startedAt));

  const stagesBefore = new Map(previous?.stages.map((stage) => [stage.name, stage.status]));
  const stageEnds: PipelineEvent[] = [];
  for (const stage of next.stages) {
    const from = stagesBefore.get(stage.name);
    if (from === stage.status || (from === undefined && stage.status === 'not-started')) continue;
    const event: StageStatusEvent = {
      type: 'stage-status',
      stage: stage.name,
      ...(from && { from }),
      to: stage.status,
    };
    (stage.status === 'running' ? starting : stageEnds).push(event);
  }

  const workflowsBefore = new Map(previous?.workflows.map((wf) => [wf.name, wf]));
  for (const wf of next.workflows) {
    const before = workflowsBefore.get(wf.name);
    const from = before?.status;
    if (from !== wf.status && !(from === undefined && wf.status === 'not-started')) {
      const event: WorkflowStatusEvent = {
        type: 'workflow-status',
        workflow: wf.name,
        stage: wf.stage,
        ...(from && { from }),
        to: wf.status,
      };
      const isStart = wf.status === 'running' && (from === undefined || from === 'not-started');
      (isStart ? starting : later).push(event);
    }
    timed.push(...stepEvents(before, wf));
  }
  later.push(...stageEnds);

  const barriersBefore = new Map(previous?.barriers.map((b) => [barrierKey(b), b]));
  for (const barrier of next.barriers)
    timed.push(...barrierEvents(barriersBefore.get(barrierKey(barrier)), barrier));

  if (pipelineChanged && next.status !== 'running') later.push(pipelineStatus(previous, next, next.endedAt));
  return [...starting, ...inTimeOrder(timed), ...later];
}

function pipelineStatus(
  previous: PipelineResult | undefined,
  next: PipelineResult,
  at: string | undefined,
): PipelineStatusEvent {
  return {
    type: 'pipeline-status',
    pipelineId: next.pipelineId,
    ...(previous && { from: previous.status }),
    to: next.status,
    ...(at !== undefined && { at }),
  };
}

function stepEvents(before: WorkflowResult | undefined, wf: WorkflowResult): Timed[] {
  return eventsOfSteps(before?.steps, wf.steps, { workflow: wf.name, stage: wf.stage });
}

/** The events of `steps` (a workflow's, or a branch's with `place.branch`) since `stepsBefore`. */
function eventsOfSteps(
  stepsBefore: readonly StepResult[] | undefined,
  steps: readonly StepResult[],
  place: { workflow: string; stage: string; branch?: string },
): Timed[] {
  const events: Timed[] = [];
  steps.forEach((step, index) => {
    const old = stepsBefore?.[index];
    const where = { ...place, index };
    const newAttempt = old === undefined || step.attempts > old.attempts;
    if (newAttempt && step.status !== 'skipped') {
      events.push({
        at: step.startedAt,
        event: {
          type: 'step-started',
          ...where,
          step,
          attempt: Math.max(step.attempts, 1),
          at: step.startedAt,
        },
      });
    }
    // A parallel step's branches come in between its start and its end, in time order.
    (step.branches ?? []).forEach((branch, branchIndex) => {
      const oldBranch = old?.branches?.[branchIndex];
      if (oldBranch?.status !== branch.status) {
        const event: BranchStatusEvent = {
          type: 'branch-status',
          workflow: place.workflow,
          stage: place.stage,
          step: step.name,
          branch: branch.name,
          participant: branch.participant,
          ...(oldBranch && { from: oldBranch.status }),
          to: branch.status,
        };
        const at =
          branch.status === 'running'
            ? step.startedAt
            : (latest(branch.steps.map((s) => s.endedAt)) ?? step.startedAt);
        events.push({ at, event: { ...event, ...(at !== undefined && { at }) } });
      }
      events.push(...eventsOfSteps(oldBranch?.steps, branch.steps, { ...place, branch: branch.name }));
    });
    const ended = FINAL_STEP_STATUSES.has(step.status);
    if (ended && (newAttempt || old.status !== step.status)) {
      events.push({ at: step.endedAt, event: { type: 'step-ended', ...where, step, at: step.endedAt } });
    }
  });
  return events;
}

/** The latest of some ISO timestamps, if any. */
function latest(times: readonly (string | undefined)[]): string | undefined {
  return times
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
}

function barrierEvents(before: BarrierResult | undefined, barrier: BarrierResult): Timed[] {
  const events: Timed[] = [];
  const where = { stage: barrier.stage, identifier: barrier.identifier };
  for (const [workflow, at] of Object.entries(barrier.arrivals)) {
    if (before && Object.hasOwn(before.arrivals, workflow)) continue;
    events.push({ at, event: { type: 'barrier-arrival', ...where, workflow, at } });
  }
  if (barrier.status !== 'standing' && before?.status !== barrier.status) {
    events.push({
      at: barrier.resolvedAt,
      event: {
        type: 'barrier-resolved',
        ...where,
        status: barrier.status,
        ...(barrier.reason !== undefined && { reason: barrier.reason }),
        ...(barrier.resolvedAt !== undefined && { at: barrier.resolvedAt }),
        barrier,
      },
    });
  }
  return events;
}

function barrierKey(barrier: BarrierResult): string {
  return JSON.stringify([barrier.stage, barrier.identifier]);
}

/** Sorts by timestamp, keeping document order for equal or missing ones (a stable sort). */
function inTimeOrder(events: Timed[]): PipelineEvent[] {
  const time = (at: string | undefined) => (at === undefined ? Number.POSITIVE_INFINITY : Date.parse(at));
  return events
    .map((entry, order) => ({ ...entry, order, time: time(entry.at) }))
    .sort((a, b) => a.time - b.time || a.order - b.order)
    .map((entry) => entry.event);
}

/**
 * Follows one pipeline through successive documents and reports what changed each time.
 *
 * A running workflow's steps come from that workflow's own query, which can miss once (the
 * workflow just ended, say) and leave fewer steps in one document than in the one before; what
 * was seen is kept, so nothing is reported twice when the steps come back.
 */
export class PipelineChangeTracker {
  private seen: PipelineResult | undefined;

  /** The events since the last document (since nothing, the first time). */
  update(next: PipelineResult): PipelineEvent[] {
    const events = diffPipelineDocuments(this.seen, next);
    this.seen = keepSeenSteps(this.seen, next);
    return events;
  }
}

function keepSeenSteps(previous: PipelineResult | undefined, next: PipelineResult): PipelineResult {
  if (previous === undefined) return next;
  const before = new Map(previous.workflows.map((wf) => [wf.name, wf.steps]));
  return {
    ...next,
    workflows: next.workflows.map((wf) => {
      const steps = before.get(wf.name);
      return steps !== undefined && steps.length > wf.steps.length ? { ...wf, steps } : wf;
    }),
  };
}

/**
 * One line of text for an event, for logs: `barrier deploy/services-deployed: payments arrived`,
 * `orders: step deploy failed (step-failed: exit code 1)`, `pipeline release-42: running -> succeeded`.
 */
export function formatPipelineEvent(event: PipelineEvent): string {
  const change = (from: string | undefined, to: string) => (from === undefined ? to : `${from} -> ${to}`);
  switch (event.type) {
    case 'pipeline-status':
      return `pipeline ${event.pipelineId}: ${change(event.from, event.to)}`;
    case 'stage-status':
      return `stage ${event.stage}: ${change(event.from, event.to)}`;
    case 'workflow-status':
      return `${event.workflow}: ${change(event.from, event.to)}`;
    case 'branch-status':
      return `${event.participant}: ${change(event.from, event.to)}`;
    case 'step-started':
      return `${joinParticipant(event.workflow, event.branch)}: step ${event.step.name} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'step-ended': {
      const error = event.step.error;
      return `${joinParticipant(event.workflow, event.branch)}: step ${event.step.name} ${event.step.status}${error ? ` (${error.type}: ${error.message})` : ''}`;
    }
    case 'barrier-arrival':
      return `barrier ${event.stage}/${event.identifier}: ${event.workflow} arrived`;
    case 'barrier-resolved':
      return `barrier ${event.stage}/${event.identifier}: ${event.status}${event.reason ? ` (${event.reason})` : ''}`;
  }
}
