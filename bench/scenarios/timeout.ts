/**
 * Timeout precision: how late barriers time out for the participant waiting at them, next to a
 * raw coordinator timing out a waiter after the same timeout (the floor) and a raw timer of the
 * same length (a reference line), both started alongside each.
 */
import type { BenchConfig } from '../config';
import { runTimeouts, type TimeoutLoad, type TimeoutRun } from '../convoy-scenarios';
import type { TimeoutDetails, TimeoutLateness } from '../report';
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

type Legs = NonNullable<Observation['legs']>;

/** The barriers that timed out for their waiter, as every barrier of the benchmark should. */
function timedOutOf(observations: readonly Observation[]): Observation[] {
  return observations.filter((o) => o.kind === 'timed-out');
}

/** Lateness over the observations that have an outcome. */
function latenessOf(observations: readonly Observation[]) {
  return summarize(observations.map((o) => o.latenessMs).filter(Number.isFinite));
}

/** Percentile `p` of one leg over the observations that have their legs. */
function legOf(group: readonly Observation[], pick: (legs: Legs) => number, p = 50): number {
  return round(
    percentile(
      group.flatMap((o) => (o.legs ? [pick(o.legs)] : [])),
      p,
    ),
  );
}

/** Lateness of the barriers of one bucket, with the p50 of each leg, the raw timers' and the raw coordinators'. */
function lateness(
  range: string,
  group: readonly Observation[],
  rawTimers: readonly TimeoutRun['rawTimers'][number][],
  rawCoordinator: readonly Observation[],
) {
  const b = latenessOf(group);
  const t = summarize(rawTimers.map((r) => r.latenessMs));
  const c = latenessOf(rawCoordinator);
  const leg = (pick: (legs: Legs) => number, p = 50) => legOf(group, pick, p);
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
    rawCoordinatorP50Ms: c.p50Ms,
    rawCoordinatorP99Ms: c.p99Ms,
    rawArmP99Ms: legOf(rawCoordinator, (l) => l.armMs, 99),
    rawDecideP50Ms: legOf(rawCoordinator, (l) => l.decideMs),
  };
}

/** The figures of one timeout run: the results' summary and the details by timeoutMs. */
function figuresOf(
  run: TimeoutRun,
  pipelines: number,
): { lateness: TimeoutLateness; details: TimeoutDetails } {
  const timedOut = timedOutOf(run.observations);
  const s = latenessOf(timedOut);
  const p = summarize(timedOut.map((o) => o.latenessFromPayloadMs).filter(Number.isFinite));
  const t = summarize(run.rawTimers.map((r) => r.latenessMs));
  const rawTimedOut = timedOutOf(run.rawCoordinator);
  const c = latenessOf(rawTimedOut);
  const kinds: Record<string, number> = {};
  for (const o of run.observations) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  const inBucket =
    ({ fromMs, toMs }: (typeof TIMEOUT_BUCKETS)[number]) =>
    (o: { timeoutMs: number }) =>
      o.timeoutMs >= fromMs && o.timeoutMs < toMs;
  return {
    lateness: {
      ...p50p99(s),
      maxMs: nullable(s.maxMs),
      samples: s.samples,
      rawTimerP50Ms: nullable(t.p50Ms),
      rawTimerP99Ms: nullable(t.p99Ms),
      rawCoordinatorP50Ms: nullable(c.p50Ms),
      rawCoordinatorP99Ms: nullable(c.p99Ms),
    },
    details: {
      pipelines,
      fromPayloadP50Ms: p.p50Ms,
      fromPayloadP99Ms: p.p99Ms,
      fromPayloadMaxMs: p.maxMs,
      minMs: s.minMs,
      kinds,
      byTimeout: TIMEOUT_BUCKETS.map((bucket) =>
        lateness(
          bucket.range,
          timedOut.filter(inBucket(bucket)),
          run.rawTimers.filter(inBucket(bucket)),
          rawTimedOut.filter(inBucket(bucket)),
        ),
      ),
    },
  };
}

/** Notes what did not go as planned in one run. */
function noteAnomalies(
  record: BenchRecord,
  load: TimeoutLoad,
  run: TimeoutRun,
  kinds: Record<string, number>,
) {
  const barriers = run.observations.length;
  if ((kinds['timed-out'] ?? 0) !== barriers)
    record.note(`timeout (${load}): outcomes ${JSON.stringify(kinds)} (expected all timed-out)`);
  const rawTimedOut = timedOutOf(run.rawCoordinator).length;
  if (rawTimedOut !== barriers)
    record.note(`timeout (${load}): ${rawTimedOut} raw coordinators timed out for ${barriers} barriers`);
  if (run.rawTimers.length !== barriers)
    record.note(`timeout (${load}): ${run.rawTimers.length} raw timers fired for ${barriers} barriers`);
  record.note(
    `timeout (${load}): leftover pipelines cancelled ${run.leftovers.cancelled}, terminated ${run.leftovers.terminated}`,
  );
}

/**
 * Timeout lateness twice: one pipeline at a time (the timers' precision, which issue 9's absolute
 * target is about) and under load (about ten in flight); each against a raw coordinator and a
 * raw timer of the same timeouts in the same run.
 */
export async function timeoutScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'timeout', async (taskQueue) => {
    for (const [load, pipelines] of [
      ['alone', config.timeoutAlonePipelines],
      ['under-load', config.timeoutPipelines],
    ] as const) {
      const run = await runTimeouts(ctx, taskQueue, pipelines, load);
      const { lateness: l, details } = figuresOf(run, pipelines);
      if (load === 'alone') {
        record.results.timeoutLateness = l;
        record.details.timeout = details;
      } else {
        record.results.timeoutLatenessUnderLoad = l;
        record.details.timeoutUnderLoad = details;
      }
      noteAnomalies(record, load, run, details.kinds);
      log(
        `timeout lateness (${load}): p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms over ${l.samples} barriers; kinds ${JSON.stringify(details.kinds)}; ` +
          `raw timers p50 ${l.rawTimerP50Ms} ms, p99 ${l.rawTimerP99Ms} ms; raw coordinators p50 ${l.rawCoordinatorP50Ms} ms, p99 ${l.rawCoordinatorP99Ms} ms`,
      );
    }
  });
}
