/**
 * Step bodies both generations share: shell scripts, and the steps Convoy has no equivalent for
 * (a mapped command, or an error listing the step).
 *
 * Pure module.
 */
import type { ImportedStepBody } from './imported';
import { type StepMappings, mappedStepBody, unmappedMessage } from './mappings';
import type { HarnessLocation, ImportReport } from './report';

/** Harness's default step timeout (10 minutes), which its shell scripts get when they set none. */
export const HARNESS_DEFAULT_STEP_TIMEOUT_MS = 600_000;

/** The environment variable that carries a Bash script to `bash -c`. */
export const SCRIPT_ENV = 'HARNESS_SCRIPT';

/**
 * A Harness Bash script as a Convoy shell step. Harness runs it with bash; Convoy runs commands
 * with `/bin/sh -c`, so the step runs `bash -c "$HARNESS_SCRIPT"` with the script, unchanged and
 * readable, in that environment variable (a variable keeps every quote in the script literal).
 */
export function bashScriptBody(
  script: string,
  env: Record<string, string>,
  timeoutMs: number | undefined,
): ImportedStepBody {
  return {
    type: 'shell',
    command: `bash -c "$${SCRIPT_ENV}"`,
    env: { ...env, [SCRIPT_ENV]: script },
    timeoutMs: timeoutMs ?? HARNESS_DEFAULT_STEP_TIMEOUT_MS,
  };
}

/** True for a Bash script (`bash` is how Harness names it); other shells are reported at `at`. */
export function isBash(
  shell: string,
  bash: 'Bash' | 'BASH',
  at: HarnessLocation,
  report: ImportReport,
): boolean {
  if (shell === bash) return true;
  report.error(at, `${shell} scripts are not imported: Convoy runs shell steps with sh and bash`);
  return false;
}

/**
 * A step of a type the importer does not carry over itself: its mapped command, or an error at
 * its path (and a placeholder, so that the rest of the pipeline is still checked).
 */
export function otherStepBody(
  step: { type: string; identifier?: string; name?: string; spec?: unknown; timeoutMs?: number },
  mappings: StepMappings,
  at: HarnessLocation,
  report: ImportReport,
): ImportedStepBody {
  const command = mappings.get(step.type);
  if (command !== undefined) return mappedStepBody(command, step);
  report.error(at, unmappedMessage(step.type));
  return { type: 'shell', command: 'false' };
}
