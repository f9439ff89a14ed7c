/**
 * Worker memory: how much the worker's resident set grows per workflow it keeps cached (one large
 * pipeline waiting at a barrier) and per small pipeline in flight (many waiting at once), each on
 * a fresh worker process; and what a running shell step's processes take outside the worker.
 */
import { rssGrowthPerMb } from '../analysis';
import type { BenchConfig } from '../config';
import { runMemory, type CachedMemory } from '../convoy-scenarios';
import type { BenchContext } from '../context';
import type { MemoryDetail } from '../report';
import { nullable } from '../stats';
import { STEP_COMMANDS, measureStepMemory } from '../step-memory';
import { log } from '../util';
import type { BenchRecord } from './record';

/** Workflows of each in-flight pipeline (as the throughput benchmark's). */
export const IN_FLIGHT_WORKFLOWS = 10;

const growthPer = (m: CachedMemory, units: number) =>
  rssGrowthPerMb(m.beforeRssMb, m.whileCachedRssMb, units);

const detail = (m: CachedMemory): MemoryDetail => ({
  pipelines: m.pipelines,
  workflows: m.workflows,
  beforeRssMb: nullable(m.beforeRssMb),
  whileCachedRssMb: nullable(m.whileCachedRssMb),
});

export async function memoryScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  // Steps first: they need no server, so a failure of the rest still leaves them measured.
  const steps = [];
  for (const command of STEP_COMMANDS) steps.push(await measureStepMemory(command));
  record.results.memory.stepRssMb = Math.max(...steps.map((s) => s.rssMb));
  record.results.memory.stepPrivateMb = Math.max(...steps.map((s) => s.privateMb));
  record.details.memory = { steps };
  log(
    `memory: a shell step's processes ${record.results.memory.stepRssMb} MiB RSS, ` +
      `${record.results.memory.stepPrivateMb} MiB private (largest of ${steps.length} commands)`,
  );

  const cached = await runMemory(ctx, 'cached', 1, config.memory.workflows);
  const inFlight = await runMemory(ctx, 'in-flight', config.memory.pipelines, IN_FLIGHT_WORKFLOWS);
  record.results.memory.rssPerCachedWorkflowMb = growthPer(cached, cached.workflows);
  record.results.memory.rssPerInFlightPipelineMb = growthPer(inFlight, inFlight.pipelines);
  record.details.memory = { steps, cached: detail(cached), inFlight: detail(inFlight) };
  log(
    `memory: ${record.results.memory.rssPerCachedWorkflowMb} MiB per cached workflow, ` +
      `${record.results.memory.rssPerInFlightPipelineMb} MiB per in-flight pipeline of ${IN_FLIGHT_WORKFLOWS} workflows`,
  );
}
