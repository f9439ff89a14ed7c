/**
 * The timeline of a pipeline, from its result document: a row per workflow with its steps as
 * spans of time and its barrier arrivals, and each resolved barrier at the moment it resolved.
 * `convoy report --html` draws it. Pure: the document and the clock (for what still runs) in,
 * plain data out, times in epoch milliseconds.
 */
import type {
  BarrierStatus,
  BranchStatus,
  PipelineResult,
  StepResult,
  StepStatus,
  WorkflowStatus,
} from '../model/result';

/** One step (or one rollback step) of a workflow as a span of time. */
export interface TimelineBar {
  readonly step: string;
  readonly type: string;
  readonly status: StepStatus;
  readonly startMs: number;
  readonly endMs: number;
  /** Still running or waiting: `endMs` is the timeline's end, not the step's. */
  readonly ongoing: boolean;
  readonly attempts: number;
  readonly rollback: boolean;
  /** `type: message` of a failed step. */
  readonly error?: string;
}

/** A workflow arriving at a barrier. */
export interface TimelineArrival {
  readonly stage: string;
  readonly identifier: string;
  readonly atMs: number;
}

/** A workflow's row, or a branch's (`workflow` is then its participant name, `<workflow>/<branch>`). */
export interface TimelineRow {
  readonly workflow: string;
  readonly stage: string;
  readonly status: WorkflowStatus | BranchStatus;
  readonly bars: readonly TimelineBar[];
  readonly arrivals: readonly TimelineArrival[];
}

/** A barrier; `atMs` is when it resolved (crossed, forced, broken, timed out), absent while it stands. */
export interface TimelineBarrier {
  readonly stage: string;
  readonly identifier: string;
  readonly status: BarrierStatus;
  readonly participants: readonly string[];
  readonly atMs?: number;
  readonly reason?: string;
}

/** Everything the report draws. */
export interface Timeline {
  readonly pipelineId: string;
  readonly name?: string;
  readonly status: PipelineResult['status'];
  readonly startMs: number;
  /** When the pipeline ended, or `nowMs` while it runs; never before anything it shows. */
  readonly endMs: number;
  readonly rows: readonly TimelineRow[];
  readonly barriers: readonly TimelineBarrier[];
}

/** Builds the timeline of `doc`; what still runs ends at `nowMs` (or at the pipeline's end). */
export function buildTimeline(doc: PipelineResult, nowMs: number): Timeline {
  const startMs = Date.parse(doc.startedAt);
  const known: number[] = [startMs];
  const seen = (iso: string | undefined): number | undefined => {
    if (iso === undefined) return undefined;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return undefined;
    known.push(ms);
    return ms;
  };
  const pipelineEnd = seen(doc.endedAt);

  const arrivalsOf = new Map<string, TimelineArrival[]>();
  const barriers: TimelineBarrier[] = doc.barriers.map((b) => {
    for (const [workflow, at] of Object.entries(b.arrivals)) {
      const atMs = seen(at);
      if (atMs === undefined) continue;
      const list = arrivalsOf.get(workflow) ?? [];
      list.push({ stage: b.stage, identifier: b.identifier, atMs });
      arrivalsOf.set(workflow, list);
    }
    const atMs = b.status === 'standing' ? undefined : seen(b.resolvedAt);
    return {
      stage: b.stage,
      identifier: b.identifier,
      status: b.status,
      participants: b.participants,
      ...(atMs !== undefined && { atMs }),
      ...(b.reason !== undefined && { reason: b.reason }),
    };
  });

  // A step still running ends where the timeline ends, which is known once every time is seen.
  const barsOf = (steps: readonly StepResult[]): ((timelineEndMs: number) => TimelineBar)[] => {
    const bars: ((timelineEndMs: number) => TimelineBar)[] = [];
    for (const step of steps) {
      const start = seen(step.startedAt);
      if (start === undefined) continue; // never started: nothing to draw
      const end = seen(step.endedAt);
      bars.push((timelineEndMs) => ({
        step: step.name,
        type: step.type,
        status: step.status,
        startMs: start,
        endMs: Math.max(start, end ?? timelineEndMs),
        ongoing: end === undefined,
        attempts: step.attempts,
        rollback: step.rollback === true,
        ...(step.error && { error: `${step.error.type}: ${step.error.message}` }),
      }));
    }
    return bars;
  };
  // A workflow's row, then a row per branch of its parallel steps (named as the participant).
  const rows = doc.workflows.flatMap((wf) => {
    const branches = wf.steps.flatMap((step) => step.branches ?? []);
    return [
      { name: wf.name, stage: wf.stage, status: wf.status as TimelineRow['status'], steps: wf.steps },
      ...branches.map((b) => ({ name: b.participant, stage: wf.stage, status: b.status, steps: b.steps })),
    ].map((row) => ({
      row,
      bars: barsOf(row.steps),
      arrivals: (arrivalsOf.get(row.name) ?? []).sort((x, y) => x.atMs - y.atMs),
    }));
  });

  const endMs = Math.max(pipelineEnd ?? nowMs, ...known);
  return {
    pipelineId: doc.pipelineId,
    ...(doc.name !== undefined && { name: doc.name }),
    status: doc.status,
    startMs,
    endMs,
    rows: rows.map(({ row, bars, arrivals }) => ({
      workflow: row.name,
      stage: row.stage,
      status: row.status,
      bars: bars.map((bar) => bar(endMs)),
      arrivals,
    })),
    barriers,
  };
}
