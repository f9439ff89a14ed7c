/**
 * Errors the client raises. Each has a stable `name` (it survives bundling and crossing process
 * boundaries, where `instanceof` may not) and keeps the Temporal error it came from as `cause`.
 * Exit codes are the CLI's business: src/cli maps these classes to them.
 */

/** No pipeline has this ID (or, for operator commands and `cancel`, none is running with it). */
export class PipelineNotFoundError extends Error {
  override readonly name = 'PipelineNotFoundError';

  constructor(
    message: string,
    /** The pipeline ID that was asked for. */
    readonly pipelineId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A pipeline with this ID is already running: pipeline IDs are unique among running pipelines. */
export class PipelineAlreadyExistsError extends Error {
  override readonly name = 'PipelineAlreadyExistsError';

  constructor(
    message: string,
    /** The pipeline ID that is taken. */
    readonly pipelineId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The operator commands a pipeline accepts. */
export type OperatorCommand = 'intervene' | 'release-barrier' | 'break-barrier';

/**
 * The pipeline refused an operator command: the workflow is not waiting for an operator, the
 * barrier does not exist or is no longer standing, and so on. `reason` is the pipeline's own words.
 */
export class OperatorCommandRejectedError extends Error {
  override readonly name = 'OperatorCommandRejectedError';

  constructor(
    /** Why the pipeline refused, e.g. `no barrier nope in stage deploy`. */
    readonly reason: string,
    /** The pipeline that refused. */
    readonly pipelineId: string,
    /** What was asked of it. */
    readonly command: OperatorCommand,
    options?: ErrorOptions,
  ) {
    super(`rejected: ${reason}`, options);
  }
}
