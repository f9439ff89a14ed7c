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

/**
 * A pipeline with this ID is running, or has run and ended: an ended pipeline's ID is reused
 * only with `allowReuse` (its history stays readable under the old run).
 */
export class PipelineAlreadyExistsError extends Error {
  override readonly name = 'PipelineAlreadyExistsError';

  constructor(
    message: string,
    /** The pipeline ID that is taken. */
    readonly pipelineId: string,
    options?: ErrorOptions & {
      /** True when the pipeline with this ID is still running (then reuse is never allowed). */
      running?: boolean;
    },
  ) {
    super(message, options);
    this.running = options?.running ?? true;
  }

  /** True when the pipeline with this ID is still running. */
  readonly running: boolean;
}

/** The operator commands a pipeline accepts. */
export type OperatorCommand =
  | 'intervene'
  | 'release-barrier'
  | 'break-barrier'
  /** `convoy train release` (the `pipelineId` of the error is then the train's workflow ID). */
  | 'release-train'
  /** `convoy train break`. */
  | 'break-train';

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

/**
 * The ID names a Temporal workflow that is not a pipeline: typically one of a pipeline's child
 * workflows (`<pipelineId>/<workflow>`, as the Web UI lists them), which `pipelineId` and
 * `workflow` then point at.
 */
export class NotAPipelineError extends Error {
  override readonly name = 'NotAPipelineError';

  constructor(
    message: string,
    /** The ID that was given. */
    readonly id: string,
    /** The pipeline the workflow belongs to, when it is a pipeline's child. */
    readonly pipelineId?: string,
    /** The child's workflow name in that pipeline (`payments`, `orders[eu]`). */
    readonly workflow?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `cancel` of a pipeline that has already ended: nothing was done. */
export class PipelineAlreadyEndedError extends Error {
  override readonly name = 'PipelineAlreadyEndedError';

  constructor(
    message: string,
    /** The pipeline's ID. */
    readonly pipelineId: string,
    /** How it ended: `succeeded`, `failed`, `aborted`, `terminated` or `timed-out`. */
    readonly status: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No release train run exists for this train and identifier (none ever started, or none is open for a command). */
export class TrainNotFoundError extends Error {
  override readonly name = 'TrainNotFoundError';

  constructor(
    message: string,
    /** The train's name. */
    readonly train: string,
    /** The barrier identifier. */
    readonly identifier: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
