/**
 * A hand-written SVG line chart of release latency (p50 and p99) against participants, with the
 * floor's p50 as a dashed reference line. Both axes are logarithmic by default: the figures
 * span three decades, and on log-log axes linear growth is a straight line of slope one. Pure:
 * returns the text.
 */

export interface ChartPoint {
  participants: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** The raw N-way barrier's p50 at the same participant count, when measured. */
  floorP50Ms?: number | null;
}

export interface ChartInput {
  points: ChartPoint[];
  floorP50Ms?: number | null;
  title?: string;
  subtitle?: string;
  /** Scale of the latency axis (default `log`). */
  yScale?: 'log' | 'linear';
}

/** Ticks of a log axis: 1, 2 and 5 times each power of ten from `min` to `max`. */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(Number(v.toPrecision(6)));
    }
  }
  return ticks;
}

const WIDTH = 820;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 240, top: 56, bottom: 56 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" upper bound and step for a linear axis from 0 to at least `max`. */
export function niceAxis(max: number, targetTicks = 5): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const rough = max / targetTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  return { top: Math.ceil(max / step) * step, step };
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}

/** Renders the chart. Points with a null figure are left out of that series. */
export function renderReleaseChart(input: ChartInput): string {
  const points = input.points
    .filter((p) => p.participants > 0)
    .sort((a, b) => a.participants - b.participants);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = points.map((p) => p.participants);
  const minX = xs.length ? Math.min(...xs) : 1;
  const maxX = xs.length ? Math.max(...xs) : 10;
  const logMin = Math.log10(minX);
  const logMax = Math.log10(maxX) === logMin ? logMin + 1 : Math.log10(maxX);
  const values = points
    .flatMap((p) => [p.p50Ms, p.p99Ms, p.floorP50Ms])
    .filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  if (input.floorP50Ms != null && Number.isFinite(input.floorP50Ms)) values.push(input.floorP50Ms);
  const x = (n: number): number => MARGIN.left + ((Math.log10(n) - logMin) / (logMax - logMin)) * plotW;
  const positive = values.filter((v) => v > 0);
  const logY = (input.yScale ?? 'log') === 'log' && positive.length > 0;
  let y: (ms: number) => number;
  let yTicks: number[];
  if (logY) {
    // Whole decades around the data, so the ticks read 1, 10, 100...
    const bottom = 10 ** Math.floor(Math.log10(Math.min(...positive)));
    const top = 10 ** Math.ceil(Math.log10(Math.max(...positive) * 1.0001));
    const span = Math.log10(top) - Math.log10(bottom) || 1;
    y = (ms) => MARGIN.top + plotH - ((Math.log10(Math.max(ms, bottom)) - Math.log10(bottom)) / span) * plotH;
    yTicks = logTicks(bottom, top);
  } else {
    const { top, step } = niceAxis(values.length ? Math.max(...values) * 1.05 : 1);
    y = (ms) => MARGIN.top + plotH - (ms / top) * plotH;
    yTicks = [];
    for (let v = 0; v <= top + step / 1000; v += step) yTicks.push(Number(v.toPrecision(6)));
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(input.title ?? 'Barrier release latency')}</text>`,
  );
  if (input.subtitle)
    out.push(`<text x="${MARGIN.left}" y="42" fill="#555">${escapeXml(input.subtitle)}</text>`);

  // Y grid and labels.
  for (const v of yTicks) {
    const yy = y(v).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${yy}" x2="${MARGIN.left + plotW}" y2="${yy}" stroke="#e5e5e5"/>`,
    );
    out.push(
      `<text x="${MARGIN.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
    );
  }
  // X ticks at the measured participant counts (log scale).
  for (const n of xs) {
    const xx = x(n).toFixed(1);
    out.push(`<line x1="${xx}" y1="${MARGIN.top}" x2="${xx}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${xx}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${n}</text>`);
  }
  // Axes.
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">participants (log scale)</text>`,
    `<text x="18" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotH / 2})">last arrival → released (ms${logY ? ', log scale' : ''})</text>`,
  );

  const series: { key: 'p50Ms' | 'p99Ms' | 'floorP50Ms'; label: string; color: string; dash?: string }[] = [
    { key: 'p50Ms', label: 'release p50', color: '#1f77b4' },
    { key: 'p99Ms', label: 'release p99', color: '#d62728' },
  ];
  if (points.some((p) => p.floorP50Ms != null))
    series.push({ key: 'floorP50Ms', label: 'same-N floor p50', color: '#9467bd', dash: '3 3' });
  const dashed = (dash: string | undefined) => (dash ? ` stroke-dasharray="${dash}"` : '');
  series.forEach((s, index) => {
    const pts = points.filter((p) => p[s.key] != null && Number.isFinite(p[s.key]!));
    if (pts.length > 1) {
      const path = pts.map((p) => `${x(p.participants).toFixed(1)},${y(p[s.key]!).toFixed(1)}`).join(' ');
      out.push(
        `<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${dashed(s.dash)}/>`,
      );
    }
    for (const p of pts) {
      out.push(
        `<circle cx="${x(p.participants).toFixed(1)}" cy="${y(p[s.key]!).toFixed(1)}" r="3.5" fill="${s.color}"><title>${p.participants} participants: ${s.label} ${fmt(p[s.key]!)} ms</title></circle>`,
      );
    }
    const ly = MARGIN.top + 10 + index * 20;
    const lx = MARGIN.left + plotW + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dashed(s.dash)}/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${s.label}</text>`);
  });
  if (input.floorP50Ms != null && Number.isFinite(input.floorP50Ms)) {
    const fy = y(input.floorP50Ms).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${fy}" x2="${MARGIN.left + plotW}" y2="${fy}" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    const ly = MARGIN.top + 10 + series.length * 20;
    const lx = MARGIN.left + plotW + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">one-pair floor p50 (${fmt(input.floorP50Ms)} ms)</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
