/** Timeout precision: how late barriers time out for the participant waiting at them. */
import type { BenchConfig } from '../config';
import { runTimeouts, withConvoyWorker, type ConvoyContext, type TimeoutRun } from '../convoy-scenarios';
import { nullable, p50p99, percentile, round, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

type Observation = TimeoutRun['observations'][number];

/** Lateness of the barriers whose timeoutMs is in `range`, with the p50 of each leg. */
function lateness(range: string, group: readonly Observation[]) {
  const b = summarize(group.map((o) => o.latenessMs).filter(Number.isFinite));
  const leg = (pick: (l: NonNullable<Observation['legs']>) => number) =>
    round(
      percentile(
        group.flatMap((o) => (o.legs ? [pick(o.legs)] : [])),
        50,
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
  };
}

export async function timeoutScenario(
  ctx: ConvoyContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withConvoyWorker(ctx, 'timeout', async (taskQueue) => {
    const run = await runTimeouts(ctx, taskQueue, config.timeoutPipelines);
    const timedOut = run.observations.filter((o) => o.kind === 'timed-out');
    const s = summarize(timedOut.map((o) => o.latenessMs).filter(Number.isFinite));
    const p = summarize(timedOut.map((o) => o.latenessFromPayloadMs).filter(Number.isFinite));
    record.results.timeoutLateness = {
      ...p50p99(s),
      maxMs: nullable(s.maxMs),
      samples: s.samples,
    };
    const kinds: Record<string, number> = {};
    for (const o of run.observations) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
    record.details.timeout = {
      pipelines: config.timeoutPipelines,
      fromPayloadP50Ms: p.p50Ms,
      fromPayloadP99Ms: p.p99Ms,
      fromPayloadMaxMs: p.maxMs,
      minMs: s.minMs,
      kinds,
      byTimeout: [
        lateness(
          '500–999 ms',
          timedOut.filter((o) => o.timeoutMs < 1000),
        ),
        lateness(
          '1000–1500 ms',
          timedOut.filter((o) => o.timeoutMs >= 1000),
        ),
      ],
    };
    if (timedOut.length !== run.observations.length)
      record.note(`timeout: outcomes ${JSON.stringify(kinds)} (expected all timed-out)`);
    record.note(
      `timeout: leftover pipelines cancelled ${run.leftovers.cancelled}, terminated ${run.leftovers.terminated}`,
    );
    log(
      `timeout lateness: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms over ${s.samples} barriers; kinds ${JSON.stringify(kinds)}`,
    );
  });
}
