/**
 * Harness FirstGen pipeline and workflow YAML (Setup as code) → the imported pipeline
 * (imported.ts).
 *
 * - `pipelineStages`: each element runs a workflow (`ENV_STATE`), loops one (`ENV_LOOP_STATE`,
 *   → Convoy `forEach` over the looped values) or waits for an approval (`APPROVAL`, a step type
 *   to `--map`). An element with `parallel: true` runs in parallel with the one before it: each
 *   such parallel section is one Convoy stage, where its workflows' barriers meet, as in Harness.
 * - A workflow file is found by its name: `<workflowName>.yaml` among the files given.
 * - A workflow's steps are its pre-deployment steps, its phases' steps and its post-deployment
 *   steps, in order; its rollback phases (the last one first) give the rollback steps.
 *   `SHELL_SCRIPT` → shell (`bash -c`), `BARRIER` → barrier (`properties.identifier`,
 *   `properties.timeoutMillis`, default 600000); any other type → its `--map` command, else an error.
 * - `failureStrategies` of the workflow and of its phase steps → failure rules, `specificSteps`
 *   ones on those steps (see {@link FIRSTGEN_ERROR_TYPES} and {@link FIRSTGEN_ACTIONS}).
 *
 * Pure module.
 */
import type { ErrorType } from '../model/plan';
import { DEFAULT_BARRIER_TIMEOUT_MS } from '../model/plan';
import { VARIABLE_NAME_PATTERN } from '../pipeline-file/schema';
import { type ActionTable, mapAction } from './actions';
import { type VariableResolver, translateExpressions } from './expressions';
import { type PlacedRule, buildRule, mapErrorTypes, placeRule, retryIntervalsMs } from './failure-rules';
import type {
  ImportedPipeline,
  ImportedStage,
  ImportedStep,
  ImportedStepBody,
  ImportedWorkflow,
} from './imported';
import type { StepMappings } from './mappings';
import { type HarnessLocation, type ImportReport, below } from './report';
import { bashScriptBody, isBash, otherStepBody } from './steps';
import { type HarnessDocument, type HarnessRecord, HarnessReader, convoyName } from './values';

/** FirstGen failure types (`failureTypes`) and what each stands for in Convoy. */
export const FIRSTGEN_ERROR_TYPES: Readonly<Record<string, readonly ErrorType[] | null>> = {
  // FirstGen's catch-all for what goes wrong in a deployment: failed scripts, broken barriers...
  APPLICATION_ERROR: ['any'],
  TIMEOUT_ERROR: ['step-timeout', 'barrier-timeout'],
  VERIFICATION_FAILURE: null,
  CONNECTIVITY: null,
  AUTHENTICATION: null,
  AUTHORIZATION: null,
  DELEGATE_PROVISIONING: null,
  POLICY_EVALUATION_FAILURE: null,
  INPUT_TIMEOUT_FAILURE: null,
  APPROVAL_REJECTION: null,
  DELEGATE_RESTART: null,
  USER_MARKED_FAILURE: null,
};

const EVERY_ROLLBACK_PHASE = 'Convoy runs the rollback steps of every rollback phase of the workflow';

/** FirstGen `repairActionCode` and `actionAfterTimeout` values in Convoy terms. */
export const FIRSTGEN_ACTIONS: ActionTable = {
  ROLLBACK_WORKFLOW: { rule: 'rollback', afterRetry: 'rollback' },
  ROLLBACK_PHASE: {
    rule: ['rollback', EVERY_ROLLBACK_PHASE],
    afterRetry: ['rollback', EVERY_ROLLBACK_PHASE],
  },
  ROLLBACK_PROVISIONER_AFTER_PHASES: {
    rule: ['rollback', 'provisioners are not rolled back'],
    afterRetry: ['rollback', 'provisioners are not rolled back'],
  },
  ABORT_WORKFLOW_EXECUTION: { rule: 'abort', afterRetry: 'abort' },
  // "End execution": the workflow fails without rollback.
  END_EXECUTION: { rule: 'abort', afterRetry: 'abort', onTimeout: 'abort' },
  IGNORE: { rule: 'ignore', afterRetry: 'ignore', onTimeout: 'ignore' },
  RETRY: { rule: 'retry' },
  MANUAL_INTERVENTION: { rule: 'manual-intervention', afterRetry: 'manual-intervention' },
  CONTINUE_WITH_DEFAULTS: {},
  // actionAfterTimeout (an execution interrupt)
  ABORT_ALL: { onTimeout: 'abort' },
  ABORT: { onTimeout: 'abort' },
  ROLLBACK: { onTimeout: 'rollback' },
  MARK_SUCCESS: { onTimeout: 'mark-success' },
  MARK_FAILED: { onTimeout: ['abort', 'the workflow ends without rollback'] },
  ROLLBACK_PROVISIONER_AFTER_PHASES_ON_MANUAL_INTERVENTION: {
    onTimeout: ['rollback', 'provisioners are not rolled back'],
  },
};

/** Keys of a phase or phase step that only say where native deployment steps deploy. */
const DEPLOYMENT_TARGET_KEYS = [
  'type',
  'computeProviderName',
  'infraDefinitionName',
  'infraMappingName',
  'serviceName',
  'deploymentType',
  'daemonSet',
  'statefulSet',
  'provisionNodes',
  'templateExpressions',
  'phaseNameForRollback',
  'phaseStepNameForRollback',
  'statusForRollback',
];

interface Context {
  readonly reader: HarnessReader;
  readonly report: ImportReport;
  readonly mappings: StepMappings;
}

/** A failure strategy's rules, and the step names it is limited to. */
interface StrategyRules {
  placed: PlacedRule[];
  specificSteps?: readonly string[];
}

/** Imports a FirstGen pipeline and the workflows it runs. */
export function importFirstGen(
  pipelineFile: HarnessDocument,
  workflowFiles: readonly HarnessDocument[],
  mappings: StepMappings,
  report: ImportReport,
): ImportedPipeline {
  const reader = new HarnessReader(report);
  const context: Context = { reader, report, mappings };
  const root: HarnessLocation = { file: pipelineFile.file, path: [] };
  const pipeline = pipelineFile.data;
  reader.keys(pipeline, root, {
    read: ['pipelineStages'],
    inert: ['harnessApiVersion', 'type', 'description', 'tags'],
  });

  const workflowsByName = new Map(workflowFiles.map((file) => [workflowNameOf(file.file), file]));
  const used = new Set<string>();
  const sections: { index: number; element: HarnessRecord }[][] = [];
  const elementsAt = below(root, 'pipelineStages');
  (reader.list(pipeline['pipelineStages'], elementsAt, true) ?? []).forEach((value, index) => {
    const element = reader.mapping(value, below(elementsAt, index), true);
    if (!element) return;
    const parallel = reader.flag(element['parallel'], below(elementsAt, index, 'parallel'), false);
    if (parallel && sections.length > 0) sections[sections.length - 1]!.push({ index, element });
    else sections.push([{ index, element }]);
  });

  const stages: ImportedStage[] = [];
  sections.forEach((section, sectionIndex) => {
    const workflows = section.flatMap(({ index, element }) => {
      const workflow = importElement(context, element, below(elementsAt, index), workflowsByName, used);
      return workflow ? [workflow] : [];
    });
    if (workflows.length === 0) return;
    const stageNames = new Set(section.map(({ element }) => element['stageName']));
    const stageName = stageNames.size === 1 ? [...stageNames][0] : undefined;
    stages.push({
      name: (typeof stageName === 'string' && convoyName(stageName)) || `stage-${sectionIndex + 1}`,
      at: below(elementsAt, section[0]!.index),
      workflows,
    });
  });
  for (const [name, file] of workflowsByName) {
    if (!used.has(name))
      report.warn(
        { file: file.file, path: [] },
        `workflow '${name}' is not run by the pipeline: not imported`,
      );
  }
  return {
    generation: 'FirstGen',
    name: convoyName(workflowNameOf(pipelineFile.file)) ?? 'harness-pipeline',
    at: root,
    variables: {},
    stages,
  };
}

/** A workflow's name is its file's name (Setup as code keeps no name inside). */
function workflowNameOf(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1).replace(/\.(ya?ml|json)$/i, '');
}

/** One pipeline stage element → a Convoy workflow (undefined when Harness skips it or it cannot be read). */
function importElement(
  context: Context,
  element: HarnessRecord,
  at: HarnessLocation,
  workflowsByName: ReadonlyMap<string, HarnessDocument>,
  used: Set<string>,
): ImportedWorkflow | undefined {
  const { reader, report } = context;
  reader.keys(element, at, {
    read: [
      'type',
      'name',
      'stageName',
      'parallel',
      'workflowName',
      'workflowVariables',
      'skipCondition',
      'disable',
      'looped',
      'loopedVarName',
      'properties',
    ],
  });
  const type = reader.text(element['type'], below(at, 'type'), true);
  const label = reader.text(element['name'], below(at, 'name'));
  if (reader.flag(element['disable'], below(at, 'disable'), false)) {
    report.warn(below(at, 'disable'), 'disabled in Harness: not imported');
    return undefined;
  }
  if (!importSkipCondition(context, element['skipCondition'], below(at, 'skipCondition'))) return undefined;

  if (type === 'APPROVAL') {
    const step: ImportedStep = {
      name: label ?? 'approval',
      harnessType: 'APPROVAL',
      body: otherStepBody(
        { type: 'APPROVAL', name: label, spec: element['properties'] },
        context.mappings,
        at,
        report,
      ),
      rules: [],
      at,
    };
    const name = convoyName(label ?? 'approval') ?? 'approval';
    return { name, at, variables: {}, rules: [], steps: [step], rollbackSteps: [] };
  }
  const looped = type === 'ENV_LOOP_STATE' || reader.flag(element['looped'], below(at, 'looped'), false);
  if (type !== 'ENV_STATE' && type !== 'ENV_LOOP_STATE') {
    if (type !== undefined)
      report.error(
        below(at, 'type'),
        `unknown pipeline stage type '${type}'; expected ENV_STATE, ENV_LOOP_STATE or APPROVAL`,
      );
    return undefined;
  }
  const workflowName = reader.text(element['workflowName'], below(at, 'workflowName'), true);
  if (workflowName === undefined) return undefined;
  const workflowFile = workflowsByName.get(workflowName);
  if (!workflowFile) {
    report.error(
      below(at, 'workflowName'),
      `workflow '${workflowName}': no file ${workflowName}.yaml among the files given (name the workflow files after the pipeline file)`,
    );
    return undefined;
  }
  used.add(workflowName);
  const name = convoyName(label ?? workflowName) ?? convoyName(workflowName) ?? 'workflow';
  const variables = importVariables(
    context,
    workflowFile,
    element['workflowVariables'],
    below(at, 'workflowVariables'),
  );
  let forEach: string[] | undefined;
  let loopVariable: string | undefined;
  if (looped) {
    const loop = importLoop(context, element, at, variables);
    if (!loop) return undefined;
    ({ items: forEach, variable: loopVariable } = loop);
    delete variables[loopVariable];
  }
  const resolve: VariableResolver = (reference) => {
    const match = /^workflow\.variables\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(reference);
    if (!match) return undefined;
    if (match[1] === loopVariable) return 'item';
    return Object.hasOwn(variables, match[1]!) ? match[1] : undefined;
  };
  return {
    ...importWorkflow(context, workflowFile, resolve),
    name,
    variables,
    ...(forEach === undefined ? {} : { forEach }),
  };
}

/** `skipCondition`: false when Harness always skips the element. */
function importSkipCondition(context: Context, value: unknown, at: HarnessLocation): boolean {
  const { reader, report } = context;
  const condition = reader.mapping(value, at);
  if (!condition) return true;
  reader.keys(condition, at, { read: ['type', 'expression'] });
  const type = reader.text(condition['type'], below(at, 'type')) ?? 'DO_NOT_SKIP';
  if (type === 'ALWAYS_SKIP') {
    report.warn(at, 'Harness always skips this stage: not imported');
    return false;
  }
  if (type === 'CONDITIONAL_SKIP') {
    const expression = reader.text(condition['expression'], below(at, 'expression')) ?? '';
    report.warn(at, `skip condition '${expression}' is not carried over: the workflow always runs`);
  } else if (type !== 'DO_NOT_SKIP') {
    report.error(
      below(at, 'type'),
      `unknown skip condition '${type}'; expected DO_NOT_SKIP, ALWAYS_SKIP or CONDITIONAL_SKIP`,
    );
  }
  return true;
}

/**
 * The workflow's variables: its `userVariables` with their values, overridden by the pipeline
 * stage's `workflowVariables` (a list of `{ name, value }`).
 */
function importVariables(
  context: Context,
  workflowFile: HarnessDocument,
  stageValue: unknown,
  stageAt: HarnessLocation,
): Record<string, string> {
  const { reader, report } = context;
  const variables: Record<string, string> = {};
  const read = (value: unknown, at: HarnessLocation, inert: string[]) =>
    reader.eachMapping(value, at, (variable, entryAt) => {
      reader.keys(variable, entryAt, { read: ['name', 'value'], inert });
      const name = reader.text(variable['name'], below(entryAt, 'name'), true);
      const text = reader.text(variable['value'], below(entryAt, 'value'));
      if (name === undefined || text === undefined) return;
      if (!VARIABLE_NAME_PATTERN.test(name)) {
        report.warn(
          below(entryAt, 'name'),
          `variable '${name}' is not carried over: not a Convoy variable name`,
        );
        return;
      }
      variables[name] = translateExpressions(
        text,
        'literal',
        () => undefined,
        below(entryAt, 'value'),
        report,
      );
    });
  const workflowRoot: HarnessLocation = { file: workflowFile.file, path: [] };
  read(workflowFile.data['userVariables'], below(workflowRoot, 'userVariables'), [
    'type',
    'description',
    'fixed',
    'mandatory',
    'allowedValues',
    'allowedList',
  ]);
  read(stageValue, stageAt, ['entityType']);
  return variables;
}

/** The loop of an `ENV_LOOP_STATE`: the looped variable and its values (`a,b` or a list). */
function importLoop(
  context: Context,
  element: HarnessRecord,
  at: HarnessLocation,
  variables: Readonly<Record<string, string>>,
): { variable: string; items: string[] } | undefined {
  const { reader, report } = context;
  const properties = reader.mapping(element['properties'], below(at, 'properties'));
  const variable =
    reader.text(element['loopedVarName'], below(at, 'loopedVarName')) ??
    reader.text(properties?.['loopedVarName'], below(at, 'properties', 'loopedVarName'));
  if (variable === undefined) {
    report.error(at, 'a looped stage needs loopedVarName: the workflow variable whose values it loops over');
    return undefined;
  }
  const listed = reader.list(properties?.['loopedValues'], below(at, 'properties', 'loopedValues'));
  const values = listed ? listed.map((item) => String(item)) : (variables[variable] ?? '').split(',');
  const items = values.map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) {
    report.error(at, `no values to loop over: give workflow variable '${variable}' comma-separated values`);
    return undefined;
  }
  return { variable, items };
}

/** A workflow file's steps, rollback steps and workflow-level rules. */
function importWorkflow(
  context: Context,
  workflowFile: HarnessDocument,
  resolve: VariableResolver,
): Pick<ImportedWorkflow, 'at' | 'rules' | 'steps' | 'rollbackSteps'> {
  const { reader, report } = context;
  const workflow = workflowFile.data;
  const root: HarnessLocation = { file: workflowFile.file, path: [] };
  reader.keys(workflow, root, {
    read: [
      'phases',
      'rollbackPhases',
      'failureStrategies',
      'userVariables',
      'preDeploymentSteps',
      'postDeploymentSteps',
    ],
    inert: [
      'harnessApiVersion',
      'type',
      'envName',
      'description',
      'notificationRules',
      'concurrencyStrategy',
      'templatized',
      'templateExpressions',
      'tags',
    ],
  });
  const strategies = importStrategies(
    context,
    workflow['failureStrategies'],
    below(root, 'failureStrategies'),
  );
  const workflowRules = strategies.filter((strategy) => strategy.specificSteps === undefined);
  const stepRules = strategies.filter((strategy) => strategy.specificSteps !== undefined);

  const steps: ImportedStep[] = [];
  const addPhaseSteps = (value: unknown, at: HarnessLocation) =>
    (reader.list(value, at) ?? []).forEach((phaseStep, index) =>
      steps.push(...importPhaseStep(context, phaseStep, below(at, index), stepRules, resolve)),
    );
  addPhaseSteps(workflow['preDeploymentSteps'], below(root, 'preDeploymentSteps'));
  (reader.list(workflow['phases'], below(root, 'phases')) ?? []).forEach((phase, index) =>
    importPhase(context, phase, below(root, 'phases', index), (value, at) => addPhaseSteps(value, at)),
  );
  addPhaseSteps(workflow['postDeploymentSteps'], below(root, 'postDeploymentSteps'));

  const rollbackPhases: ImportedStep[][] = [];
  (reader.list(workflow['rollbackPhases'], below(root, 'rollbackPhases')) ?? []).forEach((phase, index) => {
    const phaseSteps: ImportedStep[] = [];
    importPhase(context, phase, below(root, 'rollbackPhases', index), (value, at) =>
      (reader.list(value, at) ?? []).forEach((phaseStep, stepIndex) =>
        phaseSteps.push(...importPhaseStep(context, phaseStep, below(at, stepIndex), stepRules, resolve)),
      ),
    );
    if (phaseSteps.length > 0) rollbackPhases.push(phaseSteps);
  });
  if (rollbackPhases.length > 1) {
    report.warn(
      below(root, 'rollbackPhases'),
      "rollback runs every rollback phase's steps (the last phase first), also of phases that had not started",
    );
  }
  if (steps.length === 0) report.error(root, 'the workflow has no steps');
  const names = new Set([...steps, ...rollbackPhases.flat()].map((step) => step.name));
  for (const strategy of stepRules) {
    for (const name of strategy.specificSteps!.filter((name) => !names.has(name))) {
      report.warn(
        strategy.placed[0]?.at ?? root,
        `no step named '${name}' in this workflow: the rule applies to no step`,
      );
    }
  }
  return {
    at: root,
    rules: workflowRules.flatMap((strategy) => strategy.placed),
    steps,
    rollbackSteps: rollbackPhases.reverse().flat(),
  };
}

function importPhase(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  addPhaseSteps: (value: unknown, at: HarnessLocation) => void,
): void {
  const phase = context.reader.mapping(value, at, true);
  if (!phase) return;
  context.reader.keys(phase, at, { read: ['name', 'phaseSteps'], inert: DEPLOYMENT_TARGET_KEYS });
  addPhaseSteps(phase['phaseSteps'], below(at, 'phaseSteps'));
}

/** A phase step's steps, with the rules that apply to each. */
function importPhaseStep(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  workflowStepRules: readonly StrategyRules[],
  resolve: VariableResolver,
): ImportedStep[] {
  const { reader, report } = context;
  const phaseStep = reader.mapping(value, at, true);
  if (!phaseStep) return [];
  reader.keys(phaseStep, at, {
    read: ['name', 'steps', 'stepsInParallel', 'failureStrategies', 'stepSkipStrategies'],
    inert: DEPLOYMENT_TARGET_KEYS,
  });
  (reader.list(phaseStep['stepSkipStrategies'], below(at, 'stepSkipStrategies')) ?? []).forEach(
    (strategy, index) => {
      const expression = reader.mapping(strategy, below(at, 'stepSkipStrategies', index))?.[
        'assertionExpression'
      ];
      report.warn(
        below(at, 'stepSkipStrategies', index),
        `skip condition '${String(expression ?? '')}' is not carried over: the steps always run`,
      );
    },
  );
  const stepsAt = below(at, 'steps');
  const list = reader.list(phaseStep['steps'], stepsAt) ?? [];
  if (reader.flag(phaseStep['stepsInParallel'], below(at, 'stepsInParallel'), false) && list.length > 1) {
    report.error(
      below(at, 'stepsInParallel'),
      'steps in parallel are not supported yet (they need Convoy parallel step groups, which come with ' +
        'the barrier-topologies issue): run them one after another',
    );
    return [];
  }
  const strategies = importStrategies(
    context,
    phaseStep['failureStrategies'],
    below(at, 'failureStrategies'),
  );
  const steps: ImportedStep[] = [];
  list.forEach((entry, index) => {
    const step = importStep(context, entry, below(stepsAt, index), resolve);
    if (!step) return;
    const applies = (strategy: StrategyRules) =>
      strategy.specificSteps === undefined || strategy.specificSteps.includes(step.harnessName);
    const specific = (list: readonly StrategyRules[]) =>
      list.filter((strategy) => strategy.specificSteps !== undefined && applies(strategy));
    step.imported.rules = [
      ...specific(strategies),
      ...specific(workflowStepRules),
      ...strategies.filter((s) => s.specificSteps === undefined),
    ].flatMap((strategy) => strategy.placed);
    steps.push(step.imported);
  });
  return steps;
}

/** One step: `SHELL_SCRIPT`, `BARRIER`, or a mapped type. */
function importStep(
  context: Context,
  value: unknown,
  at: HarnessLocation,
  resolve: VariableResolver,
): { imported: ImportedStep; harnessName: string } | undefined {
  const { reader, report } = context;
  const step = reader.mapping(value, at, true);
  if (!step) return undefined;
  reader.keys(step, at, { read: ['type', 'name', 'properties'] });
  const type = reader.text(step['type'], below(at, 'type'), true);
  const name = reader.text(step['name'], below(at, 'name'), true);
  if (type === undefined || name === undefined) return undefined;
  const propertiesAt = below(at, 'properties');
  const properties =
    reader.mapping(step['properties'], propertiesAt, type === 'SHELL_SCRIPT' || type === 'BARRIER') ?? {};
  const timeoutMs = reader.integer(properties['timeoutMillis'], below(propertiesAt, 'timeoutMillis'));
  let body: ImportedStepBody | undefined;
  if (type === 'SHELL_SCRIPT') {
    body = importShellScript(context, properties, propertiesAt, timeoutMs, resolve);
  } else if (type === 'BARRIER') {
    const identifier = reader.text(properties['identifier'], below(propertiesAt, 'identifier'), true);
    if (identifier !== undefined)
      body = { type: 'barrier', identifier, timeoutMs: timeoutMs ?? DEFAULT_BARRIER_TIMEOUT_MS };
  } else {
    body = otherStepBody({ type, name, spec: step['properties'], timeoutMs }, context.mappings, at, report);
  }
  if (body === undefined) return undefined;
  return { imported: { name, harnessType: type, body, rules: [], at }, harnessName: name };
}

function importShellScript(
  context: Context,
  properties: HarnessRecord,
  at: HarnessLocation,
  timeoutMs: number | undefined,
  resolve: VariableResolver,
): ImportedStepBody | undefined {
  const { reader, report } = context;
  const scriptType = reader.text(properties['scriptType'], below(at, 'scriptType')) ?? 'BASH';
  if (!isBash(scriptType, 'BASH', below(at, 'scriptType'), report)) return undefined;
  const scriptAt = below(at, 'scriptString');
  const script = reader.text(properties['scriptString'], scriptAt, true);
  if (script === undefined) return undefined;
  const workingDirectory = reader.text(properties['commandPath'], below(at, 'commandPath'));
  if (workingDirectory !== undefined && workingDirectory.trim() !== '') {
    report.warn(
      below(at, 'commandPath'),
      `working directory '${workingDirectory}' is not carried over: the script runs in the worker's`,
    );
  }
  if (!reader.flag(properties['executeOnDelegate'], below(at, 'executeOnDelegate'), true)) {
    report.warn(below(at, 'executeOnDelegate'), 'runs on the Convoy worker, not on the target host');
  }
  const outputVars = reader.text(properties['outputVars'], below(at, 'outputVars'));
  if (
    (outputVars !== undefined && outputVars.trim() !== '') ||
    reader.flag(properties['publishAsVar'], below(at, 'publishAsVar'), false)
  ) {
    report.warn(at, 'published output variables are not carried over: later steps cannot read them');
  }
  return bashScriptBody(translateExpressions(script, 'command', resolve, scriptAt, report), {}, timeoutMs);
}

/** The Convoy action of an optional action field of a failure strategy. */
function optionalAction(
  context: Context,
  strategy: HarnessRecord,
  at: HarnessLocation,
  key: 'repairActionCodeAfterRetry' | 'actionAfterTimeout',
  place: 'afterRetry' | 'onTimeout',
): string | undefined {
  const code = context.reader.text(strategy[key], below(at, key));
  return code === undefined
    ? undefined
    : mapAction(code, FIRSTGEN_ACTIONS, place, below(at, key), context.report);
}

/** A list of FirstGen failure strategies → rules, each with its `specificSteps`. */
function importStrategies(context: Context, value: unknown, at: HarnessLocation): StrategyRules[] {
  const { reader, report } = context;
  const strategies: StrategyRules[] = [];
  reader.eachMapping(value, at, (strategy, entryAt) => {
    reader.keys(strategy, entryAt, {
      read: [
        'failureTypes',
        'repairActionCode',
        'retryCount',
        'retryIntervals',
        'repairActionCodeAfterRetry',
        'manualInterventionTimeout',
        'actionAfterTimeout',
        'specificSteps',
        'executionScope',
      ],
    });
    const typesAt = below(entryAt, 'failureTypes');
    const types = reader.texts(strategy['failureTypes'], typesAt, true);
    const on = mapErrorTypes(types, FIRSTGEN_ERROR_TYPES, typesAt, report);
    const actionAt = below(entryAt, 'repairActionCode');
    const code = reader.text(strategy['repairActionCode'], actionAt, true);
    const action =
      code === undefined ? undefined : mapAction(code, FIRSTGEN_ACTIONS, 'rule', actionAt, report);
    if (action === undefined) return;
    let rule;
    if (action === 'retry') {
      const intervalsAt = below(entryAt, 'retryIntervals');
      const seconds = (reader.list(strategy['retryIntervals'], intervalsAt) ?? []).map((interval, i) =>
        reader.integer(interval, below(intervalsAt, i), true),
      );
      const after = optionalAction(context, strategy, entryAt, 'repairActionCodeAfterRetry', 'afterRetry');
      if (after === 'manual-intervention' && strategy['manualInterventionTimeout'] !== undefined) {
        report.warn(
          below(entryAt, 'manualInterventionTimeout'),
          "the manual intervention after retries waits for an operator without a timeout (Convoy's retry rule has none)",
        );
      }
      rule = buildRule(on, 'retry', {
        retryCount: reader.integer(strategy['retryCount'], below(entryAt, 'retryCount'), true),
        retryIntervalsMs: retryIntervalsMs(seconds.map((s) => (s === undefined ? undefined : s * 1000))),
        onRetryFailure: after as 'abort' | 'rollback' | 'ignore' | 'manual-intervention' | undefined,
      });
    } else if (action === 'manual-intervention') {
      const onTimeout = optionalAction(context, strategy, entryAt, 'actionAfterTimeout', 'onTimeout');
      rule = buildRule(on, 'manual-intervention', {
        timeoutMs: reader.integer(
          strategy['manualInterventionTimeout'],
          below(entryAt, 'manualInterventionTimeout'),
        ),
        onTimeout: onTimeout as 'abort' | 'rollback' | 'ignore' | 'mark-success' | undefined,
      });
    } else {
      rule = buildRule(on, action as 'abort' | 'rollback' | 'ignore');
    }
    if (on.length === 0) {
      report.warn(entryAt, 'rule dropped: none of its failure types has a Convoy counterpart');
      return;
    }
    const specific = reader.texts(strategy['specificSteps'], below(entryAt, 'specificSteps'));
    strategies.push({
      placed: placeRule(rule, entryAt, report),
      ...(specific.length > 0 ? { specificSteps: specific } : {}),
    });
  });
  return strategies;
}
