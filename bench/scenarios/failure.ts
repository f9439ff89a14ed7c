/**
 * Failure propagation: a failing step → each waiting peer's outcome, for Convoy and then for the
 * raw floor (a failing activity → the failer tells the parent → the parent signals each peer),
 * in the same worker process.
 */
import { convoySystem, rawSystem } from '../barrier-systems';
import { runFailure } from '../barrier-workloads';
import type { BenchConfig } from '../config';
import { withBenchWorker, type BenchContext } from '../context';
import { nullable, p50p99, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function failureScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'failure', async (taskQueue, worker) => {
    const run = await runFailure(
      ctx,
      convoySystem(ctx, taskQueue, worker),
      config.failurePipelines,
      config.failurePeers,
    );
    const floor = await runFailure(
      ctx,
      rawSystem(ctx, taskQueue, worker),
      config.failurePipelines,
      config.failurePeers,
    );
    const s = summarize(run.latencies);
    const a = summarize(run.fromAbandon);
    const fs = summarize(floor.latencies);
    record.results.failurePropagation = { ...p50p99(s), floorP50Ms: nullable(fs.p50Ms) };
    record.details.failure = {
      pipelines: config.failurePipelines,
      samples: s.samples,
      fromAbandonP50Ms: a.p50Ms,
      fromAbandonP99Ms: a.p99Ms,
      maxMs: s.maxMs,
      kinds: run.kinds,
      missing: run.missing,
      floor: {
        samples: fs.samples,
        p99Ms: fs.p99Ms,
        fromAbandonP50Ms: summarize(floor.fromAbandon).p50Ms,
        kinds: floor.kinds,
      },
    };
    const unexpected = run.statuses.filter((st) => st !== 'failed');
    if (unexpected.length) record.note(`failure: pipelines ended ${unexpected.join(', ')} (expected failed)`);
    for (const [label, r] of [
      ['failure', run],
      ['failure (floor)', floor],
    ] as const)
      if (r.missing) record.note(`${label}: ${r.missing} waiting peers never received an outcome`);
    log(
      `failure propagation: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} peers; kinds ${JSON.stringify(run.kinds)}; ` +
        `floor p50 ${fs.p50Ms} ms, p99 ${fs.p99Ms} ms`,
    );
  });
}
