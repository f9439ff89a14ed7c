/**
 * What the Temporal Web UI shows as a workflow's "current details": a short Markdown summary an
 * operator can read without running `convoy status`. Pure functions, so they are unit-tested
 * and cost the workflows no history events (the UI reads them through a built-in query).
 */
import { missingParticipants, type BarrierState } from './barrier';
import { isoMs, type PipelineStatus, type StageStatus } from './result';

/** At most this many names are listed per barrier; the rest are counted. */
const MAX_NAMES = 5;

function names(list: readonly string[]): string {
  if (list.length <= MAX_NAMES) return list.join(', ');
  return `${list.slice(0, MAX_NAMES).join(', ')} and ${list.length - MAX_NAMES} more`;
}

/** One line per stage, then one line per barrier of the started stages. */
export function renderPipelineDetails(
  status: PipelineStatus,
  stages: readonly { name: string; status: StageStatus }[],
  barriers: readonly BarrierState[],
): string {
  const lines = [`**Pipeline ${status}**`, ''];
  for (const stage of stages) lines.push(`- stage \`${stage.name}\`: ${stage.status}`);
  const started = new Set(stages.filter((s) => s.status !== 'not-started').map((s) => s.name));
  const shown = barriers.filter((b) => started.has(b.stage));
  if (shown.length > 0) lines.push('', '**Barriers**', '');
  // A list, not a table: the Web UI renders Markdown tables without cell spacing.
  for (const b of shown) {
    const missing = missingParticipants(b);
    const arrived = b.participants.length - missing.length;
    const detail = b.status === 'standing' ? `waiting for ${names(missing)}` : (b.reason ?? '');
    lines.push(
      `- \`${b.identifier}\` (stage ${b.stage}): **${b.status}**, ${arrived}/${b.participants.length} arrived${detail ? ` — ${detail}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** A deployment workflow's details while it runs a step: which step of how many, and for a barrier which one. */
export function renderStepDetails(
  step: {
    name: string;
    type: string;
    identifier?: string;
    timeoutMs?: number;
    pipeline?: { name: string; pipelineId: string };
  },
  index: number,
  count: number,
): string {
  const position = `step ${index + 1}/${count}`;
  if (step.pipeline)
    return `**${position}: \`${step.name}\`** — child pipeline \`${step.pipeline.name}\` (workflow \`${step.pipeline.pipelineId}\`)`;
  return step.type === 'barrier'
    ? `**${position}: \`${step.name}\`** — barrier \`${step.identifier}\` (timeout ${step.timeoutMs} ms)`
    : `**${position}: \`${step.name}\`** (${step.type})`;
}

/**
 * The summary of the pipeline's one barrier timer, shown on the timer in the Web UI's event
 * history and timeline: which barrier(s) time out when it fires, and when.
 */
export function renderDeadlineSummary(
  barriers: readonly { stage: string; identifier: string }[],
  deadlineMs: number,
): string {
  const which =
    barriers.length === 0
      ? 'barrier deadline'
      : `${barriers.length === 1 ? 'barrier' : 'barriers'} ${names(barriers.map((b) => `${b.identifier} (stage ${b.stage})`))} deadline`;
  return `${which} ${isoMs(deadlineMs)}`;
}

/** The summary of a workflow's wait at a barrier: which barrier, and its deadline. */
export function renderBarrierWaitSummary(identifier: string, deadlineMs: number): string {
  return `barrier ${identifier} deadline ${isoMs(deadlineMs)}`;
}

/** The summary of a workflow's wait for an operator's decision on a step. */
export function renderInterventionWaitSummary(step: string, deadlineMs: number): string {
  return `manual intervention on step ${step} deadline ${isoMs(deadlineMs)}`;
}
