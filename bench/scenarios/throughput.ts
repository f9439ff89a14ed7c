/** Throughput: many small pipelines at once, on a fresh worker. */
import type { BenchConfig } from '../config';
import { runThroughput } from '../convoy-scenarios';
import type { BenchContext } from '../context';
import { nullable, round } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function throughputScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const run = await runThroughput(ctx, config.throughputPipelines);
  record.results.throughput = {
    pipelines: run.pipelines,
    pipelinesPerMinute: round((run.pipelines / run.wallSeconds) * 60, 1),
  };
  record.details.throughput = {
    wallSeconds: round(run.wallSeconds, 1),
    statuses: run.statuses,
    cpu: {
      serverSeconds: nullable(run.use.serverSeconds),
      workerSeconds: nullable(run.use.workerSeconds),
    },
  };
  if (run.statuses.succeeded !== run.pipelines)
    record.note(`throughput: pipelines ended ${JSON.stringify(run.statuses)}`);
  log(
    `throughput: ${run.pipelines} pipelines in ${round(run.wallSeconds)} s = ${record.results.throughput.pipelinesPerMinute}/min ${JSON.stringify(run.statuses)}`,
  );
}
