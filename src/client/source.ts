/**
 * Pipelines as the client takes them: a YAML or JSON file, a definition object written in code,
 * or a pipeline loaded before. Loading and validating need no connection to Temporal.
 */
import type { z } from 'zod';
import {
  compilePipelineData,
  parsePipelineFile,
  readPipelineFile,
  validatePipelineData,
  PipelineValidationError,
  type CompiledPipeline,
  type pipelineFileSchema,
  type ValidationIssue,
} from '../pipeline-file';
import { generatePipelineId } from './pipeline-id';

/**
 * A pipeline written as an object: the pipeline file format of SPEC section 1, typed. Fields
 * that have a default (an http step's `method`, a barrier's `timeoutMs`, …) may be left out.
 */
export type PipelineDefinition = z.input<typeof pipelineFileSchema>;

/** A pipeline that passed validation, ready to start (see {@link loadPipeline}). */
export interface LoadedPipeline {
  /** The pipeline's `name`. */
  readonly name: string;
  /** Where it came from: the file path, or {@link DEFINITION_SOURCE} for an object. */
  readonly source: string;
  /** The validated definition, defaults filled in; a copy, free to change before starting. */
  readonly definition: PipelineDefinition;
  /** Warnings (SPEC section 2 rule 7 and after): worth printing, they do not stop a run. */
  readonly warnings: readonly ValidationIssue[];
}

/** What the client accepts as a pipeline: a file path, a definition object or a loaded pipeline. */
export type PipelineSource = string | PipelineDefinition | LoadedPipeline;

/** How a pipeline given as an object is named in validation messages. */
export const DEFINITION_SOURCE = 'pipeline definition';

/** Options of {@link validatePipeline} and {@link loadPipeline}. */
export interface ValidatePipelineOptions {
  /** Variable overrides (what `convoy run --var NAME=VALUE` gives); they win over the file's. */
  variables?: Readonly<Record<string, string>>;
  /** The ID the run will have, which `${{ pipeline.id }}` expands to; a placeholder when absent. */
  pipelineId?: string;
}

/** Everything wrong with a pipeline, and the pipeline itself when nothing is. */
export interface PipelineValidationReport {
  /** True when there are no errors (warnings do not count). */
  readonly valid: boolean;
  /** The file path, or {@link DEFINITION_SOURCE}. */
  readonly source: string;
  /** Every error, each naming the offending field by its path, e.g. `stages[0].workflows[1].name`. */
  readonly errors: readonly ValidationIssue[];
  /** Every warning. */
  readonly warnings: readonly ValidationIssue[];
  /** The pipeline, ready to start, when it is valid. */
  readonly pipeline?: LoadedPipeline;
}

function isLoaded(pipeline: PipelineSource): pipeline is LoadedPipeline {
  return (
    typeof pipeline === 'object' && pipeline !== null && 'definition' in pipeline && 'source' in pipeline
  );
}

/**
 * Validates a pipeline as `convoy validate` does (SPEC section 2): a file path, a definition
 * object, or a pipeline loaded before. Never throws for anything the pipeline (or a missing file)
 * can do: every problem is in the report.
 */
export function validatePipeline(
  pipeline: PipelineSource,
  options: ValidatePipelineOptions = {},
): PipelineValidationReport {
  let source: string;
  let data: unknown;
  if (typeof pipeline === 'string') {
    source = pipeline;
    const loaded = readPipelineFile(pipeline);
    if (!loaded.ok) return { valid: false, source, errors: loaded.issues, warnings: [] };
    data = loaded.data;
  } else if (isLoaded(pipeline)) {
    source = pipeline.source;
    data = pipeline.definition;
  } else {
    source = DEFINITION_SOURCE;
    data = pipeline;
  }
  const report = validatePipelineData(data, source, {
    vars: options.variables,
    pipelineId: options.pipelineId,
  });
  const parsed = report.plan === undefined ? undefined : parsePipelineFile(data);
  if (parsed === undefined || !parsed.ok) {
    return { valid: false, source, errors: report.errors, warnings: report.warnings };
  }
  const loaded: LoadedPipeline = {
    name: parsed.file.name,
    source,
    definition: parsed.file,
    warnings: report.warnings,
  };
  return { valid: true, source, errors: [], warnings: report.warnings, pipeline: loaded };
}

/**
 * Reads and validates a pipeline (a file path or a definition object).
 * @throws {@link PipelineValidationError} listing every error when it is missing or invalid.
 */
export function loadPipeline(
  pipeline: string | PipelineDefinition,
  options: ValidatePipelineOptions = {},
): LoadedPipeline {
  const report = validatePipeline(pipeline, options);
  if (report.pipeline === undefined) {
    throw new PipelineValidationError(report.source, report.errors, report.warnings);
  }
  return report.pipeline;
}

/**
 * Compiles a pipeline into the plan the pipeline workflow runs, with its final ID (generated from
 * its name when `id` is absent).
 * @throws {@link PipelineValidationError}
 */
export function compileForStart(
  pipeline: PipelineSource,
  options: { id?: string; variables?: Readonly<Record<string, string>> },
): CompiledPipeline {
  const loaded = isLoaded(pipeline) ? pipeline : loadPipeline(pipeline, { variables: options.variables });
  return compilePipelineData(loaded.definition, loaded.source, {
    vars: options.variables,
    pipelineId: options.id ?? generatePipelineId(loaded.name),
  });
}
