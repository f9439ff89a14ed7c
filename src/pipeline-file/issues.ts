/**
 * Validation issues: the one shape every problem with a pipeline file is reported in, from a
 * missing file to a barrier-order deadlock, and the error thrown when a file cannot be compiled.
 *
 * Pure module (no Node built-ins), so it can be shared by any layer.
 */

/**
 * One problem (error or warning) found in a pipeline file.
 *
 * `path` names the offending field the way a reader finds it in the file, e.g.
 * `stages[0].workflows[1].steps[2].timeoutMs`; it is `''` for problems with the file as a whole
 * (missing, too large) and `line L, column C` for YAML syntax errors, which have no field yet.
 */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** A path segment as zod and our own walkers produce them: object keys and array indexes. */
export type PathSegment = string | number;

const IDENTIFIER_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Formats path segments as `stages[0].workflows[1].name`. Keys that are not plain identifiers
 * (an env variable named `a b`, say) are written `env["a b"]` so the path stays unambiguous.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * Control characters from a file (or its name) are written as escapes, so that a message stays
 * one line and no terminal escape sequence from a file reaches the user's terminal.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Formats an issue as the one line the CLI prints: `FILE: path: message` (or `FILE: message`). */
export function formatIssue(file: string, issue: ValidationIssue): string {
  const line = issue.path === '' ? `${file}: ${issue.message}` : `${file}: ${issue.path}: ${issue.message}`;
  return escapeControlCharacters(line);
}

/** Formats a warning line as the CLI prints it on stderr: `warning: FILE: path: message`. */
export function formatWarning(file: string, issue: ValidationIssue): string {
  return `warning: ${formatIssue(file, issue)}`;
}

/**
 * Thrown by `compilePipeline` when a pipeline file is invalid. `issues` holds every error found
 * (validation never stops at the first); `message` is the same list as printable lines.
 */
export class PipelineValidationError extends Error {
  /** Stable, so callers can recognise the error after it crossed a process or Temporal boundary. */
  override readonly name = 'PipelineValidationError';

  /** One printable line per issue, `FILE: path: message`: what `convoy` prints on stderr. */
  readonly lines: readonly string[];

  constructor(
    /** The file as the user named it; every formatted line starts with it. */
    readonly file: string,
    /** Every error found, in file order as far as possible. */
    readonly issues: readonly ValidationIssue[],
    /** Warnings found alongside, for callers that still want to print them. */
    readonly warnings: readonly ValidationIssue[] = [],
  ) {
    const lines =
      issues.length === 0 ? [`${file}: invalid pipeline`] : issues.map((issue) => formatIssue(file, issue));
    super(lines.join('\n'));
    this.lines = lines;
  }
}
