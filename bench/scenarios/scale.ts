/**
 * Scale: one pipeline of many workflows crossing shared barriers, on a fresh worker; its parent
 * history against what `convoy validate` predicts (src/pipeline-file/history-budget.ts).
 */
import { releaseFigures } from '../analysis';
import type { BenchConfig } from '../config';
import { runScale } from '../convoy-scenarios';
import type { BenchContext } from '../context';
import { cachedWorkflowsFor } from '../../src/worker/sizing';
import { HISTORY_LIMIT_EVENTS, HISTORY_WARN_EVENTS } from '../../src/pipeline-file/history-budget';
import { nullable, percentile, ratio, round } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function scaleScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const run = await runScale(ctx, config.scale.workflows, config.scale.barriers);
  const { release } = run;
  const figures = releaseFigures(release.rounds);
  const parentHistoryEvents = release.parentEvents.length;
  record.results.scale = {
    workflows: run.workflows,
    barriersPerWorkflow: run.barriers,
    wallSeconds: round(release.wallSeconds, 1),
    parentHistoryEvents,
    workerPeakRssMb: nullable(run.workerPeakRssMb),
    workerMemoryLimitMb: run.memoryLimitMb,
    releaseP50Ms: nullable(figures.summary.p50Ms),
    releaseP99Ms: nullable(figures.summary.p99Ms),
    predictedParentHistoryEvents: run.predictedParentEvents,
    parentHistoryToPredicted: ratio(parentHistoryEvents, run.predictedParentEvents),
  };
  record.details.scale = {
    status: release.status,
    parentHistoryWarn: HISTORY_WARN_EVENTS,
    parentHistoryLimit: HISTORY_LIMIT_EVENTS,
    childEventsMax: release.childEventsMax,
    parentEventsByType: run.parentEventsByType,
    workerBaselineRssMb: nullable(run.workerBaselineRssMb),
    workerMemoryLimitMb: run.memoryLimitMb,
    workerCachedWorkflows: cachedWorkflowsFor(run.memoryLimitMb),
    parentTasks: release.parentTasks.durationsMs.length,
    parentTaskP50Ms: round(percentile(release.parentTasks.durationsMs, 50)),
    parentTaskMaxMs: round(Math.max(...release.parentTasks.durationsMs)),
    parentTasksFailed: release.parentTasks.failed,
    releaseSamples: figures.summary.samples,
    cpu: {
      serverSeconds: nullable(run.use.serverSeconds),
      workerSeconds: nullable(run.use.workerSeconds),
    },
  };
  record.forceClosedNote('scale', release.parentTasks.failed);
  if (run.workerPeakRssMb !== undefined && run.workerPeakRssMb > run.memoryLimitMb)
    record.note(
      `scale: the worker peaked at ${run.workerPeakRssMb} MiB RSS, over the ${run.memoryLimitMb} MiB that the manifests give its pod and that it was sized for`,
    );
  if (release.status !== 'succeeded') record.note(`scale: the pipeline ended ${release.status}`);
  if (figures.missing) record.note(`scale: ${figures.missing} barrier outcomes missing`);
  log(
    `scale: ${release.status} in ${round(release.wallSeconds)} s, parent ${parentHistoryEvents} events (predicted ≤ ${run.predictedParentEvents}), ` +
      `release p50 ${figures.summary.p50Ms} ms, p99 ${figures.summary.p99Ms} ms, worker peak RSS ${nullable(run.workerPeakRssMb)} MiB (limit ${run.memoryLimitMb} MiB)`,
  );
}
