/**
 * Harness NextGen pipeline YAML → the imported pipeline (imported.ts).
 *
 * - `pipeline.stages`: a `stage` is one Convoy workflow in a stage of its own; a `parallel` block
 *   of stages is one Convoy stage whose workflows run in parallel (barriers work there, as in
 *   Harness).
 * - A stage's `spec.execution.steps` are flattened: a sequential `stepGroup` contributes its steps
 *   in order, named `<group>.<step>`, its failure strategies after each step's own; its
 *   `rollbackSteps` join the workflow's. A `parallel` block of steps and step groups is a Convoy
 *   parallel step: one branch per element, named after its identifier (a barrier in it makes the
 *   branch a participant, as in Harness). Parallel blocks inside a parallel block or in rollback
 *   steps are errors (Convoy's branches do not nest; rollback steps run in order).
 * - `ShellScript` → shell (`bash -c`, see steps.ts), `Wait` → wait, `Barrier` → barrier with the
 *   `flowControl` identifier its `spec.barrierRef` names (`<+input>.default(x)` → `x`); any other
 *   type → its `--map` command, else an error.
 * - `failureStrategies` → failure rules (see {@link NEXTGEN_ERROR_TYPES} and {@link NEXTGEN_ACTIONS}).
 *
 * Pure module.
 */
import { DEFAULT_BARRIER_TIMEOUT_MS, type ErrorType } from '../model/plan';
import { ENV_NAME_PATTERN, VARIABLE_NAME_PATTERN } from '../pipeline-file/schema';
import { type ActionTable, mapAction } from './actions';
import { type PlacedRule, buildRule, mapErrorTypes, placeRule, retryIntervalsMs } from './failure-rules';
import { type VariableResolver, translateExpressions } from './expressions';
import type {
  ImportedBranch,
  ImportedPipeline,
  ImportedStage,
  ImportedStep,
  ImportedStepBody,
  ImportedWorkflow,
} from './imported';
import type { StepMappings } from './mappings';
import { type HarnessLocation, type ImportReport, below } from './report';
import { bashScriptBody, isBash, otherStepBody } from './steps';
import {
  type HarnessRecord,
  HarnessReader,
  convoyName,
  literalOrDefault,
  parseHarnessDuration,
  readRuntimeInput,
} from './values';

/** NextGen error types (`onFailure.errors`) and what each stands for in Convoy. */
export const NEXTGEN_ERROR_TYPES: Readonly<Record<string, readonly ErrorType[] | null>> = {
  AllErrors: ['any'],
  // Shell script failures, and a barrier a peer broke: errors outside every other category.
  Unknown: ['step-failed', 'barrier-broken'],
  Timeout: ['step-timeout', 'barrier-timeout'],
  Authentication: null,
  Authorization: null,
  Connectivity: null,
  Verification: null,
  DelegateProvisioning: null,
  DelegateRestart: null,
  PolicyEvaluationFailure: null,
  InputTimeoutError: null,
  ApprovalRejection: null,
  UserMarkedFailure: null,
  InfrastructureFailure: null,
  PluginImageFailure: null,
  ResourceLimitsFailure: null,
  ConfigurationFailure: null,
  RetryableTransientFailure: null,
};

const ROLLS_BACK_THIS_WORKFLOW_ONLY =
  "Convoy runs this workflow's rollback steps; other workflows are not rolled back";
const MARK_AS_SUCCESS_AS_IGNORE = "the workflow goes on, as in Harness, but the step shows 'ignored'";
const MARK_AS_FAILURE_AS_ABORT = 'the workflow ends without rollback';

/** NextGen `action.type` values, where each can stand in Convoy (retry and manual intervention apart). */
export const NEXTGEN_ACTIONS: ActionTable = {
  Abort: { rule: 'abort', afterRetry: 'abort', onTimeout: 'abort' },
  StageRollback: { rule: 'rollback', afterRetry: 'rollback', onTimeout: 'rollback' },
  Ignore: { rule: 'ignore', afterRetry: 'ignore', onTimeout: 'ignore' },
  MarkAsSuccess: {
    rule: ['ignore', MARK_AS_SUCCESS_AS_IGNORE],
    afterRetry: ['ignore', MARK_AS_SUCCESS_AS_IGNORE],
    onTimeout: 'mark-success',
  },
  PipelineRollback: {
    rule: ['rollback', ROLLS_BACK_THIS_WORKFLOW_ONLY],
    afterRetry: ['rollback', ROLLS_BACK_THIS_WORKFLOW_ONLY],
    onTimeout: ['rollback', ROLLS_BACK_THIS_WORKFLOW_ONLY],
  },
  StepGroupRollback: {
    rule: ['rollback', 'step groups are flattened: Convoy rolls back the whole workflow'],
    afterRetry: ['rollback', 'step groups are flattened: Convoy rolls back the whole workflow'],
    onTimeout: ['rollback', 'step groups are flattened: Convoy rolls back the whole workflow'],
  },
  MarkAsFailure: {
    rule: ['abort', MARK_AS_FAILURE_AS_ABORT],
    afterRetry: ['abort', MARK_AS_FAILURE_AS_ABORT],
    onTimeout: ['abort', MARK_AS_FAILURE_AS_ABORT],
  },
  Retry: { rule: 'retry' },
  ManualIntervention: { rule: 'manual-intervention', afterRetry: 'manual-intervention' },
  RetryStepGroup: {},
  ProceedWithDefaultValues: {},
};

/** What the translation of one pipeline needs at hand. */
interface Context {
  readonly reader: HarnessReader;
  readonly report: ImportReport;
  readonly mappings: StepMappings;
  /** flowControl barrier identifiers. */
  readonly barriers: ReadonlySet<string>;
  /** Harness pipeline variable name → Convoy variable name. */
  readonly pipelineVariables: ReadonlyMap<string, string>;
}

/** Where steps land while a stage's elements are flattened. */
interface Scope {
  /** `<group>.` prefixes of the enclosing step groups. */
  readonly prefix: string;
  /** Rules of the enclosing step groups, innermost first. */
  readonly groupRules: readonly PlacedRule[];
  readonly resolve: VariableResolver;
  /** Rollback steps of step groups, in the order the groups appear. */
  readonly groupRollbacks: ImportedStep[][];
  /** Inside a branch of a parallel block, or among rollback steps: where parallel blocks cannot go. */
  readonly placement?: 'branch' | 'rollback';
}

/** Imports one NextGen pipeline file (`data` from the safe loader). */
export function importNextGen(
  file: string,
  data: HarnessRecord,
  mappings: StepMappings,
  report: ImportReport,
): ImportedPipeline | undefined {
  const reader = new HarnessReader(report);
  const root = { file, path: [] };
  reader.keys(data, root, { read: ['pipeline'] });
  const at = below(root, 'pipeline');
  const pipeline = reader.mapping(data['pipeline'], at, true);
  if (!pipeline) return undefined;
  reader.keys(pipeline, at, {
    read: ['identifier', 'name', 'stages', 'flowControl', 'variables', 'template'],
    inert: ['projectIdentifier', 'orgIdentifier', 'tags', 'description', 'allowStageExecutions'],
  });
  if (pipeline['template'] !== undefined) {
    report.error(
      below(at, 'template'),
      'pipeline templates are not imported: import the resolved pipeline YAML',
    );
  }
  const name = importName(reader, pipeline, at);
  const barriers = importBarrierDeclarations(reader, pipeline['flowControl'], below(at, 'flowControl'));
  const variables = importVariables(reader, pipeline['variables'], below(at, 'variables'));
  const context: Context = { reader, report, mappings, barriers, pipelineVariables: variables.names };

  const stages: ImportedStage[] = [];
  const list = reader.list(pipeline['stages'], below(at, 'stages'), true) ?? [];
  list.forEach((element, index) => {
    const elementAt = below(at, 'stages', index);
    const wrapper = reader.mapping(element, elementAt, true);
    if (!wrapper) return;
    if (wrapper['stage'] !== undefined) {
      reader.keys(wrapper, elementAt, { read: ['stage'] });
      const workflow = importStage(context, wrapper['stage'], below(elementAt, 'stage'));
      if (workflow) stages.push({ name: workflow.name, at: elementAt, workflows: [workflow] });
    } else if (wrapper['parallel'] !== undefined) {
      reader.keys(wrapper, elementAt, { read: ['parallel'] });
      stages.push(importParallelStages(context, wrapper['parallel'], below(elementAt, 'parallel')));
    } else {
      report.error(elementAt, 'expected a stage or a parallel block of stages');
    }
  });
  return { generation: 'NextGen', name: name ?? 'harness-pipeline', at, variables: variables.values, stages };
}

function importName(reader: HarnessReader, record: HarnessRecord, at: HarnessLocation): string | undefined {
  const identifier = reader.text(record['identifier'], below(at, 'identifier'), true);
  if (identifier === undefined) return undefined;
  const name = convoyName(identifier);
  if (name === undefined)
    reader.report.error(below(at, 'identifier'), `cannot make a Convoy name of '${identifier}'`);
  else if (name !== identifier)
    reader.report.warn(
      below(at, 'identifier'),
      `named '${name}' in Convoy (names start with a letter or digit)`,
    );
  return name;
}

function importBarrierDeclarations(reader: HarnessReader, value: unknown, at: HarnessLocation): Set<string> {
  const declared = new Set<string>();
  const flowControl = reader.mapping(value, at);
  if (!flowControl) return declared;
  reader.keys(flowControl, at, { read: ['barriers'] });
  reader.eachMapping(flowControl['barriers'], below(at, 'barriers'), (barrier, entryAt) => {
    reader.keys(barrier, entryAt, { read: ['identifier'], inert: ['name'] });
    const identifier = reader.text(barrier['identifier'], below(entryAt, 'identifier'), true);
    if (identifier !== undefined) declared.add(identifier);
  });
  return declared;
}

/**
 * NextGen variables (`[{ name, type, value }]`) as Convoy variables. A runtime input takes its
 * default (or ''), with a warning pointing at `--var`; secrets are not carried over.
 */
function importVariables(
  reader: HarnessReader,
  value: unknown,
  at: HarnessLocation,
): { values: Record<string, string>; names: Map<string, string> } {
  const values: Record<string, string> = {};
  const names = new Map<string, string>();
  reader.eachMapping(value, at, (variable, entryAt) => {
    reader.keys(variable, entryAt, {
      read: ['name', 'type', 'value'],
      inert: ['description', 'required', 'default'],
    });
    const name = reader.text(variable['name'], below(entryAt, 'name'), true);
    if (name === undefined) return;
    if (variable['type'] === 'Secret') {
      reader.report.warn(
        entryAt,
        `secret variable '${name}' is not carried over: give the secret to the worker's environment`,
      );
      return;
    }
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      reader.report.warn(
        below(entryAt, 'name'),
        `variable '${name}' is not carried over: not a Convoy variable name`,
      );
      return;
    }
    const valueAt = below(entryAt, 'value');
    const text =
      reader.text(variable['value'], valueAt) ??
      reader.text(variable['default'], below(entryAt, 'default')) ??
      '';
    const input = readRuntimeInput(text);
    let literal: string;
    if (input.kind === 'literal')
      literal = translateExpressions(text, 'literal', () => undefined, valueAt, reader.report);
    else {
      literal = input.default ?? '';
      reader.report.warn(
        valueAt,
        `runtime input '${text}': imported as '${literal}'; give another value with --var ${name}=VALUE`,
      );
    }
    values[name] = literal;
    names.set(name, name);
  });
  return { values, names };
}

function importParallelStages(context: Context, value: unknown, at: HarnessLocation): ImportedStage {
  const workflows: ImportedWorkflow[] = [];
  (context.reader.list(value, at, true) ?? []).forEach((element, index) => {
    const elementAt = below(at, index);
    const wrapper = context.reader.mapping(element, elementAt, true);
    if (!wrapper) return;
    if (wrapper['stage'] === undefined) {
      context.report.error(elementAt, 'expected a stage (parallel blocks do not nest)');
      return;
    }
    context.reader.keys(wrapper, elementAt, { read: ['stage'] });
    const workflow = importStage(context, wrapper['stage'], below(elementAt, 'stage'));
    if (workflow) workflows.push(workflow);
  });
  return { name: parallelStageName(workflows.map((workflow) => workflow.name)), at, workflows };
}

/**
 * A parallel block's Convoy stage name: its stages' names joined with '.' (`payments.orders`), or,
 * past 40 characters, the first one's and how many more (`payments-and-6-more`).
 */
export function parallelStageName(names: readonly string[]): string {
  const joined = names.join('.');
  if (joined.length <= 40 || names.length < 2) return joined || 'parallel';
  return `${names[0]}-and-${names.length - 1}-more`;
}

/** One Harness stage → one Convoy workflow. */
function importStage(context: Context, value: unknown, at: HarnessLocation): ImportedWorkflow | undefined {
  const { reader, report } = context;
  const stage = reader.mapping(value, at, true);
  if (!stage) return undefined;
  reader.keys(stage, at, {
    read: [
      'identifier',
      'name',
      'type',
      'spec',
      'failureStrategies',
      'variables',
      'when',
      'strategy',
      'template',
    ],
    inert: ['description', 'tags'],
  });
  reportTemplateAndLoop(context, stage, at, 'stage');
  reportCondition(
    context,
    stage['when'],
    below(at, 'when'),
    'pipelineStatus',
    'the stage runs when the stages before it succeeded',
  );
  const name = importName(reader, stage, at);
  const variables = importVariables(reader, stage['variables'], below(at, 'variables'));
  const resolve = resolverFor(context.pipelineVariables, variables.names);
  const rules = importRules(context, stage['failureStrategies'], below(at, 'failureStrategies'));

  const specAt = below(at, 'spec');
  const spec = reader.mapping(stage['spec'], specAt, true);
  const executionAt = below(specAt, 'execution');
  const execution = spec ? reader.mapping(spec['execution'], executionAt) : undefined;
  if (spec && !execution) {
    report.error(
      specAt,
      `a ${String(stage['type'] ?? 'stage')} stage without spec.execution has no steps Convoy can run`,
    );
  }
  const scope: Scope = { prefix: '', groupRules: [], resolve, groupRollbacks: [] };
  let steps: ImportedStep[] = [];
  let rollbackSteps: ImportedStep[] = [];
  if (execution) {
    reader.keys(execution, executionAt, { read: ['steps', 'rollbackSteps'] });
    steps = importElements(context, execution['steps'], below(executionAt, 'steps'), scope, true);
    rollbackSteps = importElements(
      context,
      execution['rollbackSteps'],
      below(executionAt, 'rollbackSteps'),
      { ...scope, placement: 'rollback' },
      false,
    );
  }
  if (name === undefined) return undefined;
  return {
    name,
    at,
    variables: variables.values,
    rules,
    steps,
    // Harness rolls back the step groups that ran, the last first, then runs the stage's own.
    rollbackSteps: [...scope.groupRollbacks.reverse().flat(), ...rollbackSteps],
  };
}

/**
 * `<+pipeline.variables.NAME>` and `<+stage.variables.NAME>` read Convoy variables; a stage
 * variable hides a pipeline variable of the same name in Convoy, so that pipeline variable cannot
 * be read there (reported with the expression).
 */
function resolverFor(
  pipelineVariables: ReadonlyMap<string, string>,
  stageVariables: ReadonlyMap<string, string>,
): VariableResolver {
  return (reference) => {
    const match = /^(pipeline|stage)\.variables\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(reference);
    if (!match) return undefined;
    const [, scope, name] = match;
    if (scope === 'stage') return stageVariables.get(name!);
    return stageVariables.has(name!) ? undefined : pipelineVariables.get(name!);
  };
}

/** Templates and looping strategies: the import needs the resolved YAML, and Convoy has no loops here. */
function reportTemplateAndLoop(
  context: Context,
  record: HarnessRecord,
  at: HarnessLocation,
  what: 'stage' | 'step group' | 'step',
): void {
  if (record['template'] !== undefined) {
    context.report.error(
      below(at, 'template'),
      `${what} templates are not imported: import the resolved pipeline YAML`,
    );
  }
  if (record['strategy'] !== undefined) {
    context.report.error(
      below(at, 'strategy'),
      'looping strategies (matrix, repeat, parallelism) are not imported',
    );
  }
}

/** A stage's or step's `when`: anything but the default is not carried over. */
function reportCondition(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  statusKey: 'pipelineStatus' | 'stageStatus',
  instead: string,
): void {
  const when = context.reader.mapping(value, at);
  if (!when) return;
  const isDefault = Object.keys(when).every((key) => key === statusKey) && when[statusKey] === 'Success';
  if (!isDefault) context.report.warn(at, `conditional execution is not carried over: ${instead}`);
}

/** Steps, step groups and parallel blocks of an execution, flattened in order. */
function importElements(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  scope: Scope,
  required: boolean,
): ImportedStep[] {
  const { reader, report } = context;
  const steps: ImportedStep[] = [];
  (reader.list(value, at, required) ?? []).forEach((element, index) => {
    const elementAt = below(at, index);
    const wrapper = reader.mapping(element, elementAt, true);
    if (!wrapper) return;
    if (wrapper['step'] !== undefined) {
      reader.keys(wrapper, elementAt, { read: ['step'] });
      const step = importStep(context, wrapper['step'], below(elementAt, 'step'), scope);
      if (step) steps.push(step);
    } else if (wrapper['stepGroup'] !== undefined) {
      reader.keys(wrapper, elementAt, { read: ['stepGroup'] });
      steps.push(...importStepGroup(context, wrapper['stepGroup'], below(elementAt, 'stepGroup'), scope));
    } else if (wrapper['parallel'] !== undefined) {
      reader.keys(wrapper, elementAt, { read: ['parallel'] });
      const parallelAt = below(elementAt, 'parallel');
      if (scope.placement === 'branch') {
        report.error(
          parallelAt,
          'a parallel block inside a parallel block is not supported: Convoy branches do not nest; ' +
            'make its steps branches of the outer block, or run them one after another',
        );
      } else if (scope.placement === 'rollback') {
        report.error(
          parallelAt,
          'a parallel block in rollback steps is not supported: Convoy runs rollback steps one after another',
        );
      } else {
        const step = importParallel(context, wrapper['parallel'], parallelAt, scope);
        if (step) steps.push(step);
      }
    } else {
      report.error(elementAt, 'expected a step, a stepGroup or a parallel block');
    }
  });
  return steps;
}

/**
 * A parallel block of steps and step groups: a Convoy parallel step whose branches are its
 * elements, each named after its identifier (a step group's steps run in order in its branch).
 */
function importParallel(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  scope: Scope,
): ImportedStep | undefined {
  const { reader, report } = context;
  const inBranch: Scope = { ...scope, placement: 'branch' };
  const branches: ImportedBranch[] = [];
  (reader.list(value, at, true) ?? []).forEach((element, index) => {
    const elementAt = below(at, index);
    const wrapper = reader.mapping(element, elementAt, true);
    if (!wrapper) return;
    const kind =
      wrapper['step'] !== undefined ? 'step' : wrapper['stepGroup'] !== undefined ? 'stepGroup' : undefined;
    if (kind === undefined) {
      report.error(elementAt, 'expected a step or a stepGroup');
      return;
    }
    reader.keys(wrapper, elementAt, { read: [kind] });
    const innerAt = below(elementAt, kind);
    const inner = reader.mapping(wrapper[kind], innerAt, true);
    if (!inner) return;
    const identifier =
      reader.text(inner['identifier'], below(innerAt, 'identifier'), true) ?? `branch-${index + 1}`;
    const steps =
      kind === 'step'
        ? [importStep(context, wrapper[kind], innerAt, inBranch)].filter(
            (s): s is ImportedStep => s !== undefined,
          )
        : importStepGroup(context, wrapper[kind], innerAt, inBranch);
    if (steps.length > 0)
      branches.push({ name: convoyName(identifier) ?? `branch-${index + 1}`, at: innerAt, steps });
  });
  if (branches.length === 0) return undefined;
  return {
    name: 'parallel',
    harnessType: 'parallel block',
    body: { type: 'parallel', branches },
    rules: [],
    at,
  };
}

/** A sequential step group, flattened: its steps named `<group>.<step>`, its rules after theirs. */
function importStepGroup(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  scope: Scope,
): ImportedStep[] {
  const { reader, report } = context;
  const group = reader.mapping(value, at, true);
  if (!group) return [];
  reader.keys(group, at, {
    read: [
      'identifier',
      'name',
      'steps',
      'rollbackSteps',
      'failureStrategies',
      'when',
      'strategy',
      'template',
    ],
    inert: ['description', 'sharedPaths'],
  });
  reportTemplateAndLoop(context, group, at, 'step group');
  reportCondition(
    context,
    group['when'],
    below(at, 'when'),
    'stageStatus',
    'the group runs when the steps before it succeeded',
  );
  const identifier = reader.text(group['identifier'], below(at, 'identifier'), true) ?? 'group';
  const inner: Scope = {
    ...scope,
    prefix: `${scope.prefix}${identifier}.`,
    groupRules: [
      ...importRules(context, group['failureStrategies'], below(at, 'failureStrategies')),
      ...scope.groupRules,
    ],
  };
  const steps = importElements(context, group['steps'], below(at, 'steps'), inner, true);
  if (group['rollbackSteps'] !== undefined) {
    const rollback = importElements(
      context,
      group['rollbackSteps'],
      below(at, 'rollbackSteps'),
      { ...inner, placement: 'rollback' },
      false,
    );
    if (rollback.length > 0) {
      scope.groupRollbacks.push(rollback);
      report.warn(
        below(at, 'rollbackSteps'),
        "run with the workflow's rollback (Convoy has one rollback list per workflow), also when the group had not started",
      );
    }
  }
  return steps;
}

/** One step. */
function importStep(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  scope: Scope,
): ImportedStep | undefined {
  const { reader, report } = context;
  const step = reader.mapping(value, at, true);
  if (!step) return undefined;
  reader.keys(step, at, {
    read: [
      'type',
      'identifier',
      'name',
      'spec',
      'timeout',
      'failureStrategies',
      'when',
      'strategy',
      'template',
    ],
    inert: ['description'],
  });
  reportTemplateAndLoop(context, step, at, 'step');
  reportCondition(
    context,
    step['when'],
    below(at, 'when'),
    'stageStatus',
    'the step runs when the steps before it succeeded',
  );
  const type = reader.text(step['type'], below(at, 'type'), true);
  const identifier = reader.text(step['identifier'], below(at, 'identifier'), true);
  if (type === undefined || identifier === undefined) return undefined;
  const timeoutMs = importDuration(context, step['timeout'], below(at, 'timeout'));
  const spec = reader.mapping(
    step['spec'],
    below(at, 'spec'),
    type === 'ShellScript' || type === 'Wait' || type === 'Barrier',
  );
  const specAt = below(at, 'spec');
  let body: ImportedStepBody | undefined;
  switch (type) {
    case 'ShellScript':
      body = spec && importShellScript(context, spec, specAt, timeoutMs, scope.resolve);
      break;
    case 'Wait': {
      const durationMs = spec && importDuration(context, spec['duration'], below(specAt, 'duration'), true);
      if (spec) reader.keys(spec, specAt, { read: ['duration'] });
      if (durationMs !== undefined)
        body = { type: 'wait', durationMs, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
      break;
    }
    case 'Barrier': {
      const identifierOfBarrier = spec && importBarrierRef(context, spec, specAt);
      if (identifierOfBarrier !== undefined)
        body = {
          type: 'barrier',
          identifier: identifierOfBarrier,
          timeoutMs: timeoutMs ?? DEFAULT_BARRIER_TIMEOUT_MS,
        };
      break;
    }
    default: {
      const name = reader.text(step['name'], below(at, 'name'));
      body = otherStepBody(
        { type, identifier, name, spec: step['spec'], timeoutMs },
        context.mappings,
        at,
        report,
      );
    }
  }
  if (body === undefined) return undefined;
  const rules = importRules(context, step['failureStrategies'], below(at, 'failureStrategies'));
  return {
    name: `${scope.prefix}${identifier}`,
    harnessType: type,
    body,
    rules: [...rules, ...scope.groupRules],
    at,
  };
}

function importShellScript(
  context: Context,
  spec: HarnessRecord,
  at: HarnessLocation,
  timeoutMs: number | undefined,
  resolve: VariableResolver,
): ImportedStepBody | undefined {
  const { reader, report } = context;
  reader.keys(spec, at, {
    read: ['shell', 'source', 'environmentVariables', 'outputVariables', 'executionTarget', 'onDelegate'],
    inert: ['metadata'],
  });
  const shell = reader.text(spec['shell'], below(at, 'shell')) ?? 'Bash';
  if (!isBash(shell, 'Bash', below(at, 'shell'), report)) return undefined;
  const sourceAt = below(at, 'source');
  const source = reader.mapping(spec['source'], sourceAt, true);
  if (!source) return undefined;
  const sourceType = reader.text(source['type'], below(sourceAt, 'type')) ?? 'Inline';
  if (sourceType !== 'Inline') {
    report.error(below(sourceAt, 'type'), `scripts from ${sourceType} are not imported: inline the script`);
    return undefined;
  }
  const sourceSpec = reader.mapping(source['spec'], below(sourceAt, 'spec'), true);
  const scriptAt = below(sourceAt, 'spec', 'script');
  const script = sourceSpec && reader.text(sourceSpec['script'], scriptAt, true);
  if (script === undefined) return undefined;
  if (reader.list(spec['outputVariables'], below(at, 'outputVariables'))?.length) {
    report.warn(
      below(at, 'outputVariables'),
      'output variables are not carried over: later steps cannot read them',
    );
  }
  if (!reader.flag(spec['onDelegate'], below(at, 'onDelegate'), true)) {
    report.warn(below(at, 'executionTarget'), 'runs on the Convoy worker, not on the execution target host');
  }
  const env = importEnvironment(
    context,
    spec['environmentVariables'],
    below(at, 'environmentVariables'),
    resolve,
  );
  return bashScriptBody(translateExpressions(script, 'command', resolve, scriptAt, report), env, timeoutMs);
}

function importEnvironment(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  resolve: VariableResolver,
): Record<string, string> {
  const { reader, report } = context;
  const env: Record<string, string> = {};
  reader.eachMapping(value, at, (variable, entryAt) => {
    reader.keys(variable, entryAt, { read: ['name', 'type', 'value'] });
    const name = reader.text(variable['name'], below(entryAt, 'name'), true);
    if (name === undefined) return;
    if (variable['type'] === 'Secret') {
      report.warn(entryAt, `secret '${name}' is not carried over: give it to the worker's environment`);
      return;
    }
    if (!ENV_NAME_PATTERN.test(name) || name.startsWith('CONVOY_')) {
      report.warn(below(entryAt, 'name'), `'${name}' is not carried over: not a name Convoy can export`);
      return;
    }
    const text = reader.text(variable['value'], below(entryAt, 'value')) ?? '';
    env[name] = translateExpressions(text, 'value', resolve, below(entryAt, 'value'), report);
  });
  return env;
}

function importBarrierRef(context: Context, spec: HarnessRecord, at: HarnessLocation): string | undefined {
  context.reader.keys(spec, at, { read: ['barrierRef'] });
  const refAt = below(at, 'barrierRef');
  const ref = context.reader.text(spec['barrierRef'], refAt, true);
  const identifier =
    ref === undefined ? undefined : literalOrDefault(ref, refAt, context.report, 'barrier identifier');
  if (identifier === undefined) return undefined;
  if (!context.barriers.has(identifier)) {
    context.report.error(
      refAt,
      `barrier '${identifier}' is not declared in pipeline.flowControl.barriers (Harness rejects the pipeline)`,
    );
  }
  return identifier;
}

/** A Harness duration field in milliseconds (a runtime input takes its default). */
function importDuration(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  required = false,
): number | undefined {
  const text = context.reader.text(value, at, required);
  if (text === undefined) return undefined;
  const literal = literalOrDefault(text, at, context.report, 'duration');
  if (literal === undefined) return undefined;
  const ms = parseHarnessDuration(literal);
  if (ms === undefined) context.report.error(at, `expected a duration like 10m or 1h 30m, got '${literal}'`);
  return ms;
}

/** `failureStrategies: [{ onFailure: { errors, action } }]` → Convoy rules, in order. */
function importRules(context: Context, value: unknown, at: HarnessLocation): PlacedRule[] {
  const { reader, report } = context;
  const placed: PlacedRule[] = [];
  reader.eachMapping(value, at, (strategy, entryAt) => {
    reader.keys(strategy, entryAt, { read: ['onFailure'] });
    const onFailureAt = below(entryAt, 'onFailure');
    const onFailure = reader.mapping(strategy['onFailure'], onFailureAt, true);
    if (!onFailure) return;
    reader.keys(onFailure, onFailureAt, { read: ['errors', 'action'] });
    const errorsAt = below(onFailureAt, 'errors');
    const errors = reader.texts(onFailure['errors'], errorsAt, true);
    const on = mapErrorTypes(errors, NEXTGEN_ERROR_TYPES, errorsAt, report);
    const rule = importAction(context, onFailure['action'], below(onFailureAt, 'action'), on);
    if (!rule) return;
    if (on.length === 0) {
      report.warn(onFailureAt, 'rule dropped: none of its error types has a Convoy counterpart');
      return;
    }
    placed.push(...placeRule(rule, onFailureAt, report));
  });
  return placed;
}

function importAction(context: Context, value: unknown, at: HarnessLocation, on: ErrorType[]) {
  const { reader, report } = context;
  const action = reader.mapping(value, at, true);
  if (!action) return undefined;
  reader.keys(action, at, { read: ['type', 'spec'] });
  const typeAt = below(at, 'type');
  const type = reader.text(action['type'], typeAt, true);
  const convoy = type === undefined ? undefined : mapAction(type, NEXTGEN_ACTIONS, 'rule', typeAt, report);
  if (convoy === undefined) return undefined;
  const specAt = below(at, 'spec');
  const spec = reader.mapping(action['spec'], specAt, convoy === 'retry');
  if (convoy === 'retry') {
    if (!spec) return undefined;
    reader.keys(spec, specAt, { read: ['retryCount', 'retryIntervals', 'onRetryFailure'] });
    const retryCount = reader.integer(spec['retryCount'], below(specAt, 'retryCount'), true);
    const intervalsAt = below(specAt, 'retryIntervals');
    const intervals = (reader.list(spec['retryIntervals'], intervalsAt) ?? []).map((interval, i) =>
      importDuration(context, interval, below(intervalsAt, i), true),
    );
    const after = nestedAction(
      context,
      spec['onRetryFailure'],
      below(specAt, 'onRetryFailure'),
      'afterRetry',
    );
    return buildRule(on, 'retry', {
      retryCount,
      retryIntervalsMs: retryIntervalsMs(intervals),
      onRetryFailure: after?.action as 'abort' | 'rollback' | 'ignore' | 'manual-intervention' | undefined,
    });
  }
  if (convoy === 'manual-intervention') {
    if (spec) reader.keys(spec, specAt, { read: ['timeout', 'onTimeout'] });
    const timeoutMs = spec && importDuration(context, spec['timeout'], below(specAt, 'timeout'));
    const onTimeout =
      spec && nestedAction(context, spec['onTimeout'], below(specAt, 'onTimeout'), 'onTimeout');
    return buildRule(on, 'manual-intervention', {
      timeoutMs,
      onTimeout: onTimeout?.action as 'abort' | 'rollback' | 'ignore' | 'mark-success' | undefined,
    });
  }
  return buildRule(on, convoy as 'abort' | 'rollback' | 'ignore');
}

/** `onRetryFailure: { action: { type } }` and `onTimeout: { action: { type } }`. */
function nestedAction(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  place: 'afterRetry' | 'onTimeout',
): { action: string } | undefined {
  const { reader, report } = context;
  const wrapper = reader.mapping(value, at);
  if (!wrapper) return undefined;
  reader.keys(wrapper, at, { read: ['action'] });
  const actionAt = below(at, 'action');
  const action = reader.mapping(wrapper['action'], actionAt, true);
  if (!action) return undefined;
  reader.keys(action, actionAt, { read: ['type', 'spec'] });
  const type = reader.text(action['type'], below(actionAt, 'type'), true);
  const convoy =
    type === undefined ? undefined : mapAction(type, NEXTGEN_ACTIONS, place, below(actionAt, 'type'), report);
  if (convoy === 'manual-intervention' && action['spec'] !== undefined) {
    report.warn(
      below(actionAt, 'spec'),
      "the manual intervention after retries waits for an operator without a timeout (Convoy's retry rule has none)",
    );
  }
  return convoy === undefined ? undefined : { action: convoy };
}
