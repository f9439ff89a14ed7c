/**
 * Exit codes of the `convoy` command (SPEC section 5): the CLI's alone, not the library's.
 *
 * - 0: the pipeline succeeded (or the command did what it was asked).
 * - 1: the pipeline ended without succeeding: failed, aborted, terminated or timed out; or
 *   `cancel` of a pipeline that had already ended.
 * - 2: invalid input or usage: a bad file, an unknown pipeline, a rejected operator command.
 * - 3: Temporal unreachable or another infrastructure error.
 * - 130 / 143: the command was interrupted by SIGINT (Ctrl-C) / SIGTERM. A `run` without
 *   `--embedded` detached and left the pipeline running; `--embedded` cancelled it first.
 */
export const ExitCodes = {
  success: 0,
  pipelineFailed: 1,
  /** `convoy doctor` found problems (it names the fix for each). */
  problemsFound: 1,
  invalidInput: 2,
  infrastructure: 3,
  interrupted: 130,
  terminatedBySignal: 143,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];
