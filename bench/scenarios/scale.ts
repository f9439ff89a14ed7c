/** Scale: one pipeline of many workflows crossing shared barriers, on a fresh worker. */
import type { BenchConfig } from '../config';
import { runScale, type ConvoyContext } from '../convoy-scenarios';
import { nullable, percentile, round } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function scaleScenario(
  ctx: ConvoyContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const run = await runScale(ctx, config.scale.workflows, config.scale.barriers);
  record.results.scale = {
    workflows: run.workflows,
    barriersPerWorkflow: run.barriers,
    wallSeconds: round(run.wallSeconds, 1),
    parentHistoryEvents: run.parentHistoryEvents,
    workerPeakRssMb: nullable(run.workerPeakRssMb),
  };
  record.details.scale = {
    status: run.status,
    parentHistoryWarn: 10_240,
    parentHistoryLimit: 51_200,
    childEventsMax: run.childEventsMax,
    parentEventsByType: run.parentEventsByType,
    workerBaselineRssMb: nullable(run.workerBaselineRssMb),
    parentTasks: run.parentTasks.durationsMs.length,
    parentTaskP50Ms: round(percentile(run.parentTasks.durationsMs, 50)),
    parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
    parentTasksFailed: run.parentTasks.failed,
    cpu: {
      serverSeconds: nullable(run.cpu.serverSeconds),
      workerSeconds: nullable(run.cpu.workerSeconds),
    },
  };
  record.forceClosedNote('scale', run.parentTasks.failed);
  if (run.status !== 'succeeded') record.note(`scale: the pipeline ended ${run.status}`);
  log(
    `scale: ${run.status} in ${round(run.wallSeconds)} s, parent ${run.parentHistoryEvents} events, worker peak RSS ${nullable(run.workerPeakRssMb)} MiB`,
  );
}
