/**
 * The file's rules about secrets (SPEC section 1, "Secrets"), besides expansion (expand.ts):
 * secrets may stand only in the fields whose values reach a step on the worker, and a declared
 * secret no step uses is worth a warning.
 *
 * Pure module.
 */
import type { StagePlan } from '../model/plan';
import { type SecretSource, mentionsSecret } from '../model/secrets';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import { leafSteps } from '../model/plan';
import type { PipelineFile, RollbackStepFile, WorkflowStepFile } from './schema';

/** Where `${{ secrets.NAME }}` may stand, for messages. */
export const SECRET_FIELDS =
  "a shell step's command and env values, an http step's url, headers values and body";

/** The file's `secrets`, as the plan records their sources. */
export function declaredSecrets(file: Pick<PipelineFile, 'secrets'>): Map<string, SecretSource> {
  const secrets = new Map<string, SecretSource>();
  for (const [name, source] of Object.entries(file.secrets ?? {})) {
    secrets.set(name, source.env !== undefined ? { env: source.env } : { file: source.file! });
  }
  return secrets;
}

/**
 * Secrets written where their value would not reach a step: variable values (including `--var`
 * overrides), step names, descriptions and `when` values. Names and barrier identifiers refuse
 * every expression in the schema already. Such a text is never expanded, so without this rule
 * the reference would silently stay literal text, or a variable could smuggle one into a field.
 */
export function misplacedSecretErrors(
  file: PipelineFile,
  overrides: Readonly<Record<string, string>> | undefined,
): ValidationIssue[] {
  const errors: ValidationIssue[] = [];
  const message = `secrets are not allowed here; only in ${SECRET_FIELDS}`;
  const check = (at: readonly PathSegment[], text: string | undefined): void => {
    if (text !== undefined && mentionsSecret(text)) errors.push({ path: formatPath(at), message });
  };
  for (const [name, value] of Object.entries(overrides ?? {}))
    if (mentionsSecret(value)) errors.push({ path: `--var ${name}`, message });
  for (const [name, value] of Object.entries(file.variables ?? {})) check(['variables', name], value);
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) => {
      const at: PathSegment[] = ['stages', stageIndex, 'workflows', workflowIndex];
      for (const [name, value] of Object.entries(workflow.variables ?? {}))
        check([...at, 'variables', name], value);
      const checkStep = (stepAt: PathSegment[], step: WorkflowStepFile | RollbackStepFile): void => {
        check([...stepAt, 'name'], step.name);
        check([...stepAt, 'description'], step.description);
        check([...stepAt, 'when', 'equals'], step.when?.equals);
        check([...stepAt, 'when', 'notEquals'], step.when?.notEquals);
        if (step.type !== 'parallel') return;
        step.branches.forEach((branch, branchIndex) => {
          check([...stepAt, 'branches', branchIndex, 'name'], branch.name);
          branch.steps.forEach((branchStep, index) =>
            checkStep([...stepAt, 'branches', branchIndex, 'steps', index], branchStep),
          );
        });
      };
      workflow.steps.forEach((step, index) => checkStep([...at, 'steps', index], step));
      (workflow.rollbackSteps ?? []).forEach((step, index) =>
        checkStep([...at, 'rollbackSteps', index], step),
      );
    }),
  );
  return errors;
}

/** A declared secret that no step uses: likely a typo, or left over. */
export function unusedSecretWarnings(
  file: Pick<PipelineFile, 'secrets'>,
  stages: readonly StagePlan[],
): ValidationIssue[] {
  const used = new Set<string>();
  for (const stage of stages)
    for (const workflow of stage.workflows)
      for (const step of [...leafSteps(workflow.steps), ...workflow.rollbackSteps])
        if (step.type === 'shell' || step.type === 'http')
          for (const name of Object.keys(step.secrets ?? {})) used.add(name);
  return Object.keys(file.secrets ?? {})
    .filter((name) => !used.has(name))
    .map((name) => ({
      path: formatPath(['secrets', name]),
      message: `secret '${name}' is not used by any step`,
    }));
}
