/**
 * Step mappings: Harness step types Convoy has no equivalent for, each run as a shell command
 * (`--map K8sRollingDeploy=./deploy.sh`, or a YAML file of `TYPE: COMMAND` lines via `--map-file`
 * so a team maps its step types once). The command gets the Harness step's details in its
 * environment: `HARNESS_STEP_TYPE`, `HARNESS_STEP_ID`, `HARNESS_STEP_NAME` and `HARNESS_STEP_SPEC`
 * (the step's `spec` or FirstGen `properties`, as JSON).
 *
 * Pure module.
 */
import type { ValidationIssue } from '../pipeline-file/issues';
import { formatPath } from '../pipeline-file/issues';
import type { ImportedStepBody } from './imported';

/** Harness step type → shell command. */
export type StepMappings = ReadonlyMap<string, string>;

/** Step types the importer carries over itself; mapping them would hide a barrier or a script. */
export const NATIVE_STEP_TYPES: readonly string[] = [
  'ShellScript',
  'Wait',
  'Barrier',
  'SHELL_SCRIPT',
  'BARRIER',
];

const STEP_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Why `type` cannot be mapped, or undefined when it can. */
function checkMappedType(type: string): string | undefined {
  if (!STEP_TYPE_PATTERN.test(type)) return `'${type}' is not a Harness step type (letters, digits and '_')`;
  if (NATIVE_STEP_TYPES.includes(type))
    return `${type} steps are imported as they are; only other step types can be mapped`;
  return undefined;
}

/** Parses one `--map STEP_TYPE=COMMAND`. */
export function parseMapOption(
  text: string,
): { ok: true; type: string; command: string } | { ok: false; message: string } {
  const equals = text.indexOf('=');
  if (equals <= 0 || text.slice(equals + 1).trim() === '') {
    return { ok: false, message: `--map ${text}: expected STEP_TYPE=COMMAND` };
  }
  const type = text.slice(0, equals).trim();
  const problem = checkMappedType(type);
  if (problem) return { ok: false, message: `--map ${text}: ${problem}` };
  return { ok: true, type, command: text.slice(equals + 1) };
}

/**
 * Reads a mapping file's data (a YAML mapping of `STEP_TYPE: COMMAND`); problems come back as
 * issues at the offending key.
 */
export function readMappingData(data: unknown): { mappings: Map<string, string>; issues: ValidationIssue[] } {
  const mappings = new Map<string, string>();
  const issues: ValidationIssue[] = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    issues.push({
      path: '',
      message: 'expected a mapping of Harness step types to commands (K8sRollingDeploy: ./deploy.sh)',
    });
    return { mappings, issues };
  }
  for (const [type, command] of Object.entries(data)) {
    const problem = checkMappedType(type);
    if (problem) issues.push({ path: formatPath([type]), message: problem });
    else if (typeof command !== 'string' || command.trim() === '')
      issues.push({ path: formatPath([type]), message: 'expected a command (a non-empty string)' });
    else mappings.set(type, command);
  }
  return { mappings, issues };
}

/** The shell step a mapped Harness step becomes: the command, with the step's details in its environment. */
export function mappedStepBody(
  command: string,
  step: { type: string; identifier?: string; name?: string; spec?: unknown; timeoutMs?: number },
): ImportedStepBody {
  const env: Record<string, string> = { HARNESS_STEP_TYPE: step.type };
  if (step.identifier !== undefined) env['HARNESS_STEP_ID'] = step.identifier;
  if (step.name !== undefined) env['HARNESS_STEP_NAME'] = step.name;
  if (step.spec !== undefined && step.spec !== null) env['HARNESS_STEP_SPEC'] = JSON.stringify(step.spec);
  return {
    type: 'shell',
    command,
    env,
    ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
  };
}

/** The error for a step type nobody mapped. */
export function unmappedMessage(type: string): string {
  return (
    `step type '${type}' has no Convoy equivalent: map it to a shell command with ` +
    `--map ${type}=COMMAND (or in a --map-file)`
  );
}
