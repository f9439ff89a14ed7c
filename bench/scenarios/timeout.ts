/**
 * Timeout precision: how late barriers time out for the participant waiting at them, next to a
 * raw timer of the same length started alongside each (the floor).
 */
import type { BenchConfig } from '../config';
import { runTimeouts, type TimeoutRun } from '../convoy-scenarios';
import { withBenchWorker, type BenchContext } from '../context';
import { nullable, p50p99, percentile, round, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

type Observation = TimeoutRun['observations'][number];

/** The buckets of barrier timeoutMs the report splits lateness by: [from, to). */
export const TIMEOUT_BUCKETS: { range: string; fromMs: number; toMs: number }[] = [
  { range: '100–999 ms', fromMs: 0, toMs: 1000 },
  { range: '1000–2999 ms', fromMs: 1000, toMs: 3000 },
  { range: '3000–5000 ms', fromMs: 3000, toMs: Infinity },
];

/** Lateness of the barriers of one bucket, with the p50 of each leg and the raw timers'. */
function lateness(
  range: string,
  group: readonly Observation[],
  rawTimers: readonly TimeoutRun['rawTimers'][number][],
) {
  const b = summarize(group.map((o) => o.latenessMs).filter(Number.isFinite));
  const t = summarize(rawTimers.map((r) => r.latenessMs));
  const leg = (pick: (l: NonNullable<Observation['legs']>) => number, p = 50) =>
    round(
      percentile(
        group.flatMap((o) => (o.legs ? [pick(o.legs)] : [])),
        p,
      ),
    );
  return {
    range,
    samples: b.samples,
    p50Ms: b.p50Ms,
    p99Ms: b.p99Ms,
    maxMs: b.maxMs,
    timerP50Ms: leg((l) => l.timerMs),
    decideP50Ms: leg((l) => l.decideMs),
    transitP50Ms: leg((l) => l.transitMs),
    armP50Ms: leg((l) => l.armMs),
    armP99Ms: leg((l) => l.armMs, 99),
    serverTimerP50Ms: leg((l) => l.serverTimerMs),
    rawTimerP50Ms: t.p50Ms,
    rawTimerP99Ms: t.p99Ms,
  };
}

export async function timeoutScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'timeout', async (taskQueue) => {
    const run = await runTimeouts(ctx, taskQueue, config.timeoutPipelines);
    const timedOut = run.observations.filter((o) => o.kind === 'timed-out');
    const s = summarize(timedOut.map((o) => o.latenessMs).filter(Number.isFinite));
    const p = summarize(timedOut.map((o) => o.latenessFromPayloadMs).filter(Number.isFinite));
    const t = summarize(run.rawTimers.map((r) => r.latenessMs));
    record.results.timeoutLateness = {
      ...p50p99(s),
      maxMs: nullable(s.maxMs),
      samples: s.samples,
      rawTimerP50Ms: nullable(t.p50Ms),
      rawTimerP99Ms: nullable(t.p99Ms),
    };
    const kinds: Record<string, number> = {};
    for (const o of run.observations) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
    const inBucket =
      ({ fromMs, toMs }: (typeof TIMEOUT_BUCKETS)[number]) =>
      (o: { timeoutMs: number }) =>
        o.timeoutMs >= fromMs && o.timeoutMs < toMs;
    record.details.timeout = {
      pipelines: config.timeoutPipelines,
      fromPayloadP50Ms: p.p50Ms,
      fromPayloadP99Ms: p.p99Ms,
      fromPayloadMaxMs: p.maxMs,
      minMs: s.minMs,
      kinds,
      byTimeout: TIMEOUT_BUCKETS.map((bucket) =>
        lateness(bucket.range, timedOut.filter(inBucket(bucket)), run.rawTimers.filter(inBucket(bucket))),
      ),
    };
    if (timedOut.length !== run.observations.length)
      record.note(`timeout: outcomes ${JSON.stringify(kinds)} (expected all timed-out)`);
    if (run.rawTimers.length !== run.observations.length)
      record.note(
        `timeout: ${run.rawTimers.length} raw timers fired for ${run.observations.length} barriers`,
      );
    record.note(
      `timeout: leftover pipelines cancelled ${run.leftovers.cancelled}, terminated ${run.leftovers.terminated}`,
    );
    log(
      `timeout lateness: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms over ${s.samples} barriers; kinds ${JSON.stringify(kinds)}; ` +
        `raw timers p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms`,
    );
  });
}
