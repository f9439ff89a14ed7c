/**
 * Barrier-order deadlock detection (SPEC section 2 rule 6).
 *
 * Within a stage, a barrier crosses once every participant has arrived. A workflow that waits at
 * barrier X before it reaches barrier Y makes "X crosses" a precondition of "Y crosses". Drawing
 * an edge X → Y for each such pair gives the must-cross-before graph; the stage can deadlock
 * exactly when that graph has a cycle (no barrier on the cycle can ever be the first to cross,
 * and without a cycle the barriers cross in topological order).
 *
 * Steps skipped by `when` (known statically: variables are fixed before a run starts) count as
 * an arrival without waiting, as at run time: a skipped X adds no edge from X, but a workflow still
 * reaches it only after the barriers it waits at before it. So an edge starts only at a barrier the
 * workflow really waits at.
 *
 * Pure module.
 */

import { joinParticipant } from '../model/participants';
import type { WorkflowPlan } from '../model/plan';

/** One barrier step of a workflow, in step order. */
export interface BarrierVisit {
  identifier: string;
  /** True when `when` skips the step: the workflow arrives without waiting. */
  skip: boolean;
}

/** A workflow as the deadlock check sees it: its name and its barrier steps in order. */
export interface BarrierOrderWorkflow {
  name: string;
  barriers: readonly BarrierVisit[];
}

/** "`workflow` waits at `before` and only then reaches `after`": one edge of a deadlock cycle. */
export interface BarrierOrdering {
  workflow: string;
  before: string;
  after: string;
}

/** A cycle of orderings that can never resolve, e.g. [A: X before Y, B: Y before X]. */
export interface BarrierDeadlock {
  cycle: BarrierOrdering[];
}

/**
 * Finds barrier-order deadlocks among the workflows of one stage: one per strongly connected
 * group of barriers, described by a shortest cycle through it. Empty when the stage is safe.
 */
export function findBarrierDeadlocks(workflows: readonly BarrierOrderWorkflow[]): BarrierDeadlock[] {
  const graph = buildMustCrossBeforeGraph(workflows);
  const deadlocks: BarrierDeadlock[] = [];
  for (const component of stronglyConnectedComponents(graph)) {
    if (component.length < 2) continue; // a single barrier cannot wait for itself (identifiers are unique per workflow)
    const members = new Set(component);
    const start = graph.nodes.find((node) => members.has(node))!; // first in stage order, for stable messages
    const cycle = shortestCycleThrough(start, graph, members);
    deadlocks.push({ cycle: mergeSameWorkflowOrderings(cycle) });
  }
  return deadlocks;
}

/**
 * Formats a deadlock the way `convoy validate` reports it, e.g. `barrier order deadlock: payments
 * reaches services-deployed before db-migrated, but orders reaches db-migrated before services-deployed`.
 */
export function describeDeadlock(deadlock: BarrierDeadlock): string {
  const clauses = deadlock.cycle.map(
    (edge) => `${edge.workflow} reaches ${edge.before} before ${edge.after}`,
  );
  if (clauses.length === 2) return `barrier order deadlock: ${clauses[0]}, but ${clauses[1]}`;
  const last = clauses.pop();
  return `barrier order deadlock: ${clauses.join(', ')}, and ${last}`;
}

interface Graph {
  /** Barrier identifiers in order of first appearance. */
  nodes: string[];
  /** For each barrier, the barriers that can only cross after it, with the workflow that says so. */
  edges: Map<string, Map<string, string>>;
}

/**
 * Edges go from each barrier a workflow waits at to the later barriers up to (and including) the
 * next one it waits at. That is O(steps) edges, yet has the same reachability as "to every later
 * barrier", because the next waited-at barrier carries the order further.
 */
function buildMustCrossBeforeGraph(workflows: readonly BarrierOrderWorkflow[]): Graph {
  const nodes: string[] = [];
  const edges = new Map<string, Map<string, string>>();
  const addNode = (identifier: string): void => {
    if (!edges.has(identifier)) {
      edges.set(identifier, new Map());
      nodes.push(identifier);
    }
  };
  for (const workflow of workflows) {
    const visits = workflow.barriers;
    visits.forEach((visit) => addNode(visit.identifier));
    for (let from = 0; from < visits.length; from++) {
      if (visits[from]!.skip) continue;
      for (let to = from + 1; to < visits.length; to++) {
        const targets = edges.get(visits[from]!.identifier)!;
        if (!targets.has(visits[to]!.identifier)) targets.set(visits[to]!.identifier, workflow.name);
        if (!visits[to]!.skip) break;
      }
    }
  }
  return { nodes, edges };
}

/** Tarjan's algorithm, iterative so a file with thousands of barriers cannot overflow the stack. */
function stronglyConnectedComponents(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const root of graph.nodes) {
    if (index.has(root)) continue;
    // Each frame: a node and an iterator over its successors.
    const work: { node: string; successors: Iterator<string> }[] = [];
    const visit = (node: string): void => {
      index.set(node, counter);
      lowLink.set(node, counter);
      counter += 1;
      stack.push(node);
      onStack.add(node);
      work.push({ node, successors: graph.edges.get(node)!.keys() });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const next = frame.successors.next();
      if (!next.done) {
        const successor = next.value;
        if (!index.has(successor)) visit(successor);
        else if (onStack.has(successor)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node)!, index.get(successor)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.node, Math.min(lowLink.get(parent.node)!, lowLink.get(frame.node)!));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first search for a shortest cycle from `start` back to itself inside `members`. */
function shortestCycleThrough(start: string, graph: Graph, members: ReadonlySet<string>): BarrierOrdering[] {
  const cameFrom = new Map<string, BarrierOrdering>();
  const queue: string[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const [successor, workflow] of graph.edges.get(node)!) {
      if (!members.has(successor)) continue;
      const ordering: BarrierOrdering = { workflow, before: node, after: successor };
      if (successor === start) {
        const cycle = [ordering];
        for (let at = node; at !== start;) {
          const previous = cameFrom.get(at)!;
          cycle.unshift(previous);
          at = previous.before;
        }
        return cycle;
      }
      if (!cameFrom.has(successor)) {
        cameFrom.set(successor, ordering);
        queue.push(successor);
      }
    }
  }
  return []; // unreachable: every member of a strongly connected component lies on a cycle
}

/**
 * Joins consecutive orderings of the same workflow (A: X before M, A: M before Y → A: X before Y),
 * including across the cycle's wrap-around, so messages name each workflow once per stretch.
 */
function mergeSameWorkflowOrderings(cycle: BarrierOrdering[]): BarrierOrdering[] {
  if (cycle.length === 0) return cycle;
  // Rotate so the cycle starts where the workflow changes.
  let shift = 0;
  while (
    shift < cycle.length &&
    cycle[shift]!.workflow === cycle[(shift + cycle.length - 1) % cycle.length]!.workflow
  ) {
    shift += 1;
  }
  if (shift === cycle.length) return cycle; // one workflow only: cannot be a cycle, keep as is
  const rotated = [...cycle.slice(shift), ...cycle.slice(0, shift)];
  const merged: BarrierOrdering[] = [];
  for (const ordering of rotated) {
    const last = merged[merged.length - 1];
    if (last && last.workflow === ordering.workflow) last.after = ordering.after;
    else merged.push({ ...ordering });
  }
  return merged;
}

/** More paths through a workflow's parallel steps than the deadlock check follows. */
export const MAX_BRANCH_PATHS = 1000;

/**
 * The orders in which `wf` reaches its barriers, for the deadlock check: one per path through its
 * parallel steps (one branch of each), since a branch starts after every barrier before its
 * parallel step crossed and the steps after it wait for every branch. A path through one branch
 * is named after it (`<workflow>/<branch>`); the others after the workflow.
 */
export function barrierTimelines(wf: WorkflowPlan): BarrierOrderWorkflow[] | { tooMany: string } {
  let paths: { names: string[]; barriers: BarrierVisit[] }[] = [{ names: [], barriers: [] }];
  for (const step of wf.steps) {
    if (step.type === 'barrier') {
      for (const path of paths) path.barriers.push({ identifier: step.identifier, skip: step.skip });
      continue;
    }
    if (step.type !== 'parallel') continue;
    if (paths.length * step.branches.length > MAX_BRANCH_PATHS) {
      return {
        tooMany:
          `the parallel steps of ${wf.name} make more than ${MAX_BRANCH_PATHS} combinations of branches ` +
          'to check for barrier deadlocks; split the workflow',
      };
    }
    paths = paths.flatMap((path) =>
      step.branches.map((branch) => ({
        names: [...path.names, branch.name],
        barriers: [
          ...path.barriers,
          ...branch.steps.flatMap((inner) =>
            inner.type === 'barrier' ? [{ identifier: inner.identifier, skip: inner.skip || step.skip }] : [],
          ),
        ],
      })),
    );
  }
  return paths.map((path) => ({
    name: path.names.length === 1 ? joinParticipant(wf.name, path.names[0]) : wf.name,
    barriers: path.barriers,
  }));
}
