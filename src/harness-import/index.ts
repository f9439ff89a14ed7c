/**
 * `convoy import harness`: Harness FirstGen and NextGen pipeline YAML → a Convoy pipeline file.
 *
 * The translation is pure (this folder, but for read.ts): plain data from the safe YAML loader
 * goes in, YAML text and the issues found come out. Steps Convoy has no equivalent for become shell
 * steps only through mappings (mappings.ts); anything carried over approximately is a warning and
 * anything that cannot be carried over is an error, each at its Harness path. The result is
 * checked by Convoy's own validation, whose findings are reported at their Harness paths too.
 */
import { stringify } from 'yaml';
import { reportBarrierPitfalls, reportConvoyValidation } from './checks';
import { importFirstGen } from './firstgen';
import { type HarnessGeneration, type ImportedPipeline, assemble } from './imported';
import type { StepMappings } from './mappings';
import { importNextGen } from './nextgen';
import { type ImportIssue, ImportReport } from './report';
import type { HarnessDocument, HarnessFile, HarnessRecord } from './values';

export type { HarnessFile } from './values';
export type { HarnessGeneration } from './imported';
export { type ImportIssue, formatImportIssue, formatImportWarning } from './report';
export { type StepMappings, parseMapOption, readMappingData } from './mappings';

/** What an import produced. */
export interface ImportResult {
  generation?: HarnessGeneration;
  /** The Convoy pipeline file's text; only when there are no errors. */
  text?: string;
  /** The Convoy pipeline's name. */
  name?: string;
  errors: ImportIssue[];
  warnings: ImportIssue[];
  /** What the pipeline holds, when there are no errors. */
  summary?: { stages: number; workflows: number; barriers: number };
}

type FileKind = 'nextgen' | 'firstgen-pipeline' | 'firstgen-workflow';

/** Imports a Harness pipeline: one NextGen file, or a FirstGen pipeline and its workflow files. */
export function importHarness(
  files: readonly HarnessFile[],
  mappings: StepMappings = new Map(),
): ImportResult {
  const report = new ImportReport();
  const pipeline = translate(files, mappings, report);
  if (!pipeline) return { errors: report.errors, warnings: report.warnings };
  reportBarrierPitfalls(pipeline, report);
  const assembled = assemble(pipeline);
  const text = header(pipeline, files) + stringify(assembled.file, { lineWidth: 0 });
  const check = reportConvoyValidation(text, assembled, report);
  const result: ImportResult = {
    generation: pipeline.generation,
    name: pipeline.name,
    errors: report.errors,
    warnings: report.warnings,
  };
  if (report.errors.length > 0 || !check.stages) return result;
  return {
    ...result,
    text,
    summary: {
      stages: check.stages.length,
      workflows: check.stages.reduce((sum, stage) => sum + stage.workflows.length, 0),
      barriers: check.stages.reduce((sum, stage) => sum + stage.barriers.length, 0),
    },
  };
}

function translate(
  files: readonly HarnessFile[],
  mappings: StepMappings,
  report: ImportReport,
): ImportedPipeline | undefined {
  const byKind = new Map<FileKind, HarnessDocument[]>();
  for (const file of files) {
    const kind = kindOf(file.data);
    if (kind === undefined) {
      report.error(
        { file: file.file, path: [] },
        'not a Harness pipeline: expected NextGen YAML (pipeline:) or FirstGen Setup-as-code YAML (pipelineStages: or phases:)',
      );
      continue;
    }
    const list = byKind.get(kind) ?? [];
    list.push(file as HarnessDocument);
    byKind.set(kind, list);
  }
  if (report.errors.length > 0) return undefined;
  const nextGen = byKind.get('nextgen') ?? [];
  const firstGen = byKind.get('firstgen-pipeline') ?? [];
  const workflows = byKind.get('firstgen-workflow') ?? [];
  const pipelines = [...nextGen, ...firstGen];
  if (pipelines.length !== 1) {
    const at = { file: (pipelines[1] ?? files[0])?.file ?? '', path: [] };
    report.error(
      at,
      pipelines.length === 0
        ? 'no pipeline among the files: give the FirstGen pipeline file with its workflow files'
        : `one pipeline at a time: ${pipelines.map((file) => file.file).join(', ')} are all pipelines`,
    );
    return undefined;
  }
  if (nextGen.length === 1) {
    for (const extra of workflows) {
      report.error({ file: extra.file, path: [] }, 'a FirstGen workflow cannot go with a NextGen pipeline');
    }
    return report.errors.length > 0
      ? undefined
      : importNextGen(nextGen[0]!.file, nextGen[0]!.data, mappings, report);
  }
  return importFirstGen(firstGen[0]!, workflows, mappings, report);
}

/** Which Harness file this is, by its top-level fields. */
function kindOf(data: unknown): FileKind | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const record = data as HarnessRecord;
  if (record['pipeline'] !== undefined) return 'nextgen';
  if (record['pipelineStages'] !== undefined || record['type'] === 'PIPELINE') return 'firstgen-pipeline';
  if (record['phases'] !== undefined || record['rollbackPhases'] !== undefined) return 'firstgen-workflow';
  return undefined;
}

function header(pipeline: ImportedPipeline, files: readonly HarnessFile[]): string {
  // The pipeline file first, then the workflow files it runs.
  const ordered = [...files].sort(
    (a, b) => Number(b.file === pipeline.at.file) - Number(a.file === pipeline.at.file),
  );
  const names = ordered.map((file) => file.file.slice(file.file.lastIndexOf('/') + 1));
  return (
    `# Imported from Harness ${pipeline.generation} (${names.join(', ')}) by \`convoy import harness\`.\n` +
    "# Each step's description names the Harness step it came from.\n"
  );
}
