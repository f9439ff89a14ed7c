/**
 * A Harness pipeline as Convoy will run it, before it is written out: stages of workflows of
 * steps, each element with the Harness location it came from. Both generations' translators
 * produce this shape; {@link assemble} turns it into a Convoy pipeline file (plain data) and a
 * source map from Convoy paths back to Harness locations, so that what Convoy's validation finds
 * can be reported in Harness terms.
 *
 * Pure module.
 */
import { formatPath, type PathSegment } from '../pipeline-file/issues';
import type { FileFailureRule } from '../pipeline-file/schema';
import type { PlacedRule } from './failure-rules';
import { type HarnessLocation, describeLocation } from './report';
import { uniqueName } from './values';

/** What a step does, in Convoy terms. */
export type ImportedStepBody =
  | { type: 'shell'; command: string; env?: Record<string, string>; timeoutMs?: number }
  | { type: 'wait'; durationMs: number; timeoutMs?: number }
  | { type: 'barrier'; identifier: string; timeoutMs?: number }
  | { type: 'parallel'; branches: ImportedBranch[] };

/** One branch of a parallel step: a Harness step or step group inside a parallel block. */
export interface ImportedBranch {
  /** The wanted branch name (a valid Convoy name); made unique in its workflow when assembled. */
  name: string;
  at: HarnessLocation;
  steps: ImportedStep[];
}

/** Every step of `steps` that is not a parallel step, those in their branches included. */
export function leafImportedSteps(steps: readonly ImportedStep[]): ImportedStep[] {
  return steps.flatMap((step) =>
    step.body.type === 'parallel' ? step.body.branches.flatMap((branch) => branch.steps) : [step],
  );
}

export interface ImportedStep {
  /** The wanted step name; made unique in its workflow when assembled. */
  name: string;
  /** The Harness step type (`ShellScript`, `SHELL_SCRIPT`...), for the description. */
  harnessType: string;
  body: ImportedStepBody;
  /** Step rules first, then the rules of enclosing step groups or phase steps. */
  rules: PlacedRule[];
  at: HarnessLocation;
}

export interface ImportedWorkflow {
  /** The wanted workflow name (a valid Convoy name); made unique in the pipeline when assembled. */
  name: string;
  at: HarnessLocation;
  variables: Record<string, string>;
  forEach?: string[];
  rules: PlacedRule[];
  steps: ImportedStep[];
  rollbackSteps: ImportedStep[];
}

/** Workflows that run in parallel: one Harness parallel block or FirstGen parallel section. */
export interface ImportedStage {
  name: string;
  at: HarnessLocation;
  workflows: ImportedWorkflow[];
}

export type HarnessGeneration = 'NextGen' | 'FirstGen';

export interface ImportedPipeline {
  generation: HarnessGeneration;
  name: string;
  at: HarnessLocation;
  variables: Record<string, string>;
  stages: ImportedStage[];
}

/** `Harness ShellScript step (pipeline.yaml: pipeline.stages[0].stage...)`: where a step came from. */
export function describeOrigin(step: Pick<ImportedStep, 'harnessType' | 'at'>): string {
  return `Harness ${step.harnessType} step (${baseName(step.at.file)}: ${describeLocation(step.at)})`;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/** A Convoy pipeline file as plain data, in the field order it is written in. */
export type PipelineFileData = Record<string, unknown>;

/** The assembled file and, for each Convoy path (`stages[0].workflows[1].steps[2]`), its Harness origin. */
export interface AssembledPipeline {
  file: PipelineFileData;
  sources: Map<string, HarnessLocation>;
}

/**
 * Writes the imported pipeline as a Convoy file. Names are made unique where Harness allowed a
 * repeat (the same workflow twice in a FirstGen pipeline, a step name in two phases); barrier steps
 * in rollback steps are left out (the import reports them as errors).
 */
export function assemble(pipeline: ImportedPipeline): AssembledPipeline {
  const sources = new Map<string, HarnessLocation>();
  const source = (path: PathSegment[], at: HarnessLocation): void => {
    sources.set(formatPath(path), at);
  };
  source([], pipeline.at);
  const stageNames = new Set<string>();
  const workflowNames = new Set<string>();
  const stages = pipeline.stages.map((stage, stageIndex) => {
    source(['stages', stageIndex], stage.at);
    const workflows = stage.workflows.map((workflow, workflowIndex) => {
      const at: PathSegment[] = ['stages', stageIndex, 'workflows', workflowIndex];
      source(at, workflow.at);
      const stepNames = new Set<string>();
      const branchNames = new Set<string>();
      const assembleOne = (step: ImportedStep, path: PathSegment[]): Record<string, unknown> => {
        source(path, step.at);
        const name = uniqueName(step.name, stepNames);
        if (step.body.type !== 'parallel') return assembleStep(step, name, path, source);
        return {
          name,
          description: describeOrigin(step),
          type: 'parallel',
          branches: step.body.branches.map((branch, branchIndex) => {
            const branchPath = [...path, 'branches', branchIndex];
            source(branchPath, branch.at);
            return {
              name: uniqueName(branch.name, branchNames),
              steps: branch.steps.map((inner, index) => assembleOne(inner, [...branchPath, 'steps', index])),
            };
          }),
        };
      };
      const steps = (list: 'steps' | 'rollbackSteps', imported: readonly ImportedStep[]) =>
        imported
          .filter(
            (step) => list === 'steps' || (step.body.type !== 'barrier' && step.body.type !== 'parallel'),
          )
          .map((step, index) => assembleOne(step, [...at, list, index]));
      const data: Record<string, unknown> = { name: uniqueName(workflow.name, workflowNames) };
      if (Object.keys(workflow.variables).length > 0) data['variables'] = workflow.variables;
      if (workflow.forEach !== undefined) data['forEach'] = workflow.forEach;
      const rules = placeRules(workflow.rules, [...at, 'failureStrategies'], source);
      if (rules.length > 0) data['failureStrategies'] = rules;
      data['steps'] = steps('steps', workflow.steps);
      const rollbackSteps = steps('rollbackSteps', workflow.rollbackSteps);
      if (rollbackSteps.length > 0) data['rollbackSteps'] = rollbackSteps;
      return data;
    });
    return { name: uniqueName(stage.name, stageNames), workflows };
  });
  const file: PipelineFileData = { name: pipeline.name };
  if (Object.keys(pipeline.variables).length > 0) file['variables'] = pipeline.variables;
  file['stages'] = stages;
  return { file, sources };
}

function assembleStep(
  step: ImportedStep,
  name: string,
  at: PathSegment[],
  source: (path: PathSegment[], at: HarnessLocation) => void,
): Record<string, unknown> {
  const data: Record<string, unknown> = { name, description: describeOrigin(step), ...step.body };
  const rules = placeRules(step.rules, [...at, 'failureStrategies'], source);
  if (rules.length > 0) data['failureStrategies'] = rules;
  return data;
}

function placeRules(
  rules: readonly PlacedRule[],
  at: PathSegment[],
  source: (path: PathSegment[], at: HarnessLocation) => void,
): FileFailureRule[] {
  return rules.map((placed, index) => {
    source([...at, index], placed.at);
    return placed.rule;
  });
}

/**
 * The Harness origin of a Convoy path: the entry of the longest recorded path that contains it
 * (`stages[0].workflows[1].steps[2].timeoutMs` → the step's Harness location).
 */
export function originOf(
  sources: ReadonlyMap<string, HarnessLocation>,
  convoyPath: string,
): HarnessLocation | undefined {
  for (let path = convoyPath; ; path = parentPath(path)) {
    const found = sources.get(path);
    if (found !== undefined || path === '') return found;
  }
}

function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}
