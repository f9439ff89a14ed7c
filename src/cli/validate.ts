/**
 * `convoy validate FILE` (SPEC sections 2 and 5): prints every problem of a pipeline file and
 * returns the exit code. The commander wiring is in main.ts.
 */
import { formatIssue, formatWarning } from '../pipeline-file/issues';
import { validatePipelineFile } from '../pipeline-file/compile';

/** Exit codes of `convoy validate`: a file is either valid (0) or invalid input (2). */
const ValidateExitCodes = { valid: 0, invalid: 2 } as const;

/** Where the command writes: one line per call. */
export interface ValidateIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Validates `file` and reports on `io`: warnings on stderr as `warning: FILE: path: message` and a
 * short OK line on stdout (exit 0), or one `FILE: path: message` line per error on stderr (exit 2).
 * Never throws and never prints a stack trace, whatever the file holds.
 */
export function runValidate(
  file: string,
  opts: { vars?: Readonly<Record<string, string>> },
  io: ValidateIo,
): number {
  try {
    const report = validatePipelineFile(file, { vars: opts.vars });
    for (const warning of report.warnings) io.err(formatWarning(file, warning));
    if (report.errors.length > 0) {
      for (const error of report.errors) io.err(formatIssue(file, error));
      return ValidateExitCodes.invalid;
    }
    io.out(`${file}: OK${describePlan(report.plan)}`);
    return ValidateExitCodes.valid;
  } catch (error) {
    // Only a bug in the validator gets here; still one line, no stack trace.
    const message = error instanceof Error ? error.message : String(error);
    io.err(`${file}: internal error while validating (please report it): ${message.split('\n')[0]}`);
    return ValidateExitCodes.invalid;
  }
}

function describePlan(plan: ReturnType<typeof validatePipelineFile>['plan']): string {
  if (plan === undefined) return '';
  const workflows = plan.stages.reduce((sum, stage) => sum + stage.workflows.length, 0);
  const barriers = plan.stages.reduce((sum, stage) => sum + stage.barriers.length, 0);
  return (
    ` (pipeline '${plan.name}': ${plural(plan.stages.length, 'stage')}, ` +
    `${plural(workflows, 'workflow')}, ${plural(barriers, 'barrier')})`
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
