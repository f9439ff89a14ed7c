/**
 * Barrier workloads that run alike on Convoy and on the raw floor ({@link BarrierSystem}):
 * release latency (from quiet, back-to-back, at scale) and failure propagation. Each runs a
 * schedule (bench/plans.ts), waits for the pipeline to end, and reads the outcome from the
 * histories (bench/analysis.ts).
 */
import {
  analyzeFailure,
  analyzeRelease,
  workflowTaskStats,
  type ReleaseRound,
  type WorkflowTaskStats,
} from './analysis';
import type { BarrierSystem } from './barrier-systems';
import { childHistories, type BenchContext } from './context';
import { EventType, firstOfType, type BenchEvent } from './history';
import { FAILER_INDEX, failureWaits, participantName, roundIdentifier, type Waits } from './plans';
import { fetchEvents, log } from './util';

export interface ReleaseRun {
  participants: number;
  /** One per analysed barrier. */
  rounds: ReleaseRound[];
  status: string;
  /** The parent (coordinator) workflow's history and its tasks. */
  parentEvents: BenchEvent[];
  parentTasks: WorkflowTaskStats;
  /** The longest participant history. */
  childEventsMax: number;
  /** Parent started → parent closed (server times). */
  wallSeconds: number;
}

/**
 * Runs `waits` on `system` as pipeline `pipelineId` and measures the release of every barrier
 * but the first `skip` (a back-to-back run leaves out its first barrier, crossed from quiet).
 */
export async function runRelease(
  ctx: BenchContext,
  system: BarrierSystem,
  pipelineId: string,
  waits: Waits,
  skip = 0,
): Promise<ReleaseRun> {
  const participants = waits.length;
  const barriers = waits[0]?.length ?? 0;
  const status = await system.run(pipelineId, `bench-release-${participants}`, waits);
  const names = waits.map((_, i) => participantName(i, participants));
  const [parentEvents, children] = await Promise.all([
    fetchEvents(ctx.client, pipelineId),
    childHistories(ctx, pipelineId, names, system.childId),
  ]);
  const parent = { events: parentEvents, childId: (n: string) => system.childId(pipelineId, n) };
  const rounds: ReleaseRound[] = [];
  for (let b = skip; b < barriers; b++)
    rounds.push(analyzeRelease(children, roundIdentifier(b), parent, system.protocol));
  const started = firstOfType(parentEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const closed = parentEvents[parentEvents.length - 1];
  return {
    participants,
    rounds,
    status,
    parentEvents,
    parentTasks: workflowTaskStats(parentEvents),
    childEventsMax: Math.max(...[...children.values()].map((e) => e.length)),
    wallSeconds: started && closed ? (closed.timeMs - started.timeMs) / 1000 : Number.NaN,
  };
}

export interface FailureRun {
  latencies: number[];
  fromAbandon: number[];
  kinds: Record<string, number>;
  missing: number;
  statuses: string[];
}

/** Failure propagation: `pipelines` pipelines one after the other, each with one failer and `peers` waiting peers. */
export async function runFailure(
  ctx: BenchContext,
  system: BarrierSystem,
  pipelines: number,
  peers: number,
): Promise<FailureRun> {
  const run: FailureRun = { latencies: [], fromAbandon: [], kinds: {}, missing: 0, statuses: [] };
  const waits = failureWaits(peers, 2500);
  const names = waits.map((_, i) => participantName(i, waits.length));
  const failer = names[FAILER_INDEX]!;
  for (let i = 0; i < pipelines; i++) {
    const pipelineId = `${ctx.tag}-${system.kind}-failure-${i + 1}`;
    log(`failure (${system.kind}): pipeline ${i + 1}/${pipelines} (1 failer, ${peers} peers)`);
    run.statuses.push(await system.run(pipelineId, `bench-failure-${peers + 1}`, waits, FAILER_INDEX));
    const [failerEvents, peerHistories] = await Promise.all([
      fetchEvents(ctx.client, system.childId(pipelineId, failer)),
      childHistories(
        ctx,
        pipelineId,
        names.filter((n) => n !== failer),
        system.childId,
      ),
    ]);
    const observed = analyzeFailure(failerEvents, peerHistories, roundIdentifier(0), system.protocol);
    run.latencies.push(...observed.latencies.filter(Number.isFinite));
    run.fromAbandon.push(...observed.fromAbandon.filter(Number.isFinite));
    for (const [k, n] of Object.entries(observed.kinds)) run.kinds[k] = (run.kinds[k] ?? 0) + n;
    run.missing += observed.missing.length;
  }
  return run;
}
