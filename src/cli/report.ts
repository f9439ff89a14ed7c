/** `convoy report ID --html FILE`: writes the pipeline's timeline report. */
import { writeFileSync } from 'node:fs';
import type { PipelineResult } from '../model/result';
import { renderReportHtml } from './report-html';
import { buildTimeline } from './timeline';
import { ConvoyUsageError } from './usage-error';

/** Writes the HTML report of `doc` to `file`; returns what to tell the user. */
export function runReport(doc: PipelineResult, file: string): string {
  const now = Date.now();
  const html = renderReportHtml(buildTimeline(doc, now), new Date(now).toISOString());
  try {
    writeFileSync(file, html);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConvoyUsageError(`cannot write the report to ${file}: ${reason}`, { cause: error });
  }
  return `report of pipeline ${doc.pipelineId} (${doc.status}) written to ${file}`;
}
