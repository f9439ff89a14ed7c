/**
 * Release latency of a release train (issue 14): `pipelines` independent Convoy pipelines of one
 * participant each, whose barriers form one train per round (the train workflow, `convoyTrain`).
 * The schedule is a {@link Waits} matrix as for every release benchmark, so the raw floor at the
 * same size (N raw workflows signalling one raw coordinator, which signals them back:
 * bench/floor-workflows.ts) runs exactly the same one.
 *
 * What is measured is the same as for a barrier: the last arrival (the latest arrival signal a
 * participant sent to its pipeline) → each participant's outcome signal received. On Convoy's
 * side that path is participant → its pipeline → (join activity) train → (the train asks the
 * pipeline to confirm its token) → train → every pipeline → every participant.
 */
import { startPipeline } from '../src/client/pipelines';
import type { StepPlan } from '../src/model/plan';
import { childWorkflowId } from '../src/model/protocol';
import { analyzeRelease, CONVOY, type ReleaseRound } from './analysis';
import { childHistories, pipelineResult, type BenchContext } from './context';
import {
  barrierStep,
  participantName,
  roundIdentifier,
  singleStagePlan,
  waitStep,
  workflow,
  type Waits,
} from './plans';
import type { WorkerProcess } from './worker-host';

/** The pipeline name of participant `index` of a train of `count`: each pipeline is one participant. */
export function trainPipelineName(index: number, count: number): string {
  return `bench-train-${participantName(index, count)}`;
}

/**
 * The plans of a train: pipeline i runs participant i of `waits` (its one workflow waits
 * `waits[i][b]`, then crosses barrier b), and every barrier b joins the train `train`.
 */
export function trainPlans(tag: string, train: string, waits: Waits) {
  const expect = waits.map((_, i) => trainPipelineName(i, waits.length));
  return waits.map((perBarrier, i) => {
    const steps: StepPlan[] = [];
    perBarrier.forEach((ms, b) => {
      if (ms > 0) steps.push(waitStep(`wait-${b + 1}`, ms));
      steps.push({
        ...barrierStep(`cross-${b + 1}`, roundIdentifier(b)),
        train: { name: train, expect },
      } as StepPlan);
    });
    const name = participantName(i, waits.length);
    const plan = singleStagePlan(`${tag}-p${i}`, expect[i]!, [workflow(name, steps)]);
    // The stage's barriers carry the train, as the compiler writes them.
    const stages = plan.stages.map((stage) => ({
      ...stage,
      barriers: stage.barriers.map((barrier) => ({ ...barrier, train: { name: train, expect } })),
    }));
    return { plan: { ...plan, stages }, participant: name };
  });
}

export interface TrainRun {
  pipelines: number;
  rounds: ReleaseRound[];
  statuses: string[];
}

/** Starts the train's pipelines together, waits for them, and measures every round's release. */
export async function runTrain(
  ctx: BenchContext,
  taskQueue: string,
  worker: WorkerProcess,
  id: string,
  waits: Waits,
): Promise<TrainRun> {
  const plans = trainPlans(`${ctx.tag}-${id}`, `${ctx.tag}-${id}`, waits);
  await Promise.all(plans.map(({ plan }) => startPipeline(ctx.client, plan, taskQueue)));
  const longest = Math.max(...waits.map((w) => w.reduce((a, b) => a + b, 0)));
  const statuses = await Promise.race([
    Promise.all(plans.map(({ plan }) => pipelineResult(ctx, plan.pipelineId, 4 * longest + 300_000))),
    worker.crashed,
  ]);
  // Each participant is the one child of its own pipeline.
  const histories = await Promise.all(
    plans.map(({ plan, participant }) =>
      childHistories(ctx, plan.pipelineId, [participant], childWorkflowId).then((m) => m.get(participant)!),
    ),
  );
  const children = new Map(plans.map(({ participant }, i) => [participant, histories[i]!] as const));
  const rounds = (waits[0] ?? []).map((_, b) =>
    analyzeRelease(children, roundIdentifier(b), undefined, CONVOY),
  );
  return { pipelines: plans.length, rounds, statuses };
}
