/**
 * What an import found: errors (the pipeline cannot be carried over; nothing is written, exit 2)
 * and warnings (carried over approximately; printed, the import goes on). Every issue names the
 * Harness file and the path of the offending field in it, so an operator finds it in Harness terms.
 *
 * Pure module.
 */
import { type PathSegment, type ValidationIssue, formatIssue, formatPath } from '../pipeline-file/issues';

/** A place in a Harness file: the file as the user named it and the path of a field in it. */
export interface HarnessLocation {
  readonly file: string;
  readonly path: readonly PathSegment[];
}

/** One problem found while importing, in a Harness file. */
export interface ImportIssue extends ValidationIssue {
  /** The Harness file as the user named it. */
  file: string;
}

/** The location of a field below `at`. */
export function below(at: HarnessLocation, ...segments: PathSegment[]): HarnessLocation {
  return { file: at.file, path: [...at.path, ...segments] };
}

/** `pipeline.stages[0].stage`: the path of a location, as messages and descriptions show it. */
export function describeLocation(at: HarnessLocation): string {
  return formatPath(at.path);
}

/** Collects errors and warnings, each once, in the order found. */
export class ImportReport {
  readonly errors: ImportIssue[] = [];
  readonly warnings: ImportIssue[] = [];
  private readonly seen = new Set<string>();

  error(at: HarnessLocation, message: string): void {
    this.add(this.errors, 'error', at, message);
  }

  warn(at: HarnessLocation, message: string): void {
    this.add(this.warnings, 'warning', at, message);
  }

  /** True when an error was reported at `at` or below it. */
  hasErrorAt(at: HarnessLocation): boolean {
    const path = formatPath(at.path);
    return this.errors.some(
      (issue) =>
        issue.file === at.file &&
        (path === '' ||
          issue.path === path ||
          issue.path.startsWith(`${path}.`) ||
          issue.path.startsWith(`${path}[`)),
    );
  }

  private add(list: ImportIssue[], kind: string, at: HarnessLocation, message: string): void {
    const issue = { file: at.file, path: formatPath(at.path), message };
    const key = `${kind}\u0000${issue.file}\u0000${issue.path}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    list.push(issue);
  }
}

/** `FILE: path: message`, the line `convoy import` prints for an error. */
export function formatImportIssue(issue: ImportIssue): string {
  return formatIssue(issue.file, issue);
}

/** `warning: FILE: path: message`. */
export function formatImportWarning(issue: ImportIssue): string {
  return `warning: ${formatImportIssue(issue)}`;
}
