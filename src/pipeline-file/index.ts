/**
 * The pipeline file and its execution plan: everything a client needs to turn a file into a plan,
 * and the plan/result contracts shared with the workflows.
 *
 * Note for workflow code: import `./plan`, `./result` or `./failure-strategy` directly, not this
 * barrel; it pulls in `node:fs` (through load.ts), which the Temporal workflow sandbox forbids.
 */
export * from '../model/plan';
export * from '../model/result';
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
export { defaultFailureRule, resolveFailureAction, ruleMatches } from '../model/failure-policy';
export {
  type CompileOptions,
  type CompiledPipeline,
  type ValidationReport,
  VALIDATION_PIPELINE_ID,
  compilePipeline,
  compilePipelineText,
  validatePipelineFile,
} from './compile';
