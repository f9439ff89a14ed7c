/**
 * `convoy import harness FILE... [-o OUT] [--map TYPE=COMMAND]... [--map-file F]...` and the import
 * half of `convoy run --from harness`: reads the Harness files and mappings, prints every warning
 * and error (`FILE: path: message`, Harness paths), and writes the Convoy pipeline file. The
 * commander wiring is in main.ts.
 */
import { writeFileSync } from 'node:fs';
import { ConvoyUsageError } from './usage-error';
import {
  type ImportResult,
  formatImportIssue,
  formatImportWarning,
  importHarness,
  parseMapOption,
} from '../harness-import';
import { readHarnessFiles, readMappings } from '../harness-import/read';
import { ExitCodes } from './exit-codes';

/** Options of an import, as commander collects them. */
export interface ImportOptions {
  /** `--map TYPE=COMMAND`, later ones winning. */
  map: Record<string, string>;
  /** `--map-file FILE`, in order. */
  mapFile: string[];
}

/** Where the command writes: one line per call. */
export interface ImportIo {
  out(text: string): void;
  err(text: string): void;
}

/** Commander collector for repeated `--map TYPE=COMMAND`; a malformed one is a usage error. */
export function collectMap(value: string, previous: Record<string, string>): Record<string, string> {
  const parsed = parseMapOption(value);
  if (!parsed.ok) throw new ConvoyUsageError(parsed.message);
  return { ...previous, [parsed.type]: parsed.command };
}

/** Commander collector for repeated options with a value. */
export function collectList(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Imports the Harness `files` and reports on `io`. Returns the result when it has a pipeline, or
 * the exit code (2) after printing why not.
 */
export function importForCli(
  files: readonly string[],
  options: ImportOptions,
  io: ImportIo,
): { result: ImportResult & { text: string; name: string } } | { exitCode: number } {
  const mapped = readMappings(options.mapFile, new Map(Object.entries(options.map)));
  const read = readHarnessFiles(files);
  const loadErrors = [...mapped.errors, ...read.errors];
  if (loadErrors.length > 0) {
    for (const issue of loadErrors) io.err(formatImportIssue(issue));
    return { exitCode: ExitCodes.invalidInput };
  }
  const result = importHarness(read.files, mapped.mappings);
  for (const warning of result.warnings) io.err(formatImportWarning(warning));
  if (result.text === undefined || result.name === undefined) {
    for (const error of result.errors) io.err(formatImportIssue(error));
    io.err(
      `convoy: the Harness pipeline cannot be imported: ${plural(result.errors.length, 'error')}; nothing was written`,
    );
    return { exitCode: ExitCodes.invalidInput };
  }
  return { result: { ...result, text: result.text, name: result.name } };
}

/** `convoy import harness`: writes the pipeline to `output` (stdout when absent); returns the exit code. */
export function runHarnessImport(
  files: readonly string[],
  options: ImportOptions & { output?: string },
  io: ImportIo,
): number {
  const imported = importForCli(files, options, io);
  if ('exitCode' in imported) return imported.exitCode;
  const { result } = imported;
  if (options.output === undefined) io.out(result.text);
  else {
    try {
      writeFileSync(options.output, result.text);
    } catch (error) {
      io.err(`${options.output}: cannot write: ${error instanceof Error ? error.message : String(error)}`);
      return ExitCodes.invalidInput;
    }
  }
  const summary = result.summary!;
  io.err(
    `imported Harness ${result.generation} pipeline as '${result.name}'` +
      `${options.output === undefined ? '' : ` into ${options.output}`}: ${plural(summary.stages, 'stage')}, ` +
      `${plural(summary.workflows, 'workflow')}, ${plural(summary.barriers, 'barrier')}` +
      (result.warnings.length > 0 ? ` (${plural(result.warnings.length, 'warning')} above)` : ''),
  );
  return ExitCodes.success;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
