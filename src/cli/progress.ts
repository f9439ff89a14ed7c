/**
 * Showing a pipeline while it runs, for `convoy run` and `convoy status --watch`: a live view
 * redrawn in place on a terminal, timestamped lines otherwise, or one JSON document per line.
 * Built on {@link PipelineHandle.follow}: the client library does the polling and the diffing.
 */
import type { PipelineHandle } from '../client/convoy-client';
import type { PipelineResult } from '../model/result';
import { renderLiveView } from './live-view';
import { colours, inertText, textWidth, wantsColour } from './terminal-text';
import { changeLines } from './watch-lines';

/**
 * `live`: the view redrawn in place (a terminal); `lines`: a timestamped line per change;
 * `json-lines`: the document, on one line, each time it changes.
 */
export type ProgressMode = 'live' | 'lines' | 'json-lines';

/** Where progress goes: stdout in the CLI; tests pass their own. */
export interface ProgressOutput {
  write(text: string): void;
  readonly isTTY?: boolean;
  /** Terminal columns, read at every frame so that a resized terminal is followed. */
  readonly columns?: number;
}

/** The mode for an output: the live view only on a terminal. */
export function progressModeFor(output: ProgressOutput, json: boolean | undefined): ProgressMode {
  if (json) return 'json-lines';
  return output.isTTY ? 'live' : 'lines';
}

const DEFAULT_COLUMNS = 80;

/** How many terminal rows `lines` take at `columns` (long lines wrap). */
function rowsOf(lines: readonly string[], columns: number): number {
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(textWidth(line) / columns)), 0);
}

/** Moves the cursor to the start of the frame `rows` rows up and clears everything below. */
function eraseRows(rows: number): string {
  return rows > 0 ? `\x1b[${rows}A\r\x1b[J` : '\r\x1b[J';
}

/**
 * Follows the pipeline until it ends (or `signal` aborts), showing it on `output` in `mode`;
 * returns the last document read. The live view is erased at the end, leaving the terminal to
 * whatever is printed next (the final result).
 */
export async function showProgress(
  handle: PipelineHandle,
  mode: ProgressMode,
  output: ProgressOutput,
  options: { env?: NodeJS.ProcessEnv; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<PipelineResult | undefined> {
  const paint = colours(mode === 'live' && wantsColour(output.isTTY, options.env ?? process.env));
  let last: PipelineResult | undefined;
  let lastJson = '';
  let drawnRows = 0;
  try {
    for await (const { document, events } of handle.follow(options)) {
      last = document;
      if (mode === 'json-lines') {
        const json = JSON.stringify(document);
        if (json !== lastJson) output.write(`${json}\n`);
        lastJson = json;
      } else if (mode === 'lines') {
        const lines = changeLines(inertText(events), inertText(document), new Date().toISOString());
        for (const line of lines) output.write(`${line}\n`);
      } else {
        const columns = output.columns ?? DEFAULT_COLUMNS;
        const frame = renderLiveView(inertText(document), {
          width: columns,
          nowMs: Date.now(),
          colours: paint,
        });
        output.write(`${drawnRows > 0 ? eraseRows(drawnRows) : ''}${frame.join('\n')}\n`);
        drawnRows = rowsOf(frame, columns);
      }
    }
  } finally {
    if (drawnRows > 0) output.write(eraseRows(drawnRows));
  }
  return last;
}
