/** `convoy train status|release|break NAME IDENTIFIER` (issue 14): the text a person reads. */
import type { TrainStatus } from '../model/result';

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
