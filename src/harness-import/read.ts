/**
 * The one module of the importer that touches the disk: reading Harness YAML files and mapping
 * files with the pipeline-file loader (size cap, alias and nesting limits, no prototype keys).
 */
import { readPipelineFile } from '../pipeline-file/load';
import type { HarnessFile } from './firstgen';
import { readMappingData } from './mappings';
import type { ImportIssue } from './report';

/** Reads the files of an import; problems (missing file, malformed YAML) come back as issues. */
export function readHarnessFiles(paths: readonly string[]): { files: HarnessFile[]; errors: ImportIssue[] } {
  const files: HarnessFile[] = [];
  const errors: ImportIssue[] = [];
  for (const file of paths) {
    const loaded = readPipelineFile(file);
    if (loaded.ok) files.push({ file, data: loaded.data });
    else
      errors.push(
        ...loaded.issues.map((issue) => ({ file, ...issue, message: harnessMessage(issue.message) })),
      );
  }
  return { files, errors };
}

/** Reads `--map-file` files, later files winning, then `--map` options (`overrides`) over them. */
export function readMappings(
  mapFiles: readonly string[],
  overrides: ReadonlyMap<string, string>,
): { mappings: Map<string, string>; errors: ImportIssue[] } {
  const mappings = new Map<string, string>();
  const errors: ImportIssue[] = [];
  for (const file of mapFiles) {
    const loaded = readPipelineFile(file);
    if (!loaded.ok) {
      errors.push(
        ...loaded.issues.map((issue) => ({ file, ...issue, message: mappingMessage(issue.message) })),
      );
      continue;
    }
    const read = readMappingData(loaded.data);
    errors.push(...read.issues.map((issue) => ({ file, ...issue })));
    for (const [type, command] of read.mappings) mappings.set(type, command);
  }
  for (const [type, command] of overrides) mappings.set(type, command);
  return { mappings, errors };
}

/** The loader speaks of pipeline files; here the file is a Harness one. */
function harnessMessage(message: string): string {
  return message.replace('expected a pipeline definition', 'expected a Harness pipeline or workflow');
}

function mappingMessage(message: string): string {
  return message
    .replace('expected a pipeline definition', 'expected step mappings (STEP_TYPE: COMMAND)')
    .replace('is a directory, not a pipeline file', 'is a directory, not a mapping file');
}
