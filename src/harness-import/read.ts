/**
 * The one module of the importer that touches the disk: reading Harness YAML files and mapping
 * files with the pipeline-file loader (size cap, alias and nesting limits, no prototype keys).
 */
import { readPipelineFile } from '../pipeline-file/load';
import type { HarnessFile } from './values';
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
        ...loaded.issues.map((issue) => ({ file, ...issue, message: relabel(issue.message, 'harness') })),
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
        ...loaded.issues.map((issue) => ({ file, ...issue, message: relabel(issue.message, 'mapping') })),
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

/** The loader speaks of pipeline files; these are Harness files or mapping files. */
function relabel(message: string, kind: 'harness' | 'mapping'): string {
  const [expected, file] =
    kind === 'harness'
      ? ['a Harness pipeline or workflow', 'a Harness file']
      : ['step mappings (STEP_TYPE: COMMAND)', 'a mapping file'];
  return message
    .replace('expected a pipeline definition', `expected ${expected}`)
    .replace('not a pipeline file', `not ${file}`);
}
