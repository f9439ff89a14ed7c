/**
 * Percentiles and summaries of latency samples. Pure: no I/O, so unit tests pin its behaviour.
 *
 * Percentiles use the nearest-rank method: the p-th percentile is an observed sample (the
 * smallest one with at least p% of the samples at or below it), never an interpolation, so a
 * p99 over few samples honestly reports the worst of them.
 */

/** Nearest-rank percentile of `values` (need not be sorted); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** What the reports say about a set of samples. */
export interface Summary {
  samples: number;
  minMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Rounds to `digits` decimals (reports carry 0.1 ms: history timestamps are ms-precise at best). */
export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Summary of `values`, rounded for reporting; every figure is NaN when there are no samples. */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  const mean = n ? values.reduce((sum, v) => sum + v, 0) / n : Number.NaN;
  return {
    samples: n,
    minMs: round(n ? Math.min(...values) : Number.NaN),
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
    maxMs: round(n ? Math.max(...values) : Number.NaN),
    meanMs: round(mean),
  };
}

/** `a / b` rounded to 2 decimals, or null when either side is missing. */
export function ratio(a: number, b: number): number | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, 2);
}

/** A figure for the results document: rounded, or null when missing (undefined, NaN or infinite). */
export function nullable(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : round(value);
}

/** The p50 and p99 of a summary, for the results document. */
export function p50p99(s: Summary): { p50Ms: number | null; p99Ms: number | null } {
  return { p50Ms: nullable(s.p50Ms), p99Ms: nullable(s.p99Ms) };
}
