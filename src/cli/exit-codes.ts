/** Exit codes of the `convoy` command (SPEC section 5): the CLI's alone, not the library's. */
export const ExitCodes = {
  success: 0,
  pipelineFailed: 1,
  /** `convoy doctor` found problems (it names the fix for each). */
  problemsFound: 1,
  invalidInput: 2,
  infrastructure: 3,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];
