/**
 * Text for a terminal: widths as the terminal counts them (wide and combining characters), rows
 * cut to fit, durations and colours that switch off. Pure: the caller says how wide and whether
 * colour is wanted.
 */
import { createColors } from 'picocolors';
import stringWidth from 'string-width';
import { escapeControlCharacters, shellQuote } from '../pipeline-file';
import { interventionActionSchema } from '../model/plan';

/**
 * A copy of a document or event whose every string (and key) has its control characters escaped.
 * A step's output tail, an error message or an operator's reason can hold terminal escape
 * sequences; shown escaped, they stay one inert line instead of retitling, clearing or recolouring
 * the operator's terminal. For human output only: `--json` prints the document as it is.
 */
export function inertText<T>(value: T): T {
  if (typeof value === 'string') return escapeControlCharacters(value) as T;
  if (Array.isArray(value)) return value.map(inertText) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [escapeControlCharacters(key), inertText(entry)]),
    ) as T;
  }
  return value;
}

/** The first line of a message, raw or made inert (where its newlines are written `\n`). */
export function firstLine(text: string): string {
  return text.split(/\n|\\n/)[0]!;
}

/** The colour functions a view uses; identity functions when colour is off. */
export type Colours = ReturnType<typeof createColors>;

/** Colour functions: real ones when `enabled`, functions that return their input otherwise. */
export function colours(enabled: boolean): Colours {
  return createColors(enabled);
}

/**
 * Whether to colour what goes to a stream: only a terminal, and never when `NO_COLOR` is set to
 * anything but the empty string (https://no-color.org).
 */
export function wantsColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && !env.NO_COLOR;
}

/** How many terminal columns `text` takes (plain text: no escape sequences). */
export function textWidth(text: string): number {
  return stringWidth(text);
}

/** `text` cut to at most `width` columns, ending with `…` when cut. */
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    const w = stringWidth(char);
    if (used + w > width - 1) break;
    kept += char;
    used += w;
  }
  return `${kept}…`;
}

/** A cell: its plain text, and how to colour it once it is cut to fit. */
export interface Cell {
  readonly text: string;
  readonly paint?: (text: string) => string;
}

const GAP = 2;

/**
 * Lays out rows of cells in columns that fit `width`: each column as wide as its widest cell,
 * then the widest columns shrink (not below `minWidth`, the last one first) until the row fits;
 * cells that no longer fit end with `…`. Colour is applied after cutting, so escape sequences
 * never count toward the width or get cut in half.
 */
export function layoutColumns(rows: readonly (readonly Cell[])[], width: number, minWidth = 6): string[] {
  const columnCount = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columnCount }, (_, column) =>
    Math.max(0, ...rows.map((row) => (row[column] ? stringWidth(row[column].text) : 0))),
  );
  shrinkToFit(widths, width - GAP * Math.max(0, columnCount - 1), minWidth);
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const text = truncateToWidth(cell.text, widths[column]!);
        // Padding stays outside the colour, so that a line's trailing blanks can be trimmed.
        const padding = column === row.length - 1 ? '' : ' '.repeat(widths[column]! - stringWidth(text));
        return (cell.paint && text ? cell.paint(text) : text) + padding;
      })
      .join(' '.repeat(GAP))
      .trimEnd(),
  );
}

/**
 * Shrinks column `widths` in place until they add up to at most `available`: the widest first
 * (the last of equals: free text tends to sit at the end), not below `minWidth`; then, if a very
 * narrow terminal still overflows, from the right down to `floor`.
 */
export function shrinkToFit(widths: number[], available: number, minWidth: number, floor = 1): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0);
  while (total() > available) {
    const widest = Math.max(...widths);
    if (widest <= minWidth) break;
    const column = widths.lastIndexOf(widest);
    widths[column] = Math.max(minWidth, widest - (total() - available));
  }
  for (let column = widths.length - 1; column >= 0 && total() > available; column--)
    widths[column] = Math.max(floor, widths[column]! - (total() - available));
}

/** A duration for people: `42s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** How long until `deadline` (ISO-8601) from `nowMs`: `4m 05s left`, or `overdue` once passed. */
export function timeLeft(deadline: string, nowMs: number): string {
  const left = Date.parse(deadline) - nowMs;
  return left > 0 ? `${formatDuration(left)} left` : 'overdue';
}

/** A word as the shell reads it: as is when it holds nothing the shell would interpret. */
function shellWord(value: string): string {
  return /^[\w.,:/@%+=-]+$/.test(value) ? value : shellQuote(value);
}

/**
 * The command an operator runs to decide for a workflow waiting for manual intervention, with
 * the pipeline and workflow quoted for a POSIX shell: `convoy intervene release-42 'orders[eu]'
 * --action <retry|ignore|abort|rollback|mark-success>`.
 */
export function interveneCommand(pipelineId: string, workflow: string): string {
  return `convoy intervene ${shellWord(pipelineId)} ${shellWord(workflow)} --action <${interventionActionSchema.options.join('|')}>`;
}
