/**
 * What `convoy run` and `convoy status --watch` print when stdout is not a terminal: one plain,
 * timestamped line per change, for logs and CI. Pure.
 */
import type { PipelineEvent } from '../client/changes';
import { formatPipelineEvent } from '../client/changes';
import { isFinalWorkflowStatus, type PipelineResult } from '../model/result';
import { interveneCommand } from './terminal-text';

/**
 * The lines for the `events` read with `doc`, oldest first. Each starts with when the change
 * happened, as the document tells ({@link whenOf}), else `seenAt`. Arrivals say how the barrier
 * stands after them; a workflow starting to wait for manual intervention gets its deadline and
 * the command that decides.
 */
export function changeLines(events: readonly PipelineEvent[], doc: PipelineResult, seenAt: string): string[] {
  const groups = events.map((event, order) => {
    const at = whenOf(event, doc) ?? seenAt;
    const lines = [`${at} ${formatPipelineEvent(event)}${detailOf(event, doc)}`];
    if (event.type === 'workflow-status' && event.to === 'waiting-for-intervention') {
      const wait = doc.workflows.find((wf) => wf.name === event.workflow)?.intervention;
      const until = wait?.deadline ? `decide by ${wait.deadline}` : 'no deadline';
      lines.push(
        `${at} ${event.workflow}: waits for manual intervention${wait ? ` on step ${wait.step}` : ''} (${until}): ${interveneCommand(doc.pipelineId, event.workflow)}`,
      );
    }
    return { time: Date.parse(at), order, lines };
  });
  return groups.sort((a, b) => a.time - b.time || a.order - b.order).flatMap((group) => group.lines);
}

/**
 * When a change happened, from the document: an event's own time, or for a stage or workflow
 * changing status the times of the steps that made it change. Undefined when nothing tells.
 */
export function whenOf(event: PipelineEvent, doc: PipelineResult): string | undefined {
  switch (event.type) {
    case 'stage-status': {
      const names = new Set(doc.stages.find((stage) => stage.name === event.stage)?.workflows);
      const steps = doc.workflows.filter((wf) => names.has(wf.name)).flatMap((wf) => wf.steps);
      return event.to === 'running'
        ? earliest(steps.map((s) => s.startedAt))
        : latest(steps.map((s) => s.endedAt));
    }
    case 'workflow-status': {
      const wf = doc.workflows.find((w) => w.name === event.workflow);
      if (!wf) return undefined;
      if (event.to === 'running' && (event.from === undefined || event.from === 'not-started'))
        return earliest(wf.steps.map((s) => s.startedAt));
      if (event.to === 'waiting-at-barrier')
        return [...wf.steps].reverse().find((s) => s.status === 'waiting')?.startedAt;
      if (event.to === 'waiting-for-intervention') return wf.intervention?.since;
      if (isFinalWorkflowStatus(event.to)) return latest(wf.steps.map((s) => s.endedAt));
      return undefined;
    }
    default:
      return event.at;
  }
}

function earliest(times: readonly (string | undefined)[]): string | undefined {
  return times.filter((t): t is string => t !== undefined).sort()[0];
}

function latest(times: readonly (string | undefined)[]): string | undefined {
  return times
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
}

function detailOf(event: PipelineEvent, doc: PipelineResult): string {
  if (event.type !== 'barrier-arrival') return '';
  const barrier = doc.barriers.find((b) => b.stage === event.stage && b.identifier === event.identifier);
  if (!barrier) return '';
  // As the barrier stood right after this arrival, not when the document was read.
  const arrivedBy = (p: string) =>
    Object.hasOwn(barrier.arrivals, p) && Date.parse(barrier.arrivals[p]!) <= Date.parse(event.at);
  const missing = barrier.participants.filter((p) => !arrivedBy(p));
  const count = `${barrier.participants.length - missing.length}/${barrier.participants.length} arrived`;
  return missing.length > 0 ? ` (${count}; waiting for ${missing.join(', ')})` : ` (${count})`;
}
