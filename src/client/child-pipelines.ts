/**
 * Child pipelines in a result document: each `pipeline` step's record holds the child pipeline's
 * own document (`step.pipeline`). For views that list every workflow and barrier in one table
 * (`convoy status`, the live view), {@link flattenChildPipelines} lifts them into the calling
 * document under path names.
 */
import type { BarrierResult, PipelineResult, StageResult, WorkflowResult } from '../model/result';

/**
 * The document with the workflows, stages and barriers of every child pipeline (at any depth)
 * added after its own, each named by its path: workflow `migrate` of the child pipeline run by
 * step `db` of workflow `api` is `api/db/migrate` (the name `convoy intervene ID` takes, as its
 * workflow ID is `ID/api/db/migrate`), its stage `api/db/<stage>`. The calling stage's barriers
 * keep naming the child's participants `api/migrate`. `doc` itself is not changed.
 */
export function flattenChildPipelines(doc: PipelineResult): PipelineResult {
  const stages: StageResult[] = [...doc.stages];
  const workflows: WorkflowResult[] = [...doc.workflows];
  const barriers: BarrierResult[] = [...doc.barriers];
  for (const wf of doc.workflows) {
    for (const step of wf.steps) {
      if (!step.pipeline) continue;
      const prefix = `${wf.name}/${step.name}/`;
      const child = flattenChildPipelines(step.pipeline);
      stages.push(
        ...child.stages.map((s) => ({
          ...s,
          name: prefix + s.name,
          workflows: s.workflows.map((w) => prefix + w),
        })),
      );
      workflows.push(
        ...child.workflows.map((w) => ({ ...w, name: prefix + w.name, stage: prefix + w.stage })),
      );
      barriers.push(...child.barriers.map((b) => ({ ...b, stage: prefix + b.stage })));
    }
  }
  return { ...doc, stages, workflows, barriers };
}
