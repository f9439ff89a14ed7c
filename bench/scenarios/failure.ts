/** Failure propagation: a failing step → each waiting peer's outcome. */
import type { BenchConfig } from '../config';
import { runFailure, withConvoyWorker, type ConvoyContext } from '../convoy-scenarios';
import { p50p99, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function failureScenario(
  ctx: ConvoyContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withConvoyWorker(ctx, 'failure', async (taskQueue) => {
    const run = await runFailure(ctx, taskQueue, config.failurePipelines, config.failurePeers);
    const s = summarize(run.latencies);
    const a = summarize(run.fromAbandon);
    record.results.failurePropagation = p50p99(s);
    record.details.failure = {
      pipelines: config.failurePipelines,
      samples: s.samples,
      fromAbandonP50Ms: a.p50Ms,
      fromAbandonP99Ms: a.p99Ms,
      maxMs: s.maxMs,
      kinds: run.kinds,
      missing: run.missing,
    };
    const unexpected = run.statuses.filter((st) => st !== 'failed');
    if (unexpected.length) record.note(`failure: pipelines ended ${unexpected.join(', ')} (expected failed)`);
    if (run.missing) record.note(`failure: ${run.missing} waiting peers never received an outcome`);
    log(
      `failure propagation: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} peers; kinds ${JSON.stringify(run.kinds)}`,
    );
  });
}
