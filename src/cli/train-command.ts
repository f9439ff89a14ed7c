/** `convoy train status|release|break NAME IDENTIFIER` (issue 14): the text a person reads. */
import type { PipelineResult, TrainStatus } from '../model/result';

/** A train run's document as lines: status, arrivals, missing pipelines, deadline or resolution. */
export function formatTrainStatus(status: TrainStatus, nowMs = Date.now()): string {
  const lines = [
    `train ${status.train} · barrier ${status.identifier}: ${status.status}`,
    `run ${status.runId} (workflow ${status.workflowId}), started ${status.startedAt}`,
    `expects ${status.expect.join(', ')}`,
  ];
  const arrived = Object.entries(status.arrivals);
  lines.push(
    arrived.length === 0
      ? 'arrived: none yet'
      : `arrived: ${arrived.map(([pipeline, at]) => `${pipeline} (${status.pipelines[pipeline] ?? '?'}, ${at})`).join(', ')}`,
  );
  if (status.missing.length > 0) lines.push(`missing: ${status.missing.join(', ')}`);
  if (status.deadline !== undefined) {
    const left = Math.max(0, Date.parse(status.deadline) - nowMs);
    lines.push(`times out at ${status.deadline} (in ${(left / 1000).toFixed(1)} s)`);
  }
  if (status.resolvedAt !== undefined) lines.push(`resolved at ${status.resolvedAt}`);
  if (status.reason !== undefined) lines.push(`reason: ${status.reason}`);
  if (status.rejectedMessages !== undefined) lines.push(`refused messages: ${status.rejectedMessages.count}`);
  return lines.join('\n');
}

/**
 * One line per train barrier of a pipeline's document (`convoy status`): the train, who has
 * arrived, who is missing and the time left while it stands, or how its run resolved.
 */
export function formatBarrierTrains(doc: PipelineResult, nowMs = Date.now()): string[] {
  const lines: string[] = [];
  for (const barrier of doc.barriers) {
    const train = barrier.train;
    if (train === undefined) continue;
    const arrived = Object.keys(train.arrivals);
    const parts = [
      `train ${train.name} at ${barrier.identifier} (stage ${barrier.stage}): ${train.status}`,
      `arrived ${arrived.length}/${train.expect.length}${arrived.length > 0 ? ` (${arrived.join(', ')})` : ''}`,
    ];
    if (train.missing !== undefined && train.missing.length > 0)
      parts.push(`missing ${train.missing.join(', ')}`);
    if (train.deadline !== undefined) {
      const left = Math.max(0, Date.parse(train.deadline) - nowMs);
      parts.push(`${(left / 1000).toFixed(1)} s left`);
    }
    if (train.reason !== undefined) parts.push(train.reason);
    parts.push(train.runId === undefined ? train.workflowId : `run ${train.runId}`);
    lines.push(`  ${parts.join('; ')}`);
  }
  return lines;
}
