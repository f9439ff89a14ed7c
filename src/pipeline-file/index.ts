/**
 * The pipeline file: loading it from disk, its schema, validation, expansion, and compiling it
 * into the execution plan (whose contract lives in src/model).
 */
export * from './issues';
export {
  MAX_PIPELINE_FILE_BYTES,
  MAX_NESTING_DEPTH,
  MAX_VALUE_COUNT,
  MAX_ALIAS_COUNT,
  type LoadResult,
  type SourceFormat,
  readPipelineFile,
  parsePipelineText,
} from './load';
export {
  type PipelineFile,
  type StageFile,
  type WorkflowFile,
  type StepFile,
  type FileFailureRule,
  type WhenCondition,
  pipelineFileSchema,
  parsePipelineFile,
  STEP_TYPES,
} from './schema';
export {
  type ExpansionContext,
  CONVOY_ENV,
  VARIABLE_ENV_PREFIX,
  envNameForVariable,
  evaluateWhen,
  expandForEach,
  expandShellCommand,
  expandText,
  mergeVariables,
  parseVarAssignment,
} from './expand';
export { shellQuote } from './shell-quoting';
export {
  type BarrierDeadlock,
  type BarrierOrderWorkflow,
  describeDeadlock,
  findBarrierDeadlocks,
} from './barrier-order';
export { type PipelineValidation, validatePipeline } from './validate';
export {
  type CompileOptions,
  type CompiledPipeline,
  type ValidateOptions,
  type ValidationReport,
  VALIDATION_PIPELINE_ID,
  compilePipeline,
  compilePipelineData,
  compilePipelineText,
  validatePipelineData,
  validatePipelineFile,
} from './compile';
