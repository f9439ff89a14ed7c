/**
 * From a validated pipeline FILE to plan workflows: `forEach` expansion, variable merging,
 * `${{ ... }}` expressions, `CONVOY_VAR_*` environment and `when` evaluation (SPEC section 1).
 *
 * Variables merge in this order, later wins: pipeline `variables` < workflow `variables` <
 * the `forEach` item (`vars.item`) < `--var` overrides.
 *
 * Expressions are expanded in the string fields that carry data to a step: a shell step's
 * `command` and `env` values, an http step's `url`, `headers` values and `body`. A secret
 * (`${{ secrets.NAME }}`) is never expanded to its value: the plan keeps the reference and the
 * step lists where the worker reads it (see model/secrets.ts); in a shell command it becomes
 * `"$CONVOY_SECRET_NAME"`, which the shell reads as one word whatever the value holds.
 * Names, barrier identifiers, `when` and variable values themselves are never expanded (a variable
 * value holding `${{` stays literal text). In `command` every expression becomes one single-quoted
 * shell word (see shell-quoting.ts); elsewhere the value is inserted as is.
 *
 * Pure module.
 */
import type {
  BranchStepPlan,
  FailureRule,
  ParallelStepPlan,
  PipelinePlan,
  PipelineStepPlan,
  RollbackStepPlan,
  StepPlan,
  WorkflowPlan,
} from '../model/plan';
import { childPipelineId } from '../model/participants';
import {
  type SecretSource,
  type StepSecrets,
  secretEnvName,
  secretReference,
  substituteSecrets,
} from '../model/secrets';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import type {
  ParallelStepFile,
  PipelineStepFile,
  RollbackStepFile,
  StepFile,
  WhenCondition,
  WorkflowFile,
} from './schema';
import { VARIABLE_NAME_PATTERN } from './schema';
import { type ShellContext, ShellContexts, classifyExpressionContexts, shellQuote } from './shell-quoting';

/** Prefix of the environment variable each pipeline variable is exported as to shell steps. */
export const VARIABLE_ENV_PREFIX = 'CONVOY_VAR_';
/** Environment variables Convoy itself sets for shell steps, besides `CONVOY_VAR_*`. */
export const CONVOY_ENV = {
  pipelineId: 'CONVOY_PIPELINE_ID',
  workflowName: 'CONVOY_WORKFLOW_NAME',
} as const;
/** The variable a `forEach` item is bound to. */
export const FOR_EACH_ITEM_VARIABLE = 'item';

/** What expressions can refer to while one workflow is expanded. */
export interface ExpansionContext {
  /** Merged variables of the workflow (a Map: lookups never reach `Object.prototype`). */
  variables: ReadonlyMap<string, string>;
  pipelineId: string;
  /** The workflow's name after `forEach` expansion, e.g. `payments[eu]`. */
  workflowName: string;
  /** The pipeline's declared secrets; absent or empty when it declares none. */
  secrets?: ReadonlyMap<string, SecretSource>;
}

/** A string after expansion, with the problems found (unknown variables, unsafe placement...). */
export interface Expanded {
  value: string;
  problems: string[];
  /** The secrets the string refers to (their references stay in `value`). */
  secrets?: string[];
}

/**
 * The environment variable a pipeline variable is exported as: `CONVOY_VAR_` + the name upper-cased,
 * every character other than a letter or digit turned into `_` (`image-tag` → `CONVOY_VAR_IMAGE_TAG`).
 */
export function envNameForVariable(name: string): string {
  return VARIABLE_ENV_PREFIX + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Merges variable layers, later layers winning, into a Map. */
export function mergeVariables(
  ...layers: ReadonlyArray<Readonly<Record<string, string>> | undefined>
): Map<string, string> {
  const merged = new Map<string, string>();
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const name of Object.keys(layer)) merged.set(name, layer[name]!);
  }
  return merged;
}

/**
 * Parses one `--var NAME=VALUE` argument. The value may hold `=` and anything else; the name must
 * be a valid variable name. Returns a message instead of throwing when it is malformed.
 */
export function parseVarAssignment(
  text: string,
): { ok: true; name: string; value: string } | { ok: false; message: string } {
  const equals = text.indexOf('=');
  if (equals <= 0) return { ok: false, message: `--var ${text}: expected NAME=VALUE` };
  const name = text.slice(0, equals);
  const problem = checkVariableName(name);
  if (problem) return { ok: false, message: `--var ${text}: ${problem}` };
  return { ok: true, name, value: text.slice(equals + 1) };
}

/** Returns why `name` cannot be a variable name, or undefined when it can. */
export function checkVariableName(name: string): string | undefined {
  if (!VARIABLE_NAME_PATTERN.test(name) || name === '__proto__') {
    return `invalid variable name '${name}'; expected letters, digits, '_' and '-', not starting with a digit or '-'`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Expressions

interface ExpressionPart {
  /** Index of `${{` in the text. */
  index: number;
  /** The whole expression as written, e.g. `${{ vars.version }}`. */
  source: string;
  /** What is between the braces, trimmed, e.g. `vars.version`. */
  reference: string;
}

type TemplatePart = string | ExpressionPart;

/** Splits text into literal parts and `${{ ... }}` expressions. */
function parseTemplate(text: string): { parts: TemplatePart[]; problems: string[] } {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  let position = 0;
  for (;;) {
    const start = text.indexOf('${{', position);
    if (start < 0) break;
    const end = text.indexOf('}}', start + 3);
    if (end < 0) {
      problems.push(`unclosed expression '${abbreviate(text.slice(start))}': missing '}}'`);
      break;
    }
    if (start > position) parts.push(text.slice(position, start));
    const source = text.slice(start, end + 2);
    parts.push({ index: start, source, reference: text.slice(start + 3, end).trim() });
    position = end + 2;
  }
  if (position < text.length) parts.push(text.slice(position));
  return { parts, problems };
}

const VARIABLE_REFERENCE = /^vars\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const SECRET_REFERENCE = /^secrets\.(.*)$/;

/** What an expression resolved to; `secret` names the secret of a `secrets.NAME` reference. */
interface Resolved {
  value: string;
  problems: string[];
  secret?: string;
}

/**
 * Resolves `vars.NAME`, `pipeline.id` or `workflow.name` to its value; `secrets.NAME` to the
 * secret's name (its value is the worker's to read).
 */
function resolveReference(expression: ExpressionPart, context: ExpansionContext): Resolved {
  const secret = SECRET_REFERENCE.exec(expression.reference);
  if (secret) {
    const name = secret[1]!;
    if (context.secrets?.has(name)) return { value: '', problems: [], secret: name };
    return {
      value: '',
      problems: [`unknown secret '${name}' in ${expression.source}; ${describeDeclaredSecrets(context)}`],
    };
  }
  if (expression.reference === 'pipeline.id') return { value: context.pipelineId, problems: [] };
  if (expression.reference === 'workflow.name') return { value: context.workflowName, problems: [] };
  const variable = VARIABLE_REFERENCE.exec(expression.reference);
  if (variable) {
    const name = variable[1]!;
    const value = context.variables.get(name);
    if (value !== undefined) return { value, problems: [] };
    return {
      value: '',
      problems: [`unknown variable '${name}' in ${expression.source}; ${describeDefined(context.variables)}`],
    };
  }
  return {
    value: '',
    problems: [
      `unknown expression ${expression.source}; expected \${{ vars.NAME }}, \${{ secrets.NAME }}, \${{ pipeline.id }} or \${{ workflow.name }}`,
    ],
  };
}

/**
 * Expands expressions in a plain string field (URL, env value, header...): values go in as is,
 * secrets as their canonical reference.
 */
export function expandText(text: string, context: ExpansionContext): Expanded {
  const { parts, problems } = parseTemplate(text);
  const secrets = new Set<string>();
  let value = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      value += part;
      continue;
    }
    const resolved = resolveReference(part, context);
    if (resolved.secret !== undefined) {
      secrets.add(resolved.secret);
      value += secretReference(resolved.secret);
    } else value += resolved.value;
    problems.push(...resolved.problems);
  }
  return secrets.size === 0 ? { value, problems } : { value, problems, secrets: [...secrets] };
}

/**
 * Expands expressions in a shell command: each one becomes one single-quoted shell word, and only
 * where such a word is read as one (see shell-quoting.ts); elsewhere it is a problem, with advice.
 */
export function expandShellCommand(command: string, context: ExpansionContext): Expanded {
  const { parts, problems } = parseTemplate(command);
  if (!parts.some((part) => typeof part !== 'string')) return { value: command, problems };
  const contexts = classifyExpressionContexts(command);
  const secrets = new Set<string>();
  let value = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      value += part;
      continue;
    }
    const placement = contexts.get(part.index) ?? ShellContexts.escaped;
    if (placement !== ShellContexts.unquoted) {
      problems.push(describeUnsafePlacement(part, placement));
      continue;
    }
    const resolved = resolveReference(part, context);
    if (resolved.secret !== undefined) {
      // The shell reads the value from the step's environment: never re-parsed, one word.
      secrets.add(resolved.secret);
      value += `"$${secretEnvName(resolved.secret)}"`;
    } else value += shellQuote(resolved.value);
    problems.push(...resolved.problems);
  }
  return secrets.size === 0 ? { value, problems } : { value, problems, secrets: [...secrets] };
}

function describeUnsafePlacement(expression: ExpressionPart, placement: ShellContext): string {
  const where =
    placement === ShellContexts.escaped
      ? 'right after a backslash'
      : placement === ShellContexts.afterDollar
        ? "right after '$'"
        : `inside ${placement === ShellContexts.hereDocument ? 'a here-document (after <<)' : placement === ShellContexts.comment ? 'a comment' : placement}`;
  return (
    `${expression.source} stands ${where}; in a shell command each expression becomes one ` +
    `single-quoted word, which is only safe outside quotes: write it outside quotes ` +
    `(echo "version:" ${expression.source}) or use ${suggestedEnvReference(expression)} instead`
  );
}

function suggestedEnvReference(expression: ExpressionPart): string {
  if (SECRET_REFERENCE.test(expression.reference)) {
    return `a variable of the step's env (env: { TOKEN: '${expression.source}' }, then "$TOKEN")`;
  }
  if (expression.reference === 'pipeline.id') return `"$${CONVOY_ENV.pipelineId}"`;
  if (expression.reference === 'workflow.name') return `"$${CONVOY_ENV.workflowName}"`;
  const variable = VARIABLE_REFERENCE.exec(expression.reference);
  return variable ? `"$${envNameForVariable(variable[1]!)}"` : 'an environment variable';
}

/**
 * Evaluates `when` against the merged variables: `skip` is true when the step must not run.
 * A condition on an unknown variable is a problem (a typo would otherwise silently skip or run).
 */
export function evaluateWhen(
  when: WhenCondition | undefined,
  variables: ReadonlyMap<string, string>,
): { skip: boolean; problem?: string } {
  if (when === undefined) return { skip: false };
  const value = variables.get(when.var);
  if (value === undefined) {
    return { skip: false, problem: `unknown variable '${when.var}'; ${describeDefined(variables)}` };
  }
  if (when.equals !== undefined) return { skip: value !== when.equals };
  return { skip: value === when.notEquals };
}

// ---------------------------------------------------------------------------------------------
// Workflows

/** The workflows one file workflow expands to: itself, or one per `forEach` item. */
export function expandForEach(
  workflow: Pick<WorkflowFile, 'name' | 'forEach'>,
): { name: string; item?: string }[] {
  if (workflow.forEach === undefined) return [{ name: workflow.name }];
  return workflow.forEach.map((item) => ({ name: `${workflow.name}[${item}]`, item }));
}

/** What a `pipeline` step asks of the child pipeline file it names. */
export interface ChildPipelineRequest {
  /** The file as written, relative to the calling file. */
  file: string;
  /** The values the step passes, already expanded. */
  variables: Readonly<Record<string, string>>;
  /** The child pipeline workflow's ID. */
  pipelineId: string;
}

/**
 * Compiles a child pipeline file (reading is the caller's: this module is pure). Problems are
 * given relative to the step (`['file']`, `['variables', NAME]`), their messages naming the
 * child file and its field.
 */
export type ChildPipelineLoader = (
  request: ChildPipelineRequest,
) => { ok: true; plan: PipelinePlan } | { ok: false; issues: { at: PathSegment[]; message: string }[] };

/** Everything {@link expandWorkflow} needs besides the workflow itself. */
export interface WorkflowExpansionInput {
  workflow: WorkflowFile;
  /** Path of the workflow in the file, e.g. `['stages', 0, 'workflows', 1]`, for messages. */
  path: readonly PathSegment[];
  stageName: string;
  pipelineVariables: Readonly<Record<string, string>> | undefined;
  /** `--var` overrides. */
  overrides: Readonly<Record<string, string>> | undefined;
  pipelineId: string;
  /** The pipeline's declared secrets. */
  secrets?: ReadonlyMap<string, SecretSource>;
  /** Compiles the child pipelines of `pipeline` steps; without it they are an error. */
  loadChild?: ChildPipelineLoader;
}

/** One plan workflow and where it came from in the file. */
export interface ExpandedWorkflow {
  plan: WorkflowPlan;
  /** Path of the file workflow it was expanded from (shared by all `forEach` expansions). */
  path: readonly PathSegment[];
}

/**
 * Expands one file workflow into plan workflows (one per `forEach` item). Problems are reported
 * once per field even when several expansions share them.
 */
export function expandWorkflow(input: WorkflowExpansionInput): {
  workflows: ExpandedWorkflow[];
  issues: ValidationIssue[];
} {
  const { workflow, path } = input;
  const issues = new IssueCollector();
  const workflows: ExpandedWorkflow[] = [];

  for (const expansion of expandForEach(workflow)) {
    const variables = mergeVariables(
      input.pipelineVariables,
      workflow.variables,
      expansion.item === undefined ? undefined : { [FOR_EACH_ITEM_VARIABLE]: expansion.item },
      input.overrides,
    );
    reportEnvNameCollisions(variables, [...path, 'variables'], issues);
    const context: ExpansionContext = {
      variables,
      pipelineId: input.pipelineId,
      workflowName: expansion.name,
      secrets: input.secrets,
    };
    const convoyEnv = convoyEnvironment(context);

    const steps = workflow.steps.map((step, index): StepPlan => {
      const at = [...path, 'steps', index];
      if (step.type === 'parallel') return expandParallelStep(step, at, context, convoyEnv, issues);
      if (step.type === 'pipeline') return expandPipelineStep(step, at, context, issues, input.loadChild);
      return expandStep(step, at, context, convoyEnv, issues);
    });
    const rollbackSteps = (workflow.rollbackSteps ?? []).map(
      (step, index) =>
        expandStep(step, [...path, 'rollbackSteps', index], context, convoyEnv, issues) as RollbackStepPlan,
    );
    workflows.push({
      path,
      plan: {
        name: expansion.name,
        stage: input.stageName,
        variables: Object.fromEntries(variables),
        steps,
        rollbackSteps,
        failureStrategies: copyRules(workflow.failureStrategies),
      },
    });
  }
  return { workflows, issues: issues.list };
}

/** `CONVOY_VAR_<NAME>` for every variable, plus the pipeline id and workflow name. */
function convoyEnvironment(context: ExpansionContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of context.variables) env[envNameForVariable(name)] = value;
  env[CONVOY_ENV.pipelineId] = context.pipelineId;
  env[CONVOY_ENV.workflowName] = context.workflowName;
  return env;
}

function reportEnvNameCollisions(
  variables: ReadonlyMap<string, string>,
  at: readonly PathSegment[],
  issues: IssueCollector,
): void {
  const firstNameOfEnv = new Map<string, string>();
  for (const name of variables.keys()) {
    const envName = envNameForVariable(name);
    const earlier = firstNameOfEnv.get(envName);
    if (earlier === undefined) firstNameOfEnv.set(envName, name);
    else
      issues.add(at, `variables '${earlier}' and '${name}' would both be exported as ${envName}; rename one`);
  }
}

/** A parallel step: its `when`, and each branch's steps expanded like a workflow's. */
function expandParallelStep(
  step: ParallelStepFile,
  at: readonly PathSegment[],
  context: ExpansionContext,
  convoyEnv: Readonly<Record<string, string>>,
  issues: IssueCollector,
): ParallelStepPlan {
  const condition = evaluateWhen(step.when, context.variables);
  if (condition.problem) issues.add([...at, 'when', 'var'], condition.problem);
  return {
    name: step.name,
    ...(step.description === undefined ? {} : { description: step.description }),
    skip: condition.skip,
    type: 'parallel',
    branches: step.branches.map((branch, branchIndex) => ({
      name: branch.name,
      steps: branch.steps.map((branchStep, stepIndex) =>
        expandStep(
          branchStep,
          [...at, 'branches', branchIndex, 'steps', stepIndex],
          context,
          convoyEnv,
          issues,
        ),
      ),
    })),
  };
}

/**
 * A `pipeline` step: the child pipeline file is read (by `loadChild`, relative to the calling
 * file) and compiled into the step's plan, with the child pipeline workflow's ID.
 */
function expandPipelineStep(
  step: PipelineStepFile,
  at: readonly PathSegment[],
  context: ExpansionContext,
  issues: IssueCollector,
  loadChild?: ChildPipelineLoader,
): PipelineStepPlan {
  const condition = evaluateWhen(step.when, context.variables);
  if (condition.problem) issues.add([...at, 'when', 'var'], condition.problem);
  const common = {
    name: step.name,
    ...(step.description === undefined ? {} : { description: step.description }),
    skip: condition.skip,
    failureStrategies: copyRules(step.failureStrategies),
  };
  const field = (name: PathSegment[], expanded: Expanded): string => {
    for (const problem of expanded.problems) issues.add([...at, ...name], problem);
    return expanded.value;
  };
  const variables: Record<string, string> = {};
  for (const name of Object.keys(step.variables ?? {})) {
    const expanded = expandText(step.variables![name]!, context);
    if (expanded.secrets) {
      issues.add(
        [...at, 'variables', name],
        "secrets cannot be passed to a child pipeline: declare the secret in the child pipeline's file",
      );
    }
    // A secret's reference is not passed on: the child would report it once more.
    const value = field(['variables', name], { ...expanded, secrets: undefined });
    variables[name] = expanded.secrets ? '' : value;
  }
  const pipelineId = childPipelineId(context.pipelineId, context.workflowName, step.name);
  const placeholder: PipelinePlan = {
    pipelineId,
    name: step.name,
    source: step.file,
    failureStrategies: [],
    stages: [],
  };
  if (!loadChild) {
    issues.add([...at, 'file'], 'child pipelines are only read from a pipeline file on disk');
    return { ...common, type: 'pipeline', file: step.file, pipeline: placeholder };
  }
  const loaded = loadChild({ file: step.file, variables, pipelineId });
  if (!loaded.ok) {
    for (const issue of loaded.issues) issues.add([...at, ...issue.at], issue.message);
    return { ...common, type: 'pipeline', file: step.file, pipeline: placeholder };
  }
  return { ...common, type: 'pipeline', file: step.file, pipeline: loaded.plan };
}

function expandStep(
  step: StepFile | RollbackStepFile,
  at: readonly PathSegment[],
  context: ExpansionContext,
  convoyEnv: Readonly<Record<string, string>>,
  issues: IssueCollector,
): BranchStepPlan {
  const condition = evaluateWhen(step.when, context.variables);
  if (condition.problem) issues.add([...at, 'when', 'var'], condition.problem);
  const common = {
    name: step.name,
    ...(step.description === undefined ? {} : { description: step.description }),
    ...('timeoutMs' in step && step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
    skip: condition.skip,
    failureStrategies: copyRules(step.failureStrategies),
  };
  const usedSecrets = new Set<string>();
  /** Expands one field, files its problems under the field's path and notes its secrets. */
  const field = (name: PathSegment[], expanded: Expanded): string => {
    for (const problem of expanded.problems) issues.add([...at, ...name], problem);
    for (const secret of expanded.secrets ?? []) usedSecrets.add(secret);
    return expanded.value;
  };
  /** `secrets` for the step plan: where the worker reads each secret the step uses. */
  const stepSecrets = (): { secrets?: StepSecrets } => {
    if (usedSecrets.size === 0) return {};
    const secrets: StepSecrets = {};
    for (const name of [...usedSecrets].sort()) secrets[name] = context.secrets!.get(name)!;
    return { secrets };
  };

  switch (step.type) {
    case 'shell': {
      const env: Record<string, string> = {};
      for (const name of Object.keys(step.env ?? {})) {
        env[name] = field(['env', name], expandText(step.env![name]!, context));
      }
      const command = field(['command'], expandShellCommand(step.command, context));
      return { ...common, type: 'shell', command, env: { ...env, ...convoyEnv }, ...stepSecrets() };
    }
    case 'http': {
      const url = field(['url'], expandText(step.url, context));
      // The worker checks the URL again once the secrets are in; here they stand as a word.
      if (!isHttpUrl(substituteSecrets(url, placeholders(usedSecrets))) && !issues.has([...at, 'url'])) {
        issues.add([...at, 'url'], `expected an http:// or https:// URL, got '${abbreviate(url)}'`);
      }
      const headers: Record<string, string> = {};
      for (const name of Object.keys(step.headers ?? {})) {
        const value = field(['headers', name], expandText(step.headers![name]!, context));
        // A line break in a header value would smuggle extra headers into the request.
        if (/[\r\n\0]/.test(value))
          issues.add([...at, 'headers', name], 'header values must not contain line breaks');
        headers[name] = value;
      }
      const body = step.body === undefined ? {} : { body: field(['body'], expandText(step.body, context)) };
      return {
        ...common,
        type: 'http',
        method: step.method,
        url,
        headers,
        ...body,
        expectStatus: step.expectStatus,
        ...stepSecrets(),
      };
    }
    case 'wait':
      return { ...common, type: 'wait', durationMs: step.durationMs };
    case 'barrier':
      return {
        ...common,
        type: 'barrier',
        identifier: step.identifier,
        timeoutMs: step.timeoutMs,
        ...(step.train === undefined
          ? {}
          : { train: { name: step.train.name, expect: [...step.train.expect] } }),
      };
  }
}

function copyRules(rules: readonly FailureRule[] | undefined): FailureRule[] {
  return (rules ?? []).map((rule) => ({ ...rule, on: [...rule.on] }));
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Each secret's name standing for its value, to check the shape of a field before run time. */
function placeholders(secrets: ReadonlySet<string>): Map<string, string> {
  return new Map([...secrets].map((name) => [name, 'secret']));
}

function describeDeclaredSecrets(context: ExpansionContext): string {
  const names = [...(context.secrets?.keys() ?? [])].sort();
  if (names.length === 0) return 'the pipeline declares no secrets (declare them under secrets:)';
  return `declared: ${names.join(', ')}`;
}

function describeDefined(variables: ReadonlyMap<string, string>): string {
  const names = [...variables.keys()].sort();
  if (names.length === 0) return 'no variables are defined';
  const shown = names.slice(0, 20).join(', ');
  return `defined: ${shown}${names.length > 20 ? ', ...' : ''}`;
}

function abbreviate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Collects issues once per (path, message): forEach expansions share their file fields. */
class IssueCollector {
  readonly list: ValidationIssue[] = [];
  private readonly seen = new Set<string>();
  private readonly paths = new Set<string>();

  add(at: readonly PathSegment[], message: string): void {
    const path = formatPath(at);
    const key = `${path}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.paths.add(path);
    this.list.push({ path, message });
  }

  has(at: readonly PathSegment[]): boolean {
    return this.paths.has(formatPath(at));
  }
}
