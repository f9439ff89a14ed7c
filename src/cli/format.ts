/** Human-readable rendering of the result document for the terminal. */
import Table from 'cli-table3';
import { formatBarrierTrains } from './train-command';
import type { PipelineResult, StepResult } from '../model/result';
import { flattenChildPipelines } from '../client/child-pipelines';
import { firstLine, inertText, shrinkToFit, textWidth } from './terminal-text';

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

/**
 * Column widths (padding included) that keep a table of `rows` within `width` terminal columns,
 * its cells wrapped; undefined when there is no width to keep to.
 */
function fittedColumns(rows: readonly (readonly string[])[], width: number | undefined) {
  if (width === undefined) return {};
  const columns = rows[0]?.length ?? 0;
  const widths = Array.from(
    { length: columns },
    (_, column) =>
      2 +
      Math.max(0, ...rows.flatMap((row) => (row[column] ?? '').split('\n').map((line) => textWidth(line)))),
  );
  // A border left of each column and one at the end; a column keeps its padding and one character.
  shrinkToFit(widths, width - (columns + 1), 10, 3);
  return { colWidths: widths, wordWrap: true, wrapOnWordBoundary: false };
}

/**
 * Renders the document: a headline, stages, barriers (who arrived when) and workflows. With a
 * `width` (a terminal's), the tables wrap their cells to fit it.
 */
export function formatPipelineResult(document: PipelineResult, width?: number): string {
  // Child pipelines' workflows and barriers are listed with the calling pipeline's, by path.
  const doc = flattenChildPipelines(inertText(document));
  const lines: string[] = [];
  lines.push(
    `Pipeline ${doc.pipelineId}${doc.name ? ` (${doc.name})` : ''}: ${doc.status} after ${duration(doc)}`,
  );
  for (const stage of doc.stages) {
    lines.push(`  stage ${stage.name}: ${stage.status} [${stage.workflows.join(', ')}]`);
  }
  if (doc.barriers.length > 0) {
    const head = ['stage', 'barrier', 'status', 'arrivals (since pipeline start)', 'resolved', 'reason'];
    const rows: string[][] = [];
    for (const b of doc.barriers) {
      const arrivals = b.participants
        .map((p) => `${p} ${b.arrivals[p] ? offsetMs(doc.startedAt, b.arrivals[p]) : '(no arrival)'}`)
        .join('\n');
      rows.push([
        b.stage,
        b.identifier,
        b.status,
        arrivals,
        offsetMs(doc.startedAt, b.resolvedAt),
        b.reason ?? '',
      ]);
    }
    const table = new Table({ ...plain, head, ...fittedColumns([head, ...rows], width) });
    table.push(...rows);
    lines.push('Barriers:', table.toString());
    const trains = formatBarrierTrains(doc);
    if (trains.length > 0) lines.push('Release trains:', ...trains);
  }
  const wfHead = ['workflow', 'stage', 'status', 'steps'];
  const wfRows: string[][] = [];
  for (const wf of doc.workflows) {
    const describe = (s: StepResult, indent = ''): string => {
      const restarts = s.workerRestarts ? ` (${s.workerRestarts} after a lost worker)` : '';
      const attempts = s.attempts > 1 ? ` x${s.attempts}${restarts}` : '';
      const error = s.error ? ` — ${s.error.type}: ${firstLine(s.error.message).slice(0, 120)}` : '';
      const child = s.pipeline ? ` → child pipeline ${s.pipeline.pipelineId}` : '';
      const line = `${indent}${s.rollback ? '↩ ' : ''}${s.name} (${s.type}) ${s.status}${attempts}${child}${error}`;
      // A parallel step: each branch (its participant name and status), then its steps.
      const branches = (s.branches ?? []).flatMap((branch) => [
        `${indent}  ⑂ ${branch.participant} ${branch.status}`,
        ...branch.steps.map((inner) => describe(inner, `${indent}    `)),
      ]);
      return [line, ...branches].join('\n');
    };
    const steps = wf.steps.map((s) => describe(s)).join('\n');
    wfRows.push([wf.name, wf.stage, wf.status, steps]);
  }
  const wfTable = new Table({ ...plain, head: wfHead, ...fittedColumns([wfHead, ...wfRows], width) });
  wfTable.push(...wfRows);
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
