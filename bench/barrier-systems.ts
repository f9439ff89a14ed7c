/**
 * The two barrier implementations the benchmarks compare, behind one interface: Convoy (a
 * pipeline of deployment workflows, bench/plans.ts) and the raw floor (bench/floor-workflows.ts).
 * Both run the same {@link Waits} schedule, on the same worker process, and are read back by
 * the same analyses; only the signal names ({@link Protocol}) and the workflows differ.
 */
import { startPipeline } from '../src/client/pipelines';
import { childWorkflowId } from '../src/model/protocol';
import { CONVOY, RAW, type Protocol } from './analysis';
import { pipelineResult, type BenchContext } from './context';
import { rawChildId, type RawBarrierInput } from './floor-workflows';
import { barrierPlan, type Waits } from './plans';
import { rawTaskQueue, type WorkerProcess } from './worker-host';
import { withTimeout } from './util';

export interface BarrierSystem {
  kind: 'convoy' | 'raw';
  protocol: Protocol;
  /** The workflow ID of participant `name` of pipeline `pipelineId`. */
  childId(pipelineId: string, name: string): string;
  /**
   * Runs `waits` as one pipeline (Convoy's plan named `name`) whose `failer`, if any, fails
   * before its first barrier; resolves with its status once the pipeline has ended.
   */
  run(pipelineId: string, name: string, waits: Waits, failer?: number): Promise<string>;
}

/**
 * How long a pipeline running `waits` may take: four times its longest schedule, plus 150 ms per
 * barrier crossing (a loaded 2-core machine needs that), plus five minutes. A crashed worker
 * fails the run at once (bench/context.ts), so this bounds only a server that is stuck.
 */
function resultTimeoutMs(waits: Waits): number {
  const longest = Math.max(0, ...waits.map((w) => w.reduce((a, b) => a + b, 0)));
  const crossings = waits.reduce((n, w) => n + w.length, 0);
  return 4 * longest + crossings * 150 + 300_000;
}

/**
 * Convoy's pipeline workflow on `taskQueue`, run by `worker`: a pipeline fails at once when the
 * worker process dies under it, instead of at its timeout.
 */
export function convoySystem(ctx: BenchContext, taskQueue: string, worker: WorkerProcess): BarrierSystem {
  return {
    kind: 'convoy',
    protocol: CONVOY,
    childId: childWorkflowId,
    async run(pipelineId, name, waits, failer) {
      await startPipeline(ctx.client, barrierPlan(pipelineId, name, waits, failer), taskQueue);
      return Promise.race([pipelineResult(ctx, pipelineId, resultTimeoutMs(waits)), worker.crashed]);
    },
  };
}

/** The raw floor's workflows, on the floor's queue next to Convoy's `taskQueue`, likewise. */
export function rawSystem(ctx: BenchContext, taskQueue: string, worker: WorkerProcess): BarrierSystem {
  return {
    kind: 'raw',
    protocol: RAW,
    childId: rawChildId,
    async run(pipelineId, _name, waits, failer) {
      const input: RawBarrierInput = { waits, failer };
      const handle = await ctx.client.workflow.start('rawBarrierParent', {
        workflowId: pipelineId,
        taskQueue: rawTaskQueue(taskQueue),
        args: [input],
      });
      const done = withTimeout(handle.result(), resultTimeoutMs(waits), `raw pipeline ${pipelineId}`);
      await Promise.race([done, worker.crashed]);
      return 'succeeded';
    },
  };
}
