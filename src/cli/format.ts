/** Human-readable rendering of the result document for the terminal. */
import Table from 'cli-table3';
import type { PipelineResult } from '../model/result';

function offsetMs(from: string, to: string | undefined): string {
  if (!to) return '';
  return `+${Date.parse(to) - Date.parse(from)}ms`;
}

function duration(doc: PipelineResult): string {
  const end = doc.endedAt ? Date.parse(doc.endedAt) : Date.now();
  return `${((end - Date.parse(doc.startedAt)) / 1000).toFixed(1)}s`;
}

/** Plain borders and headings: colour codes only confuse logs and pipes. */
const plain = { style: { head: [] as string[], border: [] as string[] } };

/** Renders the document: a headline, stages, barriers (who arrived when) and workflows. */
export function formatPipelineResult(doc: PipelineResult): string {
  const lines: string[] = [];
  lines.push(
    `Pipeline ${doc.pipelineId}${doc.name ? ` (${doc.name})` : ''}: ${doc.status} after ${duration(doc)}`,
  );
  for (const stage of doc.stages) {
    lines.push(`  stage ${stage.name}: ${stage.status} [${stage.workflows.join(', ')}]`);
  }
  if (doc.barriers.length > 0) {
    const table = new Table({
      head: ['stage', 'barrier', 'status', 'arrivals (since pipeline start)', 'resolved', 'reason'],
    });
    for (const b of doc.barriers) {
      const arrivals = b.participants
        .map((p) => `${p} ${b.arrivals[p] ? offsetMs(doc.startedAt, b.arrivals[p]) : '(no arrival)'}`)
        .join('\n');
      table.push([
        b.stage,
        b.identifier,
        b.status,
        arrivals,
        offsetMs(doc.startedAt, b.resolvedAt),
        b.reason ?? '',
      ]);
    }
    lines.push('Barriers:', table.toString());
  }
  const wfTable = new Table({ ...plain, head: ['workflow', 'stage', 'status', 'steps'] });
  for (const wf of doc.workflows) {
    const steps = wf.steps
      .map((s) => {
        const restarts = s.workerRestarts ? ` (${s.workerRestarts} after a lost worker)` : '';
        const attempts = s.attempts > 1 ? ` x${s.attempts}${restarts}` : '';
        const error = s.error ? ` — ${s.error.type}: ${s.error.message.split('\n')[0]!.slice(0, 120)}` : '';
        return `${s.rollback ? '↩ ' : ''}${s.name} (${s.type}) ${s.status}${attempts}${error}`;
      })
      .join('\n');
    wfTable.push([wf.name, wf.stage, wf.status, steps]);
  }
  lines.push('Workflows:', wfTable.toString());
  const refused = [doc.rejectedMessages, ...doc.workflows.map((wf) => wf.rejectedMessages)].reduce(
    (sum, r) => sum + (r?.count ?? 0),
    0,
  );
  if (refused > 0) {
    lines.push(
      `Refused messages: ${refused} (no or a wrong capability, or contradicting the plan; see rejectedMessages in --json)`,
    );
  }
  return lines.join('\n');
}
