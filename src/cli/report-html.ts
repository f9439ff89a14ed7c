/**
 * `convoy report --html`: one self-contained HTML file (inline CSS and SVG, no script, nothing
 * fetched) with the pipeline's timeline: a row per workflow, its steps as bars coloured by
 * outcome, its barrier arrivals as diamonds, each resolved barrier a vertical line at the moment
 * it resolved; every mark has a tooltip (an SVG `<title>`). Pure: a {@link Timeline} in, text out.
 */
import type { BarrierStatus, StepStatus } from '../model/result';
import { formatDuration, truncateToWidth } from './terminal-text';
import type { Timeline, TimelineArrival, TimelineBar, TimelineBarrier, TimelineRow } from './timeline';

const LABEL_WIDTH = 240;
const PLOT_WIDTH = 900;
const RIGHT_MARGIN = 40;
const TOP = 56; // room for the axis and the barrier labels
const ROW_HEIGHT = 34;
/** Longer workflow names are cut in the label column (the row's tooltip has them whole). */
const LABEL_CHARS = 24;
const BAR_HEIGHT = 18;
/** Barrier names go under the plot, on up to this many staggered lines so that neighbours do not overlap. */
const LABEL_LINES = 3;
const LABEL_LINE_HEIGHT = 14;
const BOTTOM = 12 + LABEL_LINES * LABEL_LINE_HEIGHT;

/** Step outcomes and their colours; failures stand out in red. */
const STEP_COLOURS: Record<StepStatus, string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  ignored: '#ef8f00',
  skipped: '#b0b4ba',
  running: '#1565c0',
  waiting: '#7e57c2',
};

const BARRIER_COLOURS: Record<Exclude<BarrierStatus, 'standing'>, string> = {
  crossed: '#2e7d32',
  forced: '#1565c0',
  broken: '#c62828',
  'timed-out': '#c62828',
};

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The whole report page. */
export function renderReportHtml(timeline: Timeline, generatedAt: string): string {
  const title = `Convoy pipeline ${timeline.pipelineId}${timeline.name ? ` (${timeline.name})` : ''}`;
  const duration = formatDuration(timeline.endMs - timeline.startMs);
  const standing = timeline.barriers.filter((b) => b.atMs === undefined);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #57606a; margin-bottom: 16px; }
.status-failed, .status-aborted { color: #c62828; font-weight: 600; }
.status-succeeded { color: #2e7d32; font-weight: 600; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
svg .axis text { fill: #57606a; }
svg .axis line { stroke: #d0d7de; }
svg .row-label .workflow-status { fill: #57606a; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 8px 20px; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<div class="meta"><span class="status-${escapeXml(timeline.status)}">${escapeXml(timeline.status)}</span> · ${escapeXml(duration)} · started ${escapeXml(new Date(timeline.startMs).toISOString())} · report written ${escapeXml(generatedAt)}</div>
${renderTimelineSvg(timeline)}
${renderLegend()}
${standing.length > 0 ? `<p>Still standing: ${standing.map((b) => escapeXml(`${b.stage}/${b.identifier}`)).join(', ')}</p>` : ''}
${renderBarrierTable(timeline)}
</body>
</html>
`;
}

/** The SVG timeline alone. */
export function renderTimelineSvg(timeline: Timeline): string {
  const span = Math.max(1, timeline.endMs - timeline.startMs);
  const x = (ms: number) => round(LABEL_WIDTH + ((ms - timeline.startMs) / span) * PLOT_WIDTH);
  const width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN;
  const plotBottom = TOP + timeline.rows.length * ROW_HEIGHT;
  const height = plotBottom + BOTTOM;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline of pipeline ${escapeXml(timeline.pipelineId)}">`,
    renderAxis(timeline, x, plotBottom),
  ];
  timeline.rows.forEach((row, index) => parts.push(renderRow(row, TOP + index * ROW_HEIGHT, x, timeline)));
  timeline.barriers
    .filter((barrier) => barrier.atMs !== undefined)
    .forEach((barrier, index) => {
      const labelY = plotBottom + LABEL_LINE_HEIGHT * (1 + (index % LABEL_LINES));
      parts.push(renderBarrierLine(barrier, barrier.atMs!, x, labelY, timeline));
    });
  parts.push('</svg>');
  return parts.join('\n');
}

function renderAxis(timeline: Timeline, x: (ms: number) => number, plotBottom: number): string {
  const span = timeline.endMs - timeline.startMs;
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let offset = 0; offset <= span; offset += step) {
    const at = x(timeline.startMs + offset);
    ticks.push(
      `<line x1="${at}" y1="${TOP - 6}" x2="${at}" y2="${plotBottom}"/><text x="${at}" y="${TOP - 10}" text-anchor="middle">+${escapeXml(formatOffset(offset))}</text>`,
    );
  }
  return `<g class="axis">${ticks.join('')}</g>`;
}

/** A tick every 1, 2 or 5 × 10^n ms, about eight across the plot. */
function tickStep(spanMs: number): number {
  const rough = Math.max(1, spanMs / 8);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const nice = [1, 2, 5, 10].find((m) => m * magnitude >= rough) ?? 10;
  return nice * magnitude;
}

function formatOffset(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return formatDuration(ms);
}

function renderRow(row: TimelineRow, top: number, x: (ms: number) => number, timeline: Timeline): string {
  const middle = top + ROW_HEIGHT / 2;
  const parts = [
    `<g class="row" data-workflow="${escapeXml(row.workflow)}" data-status="${escapeXml(row.status)}">`,
    `<title>${escapeXml(`${row.workflow} (stage ${row.stage}): ${row.status}`)}</title>`,
    `<text class="row-label" x="8" y="${middle + 4}">${escapeXml(truncateToWidth(row.workflow, LABEL_CHARS))} <tspan class="workflow-status">${escapeXml(row.status)}</tspan></text>`,
  ];
  for (const bar of row.bars) parts.push(renderBar(bar, middle, x, timeline));
  for (const arrival of row.arrivals) parts.push(renderArrival(row.workflow, arrival, middle, x, timeline));
  parts.push('</g>');
  return parts.join('');
}

function renderBar(bar: TimelineBar, middle: number, x: (ms: number) => number, timeline: Timeline): string {
  const left = x(bar.startMs);
  // A step of a few ms would be invisible: draw it at least 3 px wide.
  const width = Math.max(3, x(bar.endMs) - left);
  const tooltip = [
    `${bar.rollback ? 'rollback step' : 'step'} ${bar.step} (${bar.type}): ${bar.status}${bar.ongoing ? ' (still going)' : ''}`,
    `from +${formatOffset(bar.startMs - timeline.startMs)} for ${formatOffset(bar.endMs - bar.startMs)}`,
    ...(bar.attempts > 1 ? [`${bar.attempts} attempts`] : []),
    ...(bar.error ? [bar.error] : []),
  ].join('\n');
  const outline = bar.rollback ? ' stroke="#4a148c" stroke-width="2" stroke-dasharray="4 2"' : '';
  return `<rect class="step step-${bar.status}" data-step="${escapeXml(bar.step)}" data-status="${bar.status}" x="${left}" y="${middle - BAR_HEIGHT / 2}" width="${round(width)}" height="${BAR_HEIGHT}" rx="3" fill="${STEP_COLOURS[bar.status]}"${outline}><title>${escapeXml(tooltip)}</title></rect>`;
}

function renderArrival(
  workflow: string,
  arrival: TimelineArrival,
  middle: number,
  x: (ms: number) => number,
  timeline: Timeline,
): string {
  const at = x(arrival.atMs);
  const r = 7;
  const points = `${at},${middle - r} ${at + r},${middle} ${at},${middle + r} ${at - r},${middle}`;
  const tooltip = `${workflow} arrived at barrier ${arrival.stage}/${arrival.identifier} at +${formatOffset(arrival.atMs - timeline.startMs)}`;
  return `<polygon class="arrival" data-barrier="${escapeXml(`${arrival.stage}/${arrival.identifier}`)}" points="${points}" fill="#fff" stroke="#1f2328" stroke-width="1.5"><title>${escapeXml(tooltip)}</title></polygon>`;
}

function renderBarrierLine(
  barrier: TimelineBarrier,
  atMs: number,
  x: (ms: number) => number,
  labelY: number,
  timeline: Timeline,
): string {
  const at = x(atMs);
  // Past the middle of the plot the name sits left of its line, so that it stays on the page.
  const labelAnchor = at > LABEL_WIDTH + PLOT_WIDTH / 2 ? `x="${at - 4}" text-anchor="end"` : `x="${at + 4}"`;
  const colour = BARRIER_COLOURS[barrier.status as Exclude<BarrierStatus, 'standing'>];
  const name = `${barrier.stage}/${barrier.identifier}`;
  const tooltip = `barrier ${name}: ${barrier.status} at +${formatOffset(atMs - timeline.startMs)}${barrier.reason ? ` (${barrier.reason})` : ''}\nparticipants: ${barrier.participants.join(', ')}`;
  return `<g class="barrier barrier-${barrier.status}" data-barrier="${escapeXml(name)}" data-status="${barrier.status}"><title>${escapeXml(tooltip)}</title><line x1="${at}" y1="${TOP - 4}" x2="${at}" y2="${labelY}" stroke="${colour}" stroke-width="2" stroke-dasharray="6 3"/><text ${labelAnchor} y="${labelY}" style="fill: ${colour}">${escapeXml(barrier.identifier)}</text></g>`;
}

function renderLegend(): string {
  const swatch = (fill: string, extra = '') =>
    `<svg width="22" height="14" aria-hidden="true"><rect x="1" y="1" width="20" height="12" rx="3" fill="${fill}"${extra}/></svg>`;
  const items = [
    ...Object.entries(STEP_COLOURS).map(([status, colour]) => `${swatch(colour)} step ${escapeXml(status)}`),
    `${swatch('#ffffff', ' stroke="#4a148c" stroke-width="2" stroke-dasharray="4 2"')} rollback step`,
    `<svg width="22" height="16" aria-hidden="true"><polygon points="11,1 18,8 11,15 4,8" fill="#fff" stroke="#1f2328" stroke-width="1.5"/></svg> arrival at a barrier`,
    ...Object.entries(BARRIER_COLOURS).map(
      ([status, colour]) =>
        `<svg width="22" height="16" aria-hidden="true"><line x1="11" y1="0" x2="11" y2="16" stroke="${colour}" stroke-width="2" stroke-dasharray="6 3"/></svg> barrier ${escapeXml(status)}`,
    ),
  ];
  return `<ul class="legend">${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function renderBarrierTable(timeline: Timeline): string {
  if (timeline.barriers.length === 0) return '';
  const rows = timeline.barriers.map((b) => {
    const at = b.atMs === undefined ? '' : `+${formatOffset(b.atMs - timeline.startMs)}`;
    const cells = [`${b.stage}/${b.identifier}`, b.status, at, b.participants.join(', '), b.reason ?? ''];
    return `<tr>${cells.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`;
  });
  return `<table class="barriers"><thead><tr><th>barrier</th><th>status</th><th>resolved</th><th>participants</th><th>reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
