/**
 * Barrier order across child pipelines (issue 14): what the deadlock check of ./barrier-order
 * must know about a stage whose workflows run child pipelines.
 *
 * A child pipeline's workflows wait at barriers too: their own pipeline's (local to it) and, by a
 * step `parent.X`, the calling stage's X. The calling workflow reaches its later barriers only
 * once its child pipeline has ended, and a child pipeline starts only once the calling workflow
 * has passed its earlier barriers; a child pipeline's stages run one after the other. Each of
 * these is an ordering "X resolves before Y is reached", so the stage's must-cross-before graph
 * gets one more edge for each, and a cycle through it is a deadlock across the nesting. Barriers
 * local to a child pipeline get a node of their own, named after where they are
 * (`api/db: deploy/schema-ready`: the step `db` of workflow `api`, stage `deploy`, barrier
 * `schema-ready`).
 *
 * A workflow that takes part in X itself and also runs a child pipeline joining X waits for
 * itself: it cannot reach X while the child pipeline runs, nor end the child pipeline before
 * crossing. That cycle has one node, which the graph search ignores, so it is reported here.
 *
 * Pure module.
 */
import { nestedParticipantName, parentBarrierOf } from '../model/participants';
import type { ParallelStepPlan, PipelineStepPlan, StagePlan, WorkflowPlan } from '../model/plan';
import { barrierTimelines, type BarrierOrderWorkflow, type BarrierVisit } from './barrier-order';

/** The orderings of one stage, for `findBarrierDeadlocks`, and the deadlocks of one workflow with itself. */
export interface StageOrder {
  workflows: BarrierOrderWorkflow[];
  selfDeadlocks: string[];
}

/** The barriers a workflow (and what it runs) reaches: those it waits at, and all of them. */
interface Reach {
  waited: Set<string>;
  all: Set<string>;
}

/** Maps a barrier identifier of a workflow to its node in the stage's graph. */
type NodeOf = (identifier: string) => string;

/** The orderings of `stage`, its workflows' child pipelines included. */
export function stageOrder(stage: StagePlan): StageOrder {
  const order: StageOrder = { workflows: [], selfDeadlocks: [] };
  for (const wf of stage.workflows) workflowOrder(wf, wf.name, (identifier) => identifier, order);
  return order;
}

/**
 * Adds the orderings of workflow `wf` (shown as `who`) and of the child pipelines it runs; returns
 * what it reaches. Own barriers keep the sequence of ./barrier-order; a child pipeline step adds
 * pairs: each barrier waited at before it → every node of the child pipeline, and each node the
 * child pipeline waits at → every later barrier and every node of a later child pipeline.
 */
function workflowOrder(wf: WorkflowPlan, who: string, nodeOf: NodeOf, order: StageOrder): Reach {
  const reach: Reach = { waited: new Set(), all: new Set() };
  const own: BarrierVisit[] = [];
  /** What was waited at so far: barriers of this workflow and nodes of its earlier child pipelines. */
  const before = new Set<string>();
  /** Of those, the child pipelines' (own barriers are ordered by the sequence `own`). */
  const beforeInChildren = new Set<string>();
  for (const step of wf.steps) {
    if (step.type === 'barrier') {
      const node = nodeOf(step.identifier);
      own.push({ identifier: node, skip: step.skip });
      for (const earlier of beforeInChildren) pair(order, who, earlier, node);
      reach.all.add(node);
      if (!step.skip) {
        reach.waited.add(node);
        before.add(node);
      }
      continue;
    }
    if (step.type === 'parallel') {
      // Its branches start after what came before and the steps after it wait for every branch.
      const waitedInBranches: string[] = [];
      for (const { identifier, skip } of branchBarriers(step)) {
        const node = nodeOf(identifier);
        for (const earlier of beforeInChildren) pair(order, who, earlier, node);
        reach.all.add(node);
        if (!skip) waitedInBranches.push(node);
      }
      for (const node of waitedInBranches) {
        reach.waited.add(node);
        before.add(node);
      }
      continue;
    }
    if (step.type !== 'pipeline' || step.skip) continue;
    const child = childPipelineOrder(step, who, nodeOf, order);
    for (const node of child.all) {
      for (const earlier of before) {
        if (earlier === node && child.waited.has(node))
          order.selfDeadlocks.push(selfDeadlock(who, step, node));
        else pair(order, who, earlier, node);
      }
      reach.all.add(node);
    }
    for (const node of child.waited) {
      reach.waited.add(node);
      before.add(node);
      beforeInChildren.add(node);
    }
  }
  // A barrier of its own after a child pipeline that joins it: the same wait for itself.
  for (const step of wf.steps) {
    if (step.type !== 'pipeline' || step.skip) continue;
    const index = wf.steps.indexOf(step);
    const later = wf.steps.slice(index + 1);
    for (const node of childPipelineNodes(step, nodeOf)) {
      const laterBarriers = later.flatMap((s) =>
        s.type === 'barrier'
          ? [{ identifier: s.identifier, skip: s.skip }]
          : s.type === 'parallel'
            ? branchBarriers(s)
            : [],
      );
      if (laterBarriers.some((b) => !b.skip && nodeOf(b.identifier) === node))
        order.selfDeadlocks.push(selfDeadlock(who, step, node));
    }
  }
  order.workflows.push(...ownTimelines(wf, who, nodeOf, own));
  return reach;
}

/**
 * The orders in which `wf` (shown as `who`) reaches its own barriers: one per path through its
 * parallel steps (./barrier-order), a path through one branch shown as `<who>/<branch>`. With more
 * paths than are checked (validation reports that), the sequence `own` of its steps outside branches.
 */
function ownTimelines(
  wf: WorkflowPlan,
  who: string,
  nodeOf: NodeOf,
  own: readonly BarrierVisit[],
): BarrierOrderWorkflow[] {
  if (!wf.steps.some((step) => step.type === 'parallel')) return [{ name: who, barriers: own }];
  const paths = barrierTimelines(wf);
  if (!Array.isArray(paths)) return [{ name: who, barriers: own }];
  return paths.map((path) => ({
    name: path.name === wf.name ? who : `${who}${path.name.slice(wf.name.length)}`,
    barriers: path.barriers.map((visit) => ({ ...visit, identifier: nodeOf(visit.identifier) })),
  }));
}

/** The barrier steps of a parallel step's branches; skipped when their step or the group is. */
function branchBarriers(step: ParallelStepPlan): BarrierVisit[] {
  return step.branches.flatMap((branch) =>
    branch.steps.flatMap((inner) =>
      inner.type === 'barrier' ? [{ identifier: inner.identifier, skip: inner.skip || step.skip }] : [],
    ),
  );
}

/** The orderings inside a child pipeline; returns what it reaches (as nodes of the calling stage's graph). */
function childPipelineOrder(
  step: PipelineStepPlan,
  caller: string,
  callerNodeOf: NodeOf,
  order: StageOrder,
): Reach {
  const reach: Reach = { waited: new Set(), all: new Set() };
  let earlierStages = new Set<string>();
  for (const stage of step.pipeline.stages) {
    const nodeOf = childNodeOf(step, caller, stage.name, callerNodeOf);
    const stageReach: Reach = { waited: new Set(), all: new Set() };
    for (const wf of stage.workflows) {
      const wfReach = workflowOrder(wf, nestedParticipantName(caller, wf.name), nodeOf, order);
      wfReach.waited.forEach((node) => stageReach.waited.add(node));
      wfReach.all.forEach((node) => stageReach.all.add(node));
    }
    // A stage starts once the one before has ended: its barriers resolve first.
    for (const earlier of earlierStages)
      for (const node of stageReach.all) pair(order, `${caller}/${step.name} (stage order)`, earlier, node);
    stageReach.waited.forEach((node) => reach.waited.add(node));
    stageReach.all.forEach((node) => reach.all.add(node));
    earlierStages = new Set([...earlierStages, ...stageReach.waited]);
  }
  return reach;
}

/** The nodes the child pipeline of `step` joins in the calling stage (its `parent.` barriers). */
function childPipelineNodes(step: PipelineStepPlan, callerNodeOf: NodeOf): Set<string> {
  const nodes = new Set<string>();
  for (const stage of step.pipeline.stages)
    for (const wf of stage.workflows)
      for (const s of wf.steps) {
        const joined = s.type === 'barrier' && !s.skip ? parentBarrierOf(s.identifier) : undefined;
        if (joined !== undefined) nodes.add(callerNodeOf(joined));
      }
  return nodes;
}

function childNodeOf(step: PipelineStepPlan, caller: string, stage: string, callerNodeOf: NodeOf): NodeOf {
  return (identifier) => {
    const joined = parentBarrierOf(identifier);
    return joined === undefined ? `${caller}/${step.name}: ${stage}/${identifier}` : callerNodeOf(joined);
  };
}

/** A two-barrier ordering: `who` resolves (or waits at) `before` before it reaches `after`. */
function pair(order: StageOrder, who: string, before: string, after: string): void {
  if (before === after) return;
  order.workflows.push({
    name: who,
    barriers: [
      { identifier: before, skip: false },
      { identifier: after, skip: false },
    ],
  });
}

function selfDeadlock(who: string, step: PipelineStepPlan, node: string): string {
  return (
    `barrier order deadlock: ${who} takes part in barrier ${node} itself and through its child pipeline ` +
    `${step.name} (${step.file}), which runs while ${who} cannot be at ${node}: the barrier can never cross`
  );
}
