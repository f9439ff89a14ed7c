/**
 * The live view `convoy run` and `convoy status --watch` draw on a terminal: the pipeline's
 * headline, per barrier who arrived, who is missing and the time left, per workflow its current
 * step, and for a workflow waiting for manual intervention its deadline and the command to run.
 *
 * Pure: the document, the clock, the width and the colours come in; lines go out, each at most
 * `width` columns except the intervene commands, which are never cut (an operator copies them).
 */
import type { BarrierResult, PipelineResult, StepResult, WorkflowResult } from '../model/result';
import { isFinalWorkflowStatus } from '../model/result';
import { flattenChildPipelines } from '../client/child-pipelines';
import {
  firstLine,
  formatDuration,
  interveneCommand,
  layoutColumns,
  timeLeft,
  truncateToWidth,
  type Cell,
  type Colours,
} from './terminal-text';

/** What a frame depends on besides the document. */
export interface LiveViewOptions {
  /** Terminal columns. */
  readonly width: number;
  /** The clock, epoch ms: time left and time elapsed count from it. */
  readonly nowMs: number;
  readonly colours: Colours;
}

/** One frame of the live view. */
export function renderLiveView(document: PipelineResult, options: LiveViewOptions): string[] {
  const { width, colours: c } = options;
  // Child pipelines' barriers and workflows show with the calling pipeline's, by path.
  const doc = flattenChildPipelines(document);
  const lines: string[] = [];
  const elapsed = (doc.endedAt ? Date.parse(doc.endedAt) : options.nowMs) - Date.parse(doc.startedAt);
  lines.push(
    truncateToWidth(
      `pipeline ${doc.pipelineId}${doc.name ? ` (${doc.name})` : ''} · ${doc.status} · ${formatDuration(elapsed)}`,
      width,
    ),
  );
  lines[0] = c.bold(lines[0]!);
  const stages = doc.stages.map((stage) => `${stage.name} ${stage.status}`).join(' · ');
  if (stages) lines.push(truncateToWidth(`stages: ${stages}`, width));

  if (doc.barriers.length > 0) {
    lines.push('');
    const header: Cell[] = ['BARRIER', 'STATUS', 'ARRIVED', 'MISSING', 'TIME LEFT / RESOLUTION'].map(
      (text) => ({ text, paint: c.dim }),
    );
    lines.push(...layoutColumns([header, ...doc.barriers.map((b) => barrierRow(b, doc, options))], width));
  }

  lines.push('');
  const header: Cell[] = ['WORKFLOW', 'STAGE', 'STATUS', 'CURRENT STEP'].map((text) => ({
    text,
    paint: c.dim,
  }));
  lines.push(...layoutColumns([header, ...doc.workflows.map((wf) => workflowRow(wf, c))], width));

  for (const wf of doc.workflows) {
    if (wf.status !== 'waiting-for-intervention') continue;
    lines.push('', ...interventionLines(doc.pipelineId, wf, options));
  }
  return lines;
}

/** What an operator needs for a workflow waiting for manual intervention: why, until when, how. */
export function interventionLines(
  pipelineId: string,
  wf: WorkflowResult,
  options: Pick<LiveViewOptions, 'width' | 'nowMs' | 'colours'>,
): string[] {
  const wait = wf.intervention;
  const step = wait ? ` on step ${wait.step}` : '';
  const deadline = wait?.deadline
    ? `${timeLeft(wait.deadline, options.nowMs)} to decide (by ${wait.deadline})`
    : 'no deadline';
  const c = options.colours;
  return [
    c.yellow(truncateToWidth(`${wf.name} waits for manual intervention${step}: ${deadline}`, options.width)),
    `  ${c.bold(interveneCommand(pipelineId, wf.name))}`,
  ];
}

function barrierRow(b: BarrierResult, doc: PipelineResult, options: LiveViewOptions): Cell[] {
  const arrived = b.participants.filter((p) => Object.hasOwn(b.arrivals, p));
  const missing = b.participants.filter((p) => !Object.hasOwn(b.arrivals, p));
  const standing = b.status === 'standing';
  let resolution: string;
  if (standing) resolution = b.deadline ? timeLeft(b.deadline, options.nowMs) : 'nobody waiting yet';
  else {
    const at = b.resolvedAt
      ? ` at +${formatDuration(Date.parse(b.resolvedAt) - Date.parse(doc.startedAt))}`
      : '';
    resolution = `${b.status}${at}${b.reason ? `: ${b.reason}` : ''}`;
  }
  return [
    { text: `${b.stage}/${b.identifier}` },
    { text: b.status, paint: barrierPaint(b, options.colours) },
    { text: `${arrived.length}/${b.participants.length}` },
    // Once resolved, who was missing matters only when it timed out.
    { text: standing || b.status === 'timed-out' ? missing.join(', ') || '—' : '—' },
    { text: resolution },
  ];
}

function barrierPaint(b: BarrierResult, c: Colours): (text: string) => string {
  switch (b.status) {
    case 'standing':
      return c.yellow;
    case 'crossed':
      return c.green;
    case 'forced':
      return c.cyan;
    default:
      return c.red;
  }
}

function workflowRow(wf: WorkflowResult, c: Colours): Cell[] {
  return [
    { text: wf.name },
    { text: wf.stage },
    { text: wf.status, paint: workflowPaint(wf, c) },
    { text: currentStep(wf) },
  ];
}

function workflowPaint(wf: WorkflowResult, c: Colours): (text: string) => string {
  switch (wf.status) {
    case 'succeeded':
      return c.green;
    case 'running':
      return c.cyan;
    case 'waiting-at-barrier':
    case 'waiting-for-intervention':
      return c.yellow;
    case 'not-started':
      return c.dim;
    default:
      return c.red;
  }
}

/**
 * The step a workflow is at: the last one still running or waiting; once it has ended, the last
 * step it ran (with its error, if it failed).
 */
export function currentStep(wf: WorkflowResult): string {
  if (wf.steps.length === 0) return wf.status === 'not-started' ? '' : '—';
  const live = lastIndexWhere(wf.steps, (s) => s.status === 'running' || s.status === 'waiting');
  const index = live >= 0 ? live : wf.steps.length - 1;
  const step = wf.steps[index]!;
  const showStatus = live < 0 || isFinalWorkflowStatus(wf.status);
  return `${index + 1}. ${describeStep(step)}${showStatus ? ` ${step.status}` : ''}${errorOf(step)}${branchesOf(step, showStatus)}`;
}

/**
 * A parallel step's branches, while it runs: each with its status and the step it is at, e.g.
 * ` — canary waiting-at-barrier (canary-cut), migrate running (migrate-db)`. Once it ended, the
 * branches that did not succeed.
 */
function branchesOf(step: StepResult, ended: boolean): string {
  const branches = (step.branches ?? []).filter((b) => !ended || b.status !== 'succeeded');
  if (branches.length === 0) return '';
  const described = branches.map((b) => {
    const at = b.steps.at(-1);
    return `${b.name} ${b.status}${at && !ended ? ` (${at.name})` : ''}`;
  });
  return ` — ${described.join(', ')}`;
}

function describeStep(step: StepResult): string {
  const attempt = step.attempts > 1 ? `, attempt ${step.attempts}` : '';
  return `${step.rollback ? 'rollback ' : ''}${step.name} (${step.type}${attempt})`;
}

function errorOf(step: StepResult): string {
  if (!step.error) return '';
  return ` — ${step.error.type}: ${firstLine(step.error.message)}`;
}

function lastIndexWhere<T>(items: readonly T[], matches: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (matches(items[i]!)) return i;
  return -1;
}
