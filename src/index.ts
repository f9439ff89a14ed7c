/**
 * Convoy's public API: `require('convoy-pipelines')` / `import … from 'convoy-pipelines'`.
 *
 * Start pipelines from your own code with {@link ConvoyClient}, watch and steer them through a
 * {@link PipelineHandle}, and validate pipeline files (or objects) without any server with
 * {@link validatePipeline}. Everything else in the package is internal and may change.
 *
 * @example
 * ```ts
 * import { ConvoyClient } from 'convoy-pipelines';
 *
 * const client = await ConvoyClient.connect(); // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE
 * const pipeline = await client.start('release.yaml', { variables: { version: '2.8.0' } });
 * for await (const event of pipeline.watch()) console.log(event.type);
 * console.log((await pipeline.result()).status);
 * await client.close();
 * ```
 *
 * @packageDocumentation
 */

// The client.
export {
  ConvoyClient,
  PipelineHandle,
  type BarrierCommandOptions,
  type ConnectOptions,
  type ConvoyClientOptions,
  type InterveneOptions,
  type ListPipelinesOptions,
  type PipelineSnapshot,
  type PipelineSummary,
  type StartPipelineOptions,
  type WatchOptions,
} from './client/convoy-client';
export { TrainHandle } from './client/trains';

// Pipelines: files, objects, validation (no server needed).
export {
  DEFINITION_SOURCE,
  loadPipeline,
  validatePipeline,
  type LoadedPipeline,
  type PipelineDefinition,
  type PipelineSource,
  type PipelineValidationReport,
  type ValidatePipelineOptions,
} from './client/source';
export { formatIssue, type ValidationIssue } from './pipeline-file/issues';
export { pipelineJsonSchema } from './pipeline-file/json-schema';

// What watch() yields.
export { formatPipelineEvent } from './client/changes';
export type {
  BarrierArrivalEvent,
  BranchStatusEvent,
  BarrierResolvedEvent,
  PipelineEvent,
  PipelineStatusEvent,
  StageStatusEvent,
  StepEndedEvent,
  StepStartedEvent,
  WorkflowStatusEvent,
} from './client/changes';

// Errors: stable names, the original error kept as `cause`.
export { PipelineValidationError } from './pipeline-file/issues';
export {
  NotAPipelineError,
  OperatorCommandRejectedError,
  PipelineAlreadyEndedError,
  PipelineAlreadyExistsError,
  PipelineNotFoundError,
  TrainNotFoundError,
  type OperatorCommand,
} from './client/errors';
export { TemporalConfigError, TemporalUnreachableError } from './connection/errors';

// The result document (SPEC section 5).
export type {
  BarrierResult,
  BarrierTrain,
  InterventionWait,
  BarrierStatus,
  PipelineResult,
  PipelineStatus,
  StageResult,
  StageStatus,
  StepError,
  StepResult,
  StepStatus,
  TrainStatus,
  WorkflowResult,
  WorkflowStatus,
} from './model/result';
export type { InterventionAction } from './model/plan';
// Child pipelines: their documents nest in the step that ran them (`StepResult.pipeline`).
export { flattenChildPipelines } from './client/child-pipelines';
export type { ChildPipelineResult } from './model/result';

// Payload codecs: compression of large payloads (always), encryption when CONVOY_CODEC_KEY is set.
export {
  COMPRESSED_ENCODING,
  CompressionCodec,
  CodecSettingsError,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  PayloadDecryptionError,
  encryptionCodecFromEnv,
  payloadCodecsFromEnv,
  type CodecKey,
} from './codec';

// Where Temporal is, as the `convoy` command reads it.
export {
  describeConnection,
  resolveTemporalConnection,
  temporalConfigFromEnv,
  type ConnectionOverrides,
  type TemporalConfig,
  type TemporalConnection,
} from './connection/config';
