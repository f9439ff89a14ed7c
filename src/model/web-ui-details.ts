/**
 * What the Temporal Web UI shows as a workflow's "current details": a short Markdown summary an
 * operator can read without running `convoy status`. Pure functions, so they are unit-tested
 * and cost the workflows no history events (the UI reads them through a built-in query).
 */
import { missingParticipants, type BarrierState } from './barrier';
import { isoMs, type BranchResult, type PipelineStatus, type StageStatus } from './result';

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
    branches?: { name: string }[];
    pipeline?: { name: string; pipelineId: string };
  },
  index: number,
  count: number,
): string {
  const position = `step ${index + 1}/${count}`;
  if (step.pipeline)
    return `**${position}: \`${step.name}\`** — child pipeline \`${step.pipeline.name}\` (workflow \`${step.pipeline.pipelineId}\`)`;
  if (step.type === 'barrier')
    return `**${position}: \`${step.name}\`** — barrier \`${step.identifier}\` (timeout ${step.timeoutMs} ms)`;
  if (step.type === 'parallel')
    return `**${position}: \`${step.name}\`** — parallel branches ${names((step.branches ?? []).map((b) => `\`${b.name}\``))}`;
  return `**${position}: \`${step.name}\`** (${step.type})`;
}

/**
 * A deployment workflow's details while it runs a parallel step: the step, then each branch with
 * its status and the step it is at (its participant name, as barriers show it).
 */
export function renderParallelDetails(
  step: { name: string },
  index: number,
  count: number,
  branches: readonly BranchResult[],
): string {
  const lines = [`**step ${index + 1}/${count}: \`${step.name}\`** — parallel`, ''];
  for (const branch of branches) {
    const at = branch.steps.at(-1);
    lines.push(`- \`${branch.participant}\`: ${branch.status}${at ? ` at \`${at.name}\` (${at.type})` : ''}`);
  }
  return lines.join('\n');
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

/**
 * A release train run's details: its status, who has arrived, who is missing and until when it
 * waits (issue 14).
 */
export function renderTrainDetails(status: {
  train: string;
  identifier: string;
  status: string;
  expect: readonly string[];
  arrivals: Readonly<Record<string, string>>;
  missing: readonly string[];
  deadline?: string;
  reason?: string;
}): string {
  const arrived = Object.keys(status.arrivals);
  const lines = [
    `**Train \`${status.train}\` · barrier \`${status.identifier}\`: ${status.status}**`,
    '',
    `- arrived (${arrived.length}/${status.expect.length}): ${arrived.length > 0 ? names(arrived) : 'none yet'}`,
  ];
  if (status.status === 'standing') {
    lines.push(`- missing: ${status.missing.length > 0 ? names(status.missing) : 'none'}`);
    if (status.deadline !== undefined) lines.push(`- times out at ${status.deadline}`);
  } else if (status.reason !== undefined) {
    lines.push(`- ${status.reason}`);
  }
  return lines.join('\n');
}

/**
 * The pipeline details' lines about its release trains: which train each train barrier joins
 * (the train workflow's own details show who has arrived and who is missing), and, once the
 * train answered, how its run resolved.
 */
export function renderBarrierTrainDetails(
  barriers: readonly {
    identifier: string;
    stage: string;
    train?: { name: string; workflowId: string; status: string; expect: readonly string[]; reason?: string };
  }[],
): string {
  const lines: string[] = [];
  for (const { identifier, stage, train } of barriers) {
    if (train === undefined) continue;
    const detail =
      train.status === 'standing'
        ? `expects ${names(train.expect)} — see workflow \`${train.workflowId}\``
        : (train.reason ?? '');
    lines.push(
      `- \`${identifier}\` (stage ${stage}) joins train \`${train.name}\`: **${train.status}**${detail ? ` — ${detail}` : ''}`,
    );
  }
  return lines.length === 0 ? '' : ['', '**Release trains**', '', ...lines].join('\n');
}
