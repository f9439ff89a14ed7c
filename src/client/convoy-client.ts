/**
 * The typed client of the package's public API: start pipelines, watch them, steer them. The
 * `convoy` command is built on it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Client, type Connection, type WorkflowExecutionStatusName } from '@temporalio/client';
import { payloadCodecsFromEnv } from '../codec/settings';
import { resolveTemporalConnection, taskQueueFromEnv } from '../connection/config';
import type { InterventionAction } from '../model/plan';
import type { PipelineResult } from '../model/result';
import type { ValidationIssue } from '../pipeline-file';
import { PipelineChangeTracker, type PipelineEvent } from './changes';
import {
  PIPELINE_WORKFLOW_TYPE,
  cancelPipeline,
  connectClient,
  describePipeline,
  intervene,
  overrideBarrier,
  startPipeline,
  statusKey,
  waitForPipeline,
  waitingBarriersKey,
} from './pipelines';
import {
  compileForStart,
  loadPipeline,
  validatePipeline,
  type LoadedPipeline,
  type PipelineDefinition,
  type PipelineSource,
  type PipelineValidationReport,
  type ValidatePipelineOptions,
} from './source';
import { countPollingWorkers } from './workers';
import { TrainHandle } from './trains';

/**
 * Where {@link ConvoyClient.connect} finds Temporal. Each option left out comes from the same
 * environment variables as the `convoy` command's (SPEC section 5).
 */
export interface ConnectOptions {
  /** `host:port` of the Temporal frontend; default `TEMPORAL_ADDRESS`, the profile's, else `localhost:7233`. */
  address?: string;
  /** Default `TEMPORAL_NAMESPACE`, the profile's, else `default`. */
  namespace?: string;
  /**
   * The profile of the Temporal client config file (`TEMPORAL_CONFIG_FILE`, else
   * `~/.config/temporalio/temporal.toml`), as the `temporal` CLI reads it; default
   * `TEMPORAL_PROFILE`, else `default`. TLS, mTLS and API key settings come from it and from
   * `TEMPORAL_API_KEY` and `TEMPORAL_TLS_*`.
   */
  profile?: string;
  /** The task queue Convoy workers poll; default `TEMPORAL_TASK_QUEUE`, else `convoy`. */
  taskQueue?: string;
  /**
   * Where the defaults are read from, and the payload codec's keys (`CONVOY_CODEC_KEY`,
   * `CONVOY_CODEC_KEY_ID`, `CONVOY_CODEC_OLD_KEYS`); default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
}

/**
 * A Convoy client over a Temporal client or connection you already have (your own TLS or API key
 * settings, say). `taskQueue` defaults to `TEMPORAL_TASK_QUEUE`, else `convoy`; with a
 * connection, `namespace` to `TEMPORAL_NAMESPACE`, else `default`.
 */
export type ConvoyClientOptions = { taskQueue?: string } & (
  { client: Client } | { connection: Connection; namespace?: string }
);

/** Options of {@link ConvoyClient.start}. */
export interface StartPipelineOptions {
  /** The pipeline ID (its Temporal workflow ID); default `<name>-<utc timestamp>-<random>`. */
  id?: string;
  /** Variable overrides; they win over the pipeline's own `variables`. */
  variables?: Readonly<Record<string, string>>;
  /** The task queue of the Convoy workers that run it; default the client's. */
  taskQueue?: string;
  /**
   * Start even if a pipeline that has ended had this ID (Temporal keeps both runs' histories);
   * default false: {@link PipelineAlreadyExistsError}. A running pipeline's ID is never reused.
   */
  allowReuse?: boolean;
}

/** Options of {@link ConvoyClient.list}. */
export interface ListPipelinesOptions {
  /** Only running pipelines, or only those that ended; default both. */
  status?: 'running' | 'closed';
  /** Only pipelines started on this task queue. */
  taskQueue?: string;
  /** At most this many, the most recent first; default 100. */
  limit?: number;
  /**
   * Only pipelines where some workflow waits at the barrier with this identifier now (the
   * `ConvoyWaitingBarriers` search attribute: the namespace must have it).
   */
  waitingAtBarrier?: string;
}

/** A pipeline as Temporal's visibility lists it. */
export interface PipelineSummary {
  readonly pipelineId: string;
  /** The pipeline's `name`. */
  readonly name?: string;
  /** The file it was started from, or `pipeline definition`. */
  readonly source?: string;
  /**
   * The pipeline workflow's Temporal status: `RUNNING`, then `COMPLETED` when it `succeeded`,
   * `FAILED` when it `failed` or was `aborted` (both have their document: see
   * {@link PipelineHandle.status}), or `TERMINATED`, `TIMED_OUT`, … when Temporal ended it.
   */
  readonly executionStatus: WorkflowExecutionStatusName;
  readonly startedAt: Date;
  readonly closedAt?: Date;
  readonly taskQueue: string;
  /**
   * Its `ConvoyStatus` search attribute: `running`, `waiting-at-barrier`,
   * `waiting-for-intervention`, `succeeded`, `failed` or `aborted`. Absent where the namespace
   * lacks Convoy's search attributes (README, "The Temporal Web UI").
   */
  readonly convoyStatus?: string;
  /** Its `ConvoyWaitingBarriers` search attribute: the barriers where one of its workflows waits. */
  readonly waitingBarriers?: readonly string[];
}

/** One document read by {@link PipelineHandle.follow}, and what changed since the one before. */
export interface PipelineSnapshot {
  /** The pipeline's document (SPEC section 5) when it was read. */
  readonly document: PipelineResult;
  /** The changes since the previous snapshot; all that happened so far in the first one. */
  readonly events: readonly PipelineEvent[];
}

/** Options of {@link PipelineHandle.watch} and {@link PipelineHandle.follow}. */
export interface WatchOptions {
  /** How often to ask the pipeline for its document; default 1000 ms. */
  intervalMs?: number;
  /** Ends the watch (without an error) when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link PipelineHandle.intervene}. */
export interface InterveneOptions {
  /** The workflow waiting for manual intervention (`payments`, `orders[eu]`). */
  workflow: string;
  /** The decision. */
  action: InterventionAction;
  /** The step it waits at; when given, the decision is refused if it waits at another one. */
  step?: string;
}

/** Options of {@link PipelineHandle.releaseBarrier} and {@link PipelineHandle.breakBarrier}. */
export interface BarrierCommandOptions {
  /** The stage the barrier belongs to. */
  stage: string;
  /** The barrier's identifier. */
  identifier: string;
  /** Why; recorded on the barrier as its `reason`. */
  reason?: string;
}

/**
 * Starts, lists and finds pipelines on a Temporal namespace.
 *
 * @example
 * ```ts
 * const client = await ConvoyClient.connect();
 * const pipeline = await client.start('release.yaml', { variables: { version: '2.8.0' } });
 * const result = await pipeline.result();
 * await client.close();
 * ```
 */
export class ConvoyClient {
  /** The Temporal client underneath, for anything Convoy does not wrap. */
  readonly temporal: Client;
  /** The task queue pipelines start on unless {@link StartPipelineOptions.taskQueue} says otherwise. */
  readonly taskQueue: string;
  private ownsConnection = false;

  /**
   * Wraps a Temporal client or connection of your own; {@link ConvoyClient.connect} makes one. A
   * client of your own must have `dataConverter: { payloadCodecs: payloadCodecsFromEnv() }`: a
   * large pipeline's plan and result travel compressed (and with `CONVOY_CODEC_KEY`, encrypted).
   */
  constructor(options: ConvoyClientOptions) {
    this.temporal =
      'client' in options
        ? options.client
        : new Client({
            connection: options.connection,
            namespace: options.namespace ?? resolveTemporalConnection().namespace,
            dataConverter: { payloadCodecs: payloadCodecsFromEnv() },
          });
    this.taskQueue = options.taskQueue ?? taskQueueFromEnv();
  }

  /**
   * Connects to Temporal the way the `convoy` command and the `temporal` CLI do: options first,
   * then the environment (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
   * `TEMPORAL_TLS_*`, `TEMPORAL_TASK_QUEUE`), then the profile, then the defaults.
   * @throws {@link TemporalConfigError} when the profile or a TLS file cannot be loaded.
   * @throws {@link TemporalUnreachableError} when Temporal cannot be reached (within 5 s).
   */
  static async connect(options: ConnectOptions = {}): Promise<ConvoyClient> {
    const connection = resolveTemporalConnection(options);
    const client = await connectClient(connection, options.env);
    const convoy = new ConvoyClient({
      client,
      taskQueue: options.taskQueue ?? taskQueueFromEnv(options.env),
    });
    convoy.ownsConnection = true;
    return convoy;
  }

  /** Closes the connection if {@link ConvoyClient.connect} opened it; a connection of yours stays open. */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.temporal.connection.close();
  }

  /** {@link validatePipeline}, for convenience: needs no connection. */
  validatePipeline(pipeline: PipelineSource, options?: ValidatePipelineOptions): PipelineValidationReport {
    return validatePipeline(pipeline, options);
  }

  /** {@link loadPipeline}, for convenience: needs no connection. */
  loadPipeline(pipeline: string | PipelineDefinition, options?: ValidatePipelineOptions): LoadedPipeline {
    return loadPipeline(pipeline, options);
  }

  /**
   * Validates and starts a pipeline: a YAML or JSON file, a definition object or a loaded
   * pipeline. Returns once Temporal has accepted it; nothing starts if it is invalid.
   * @throws {@link PipelineValidationError} listing every problem, before contacting Temporal.
   * @throws {@link PipelineAlreadyExistsError} when a pipeline with this ID is running, or has run
   * and `allowReuse` is not set.
   */
  async start(pipeline: PipelineSource, options: StartPipelineOptions = {}): Promise<PipelineHandle> {
    const { plan, warnings } = compileForStart(pipeline, options);
    await startPipeline(this.temporal, plan, options.taskQueue ?? this.taskQueue, options.allowReuse);
    return new PipelineHandle(this.temporal, plan.pipelineId, warnings);
  }

  /**
   * How many workers poll a task queue now (default the client's), as the server saw them within
   * the last 90 s. A pipeline on a task queue no worker polls waits until one does.
   */
  countWorkers(taskQueue: string = this.taskQueue): Promise<number> {
    return countPollingWorkers(this.temporal, taskQueue);
  }

  /**
   * A handle on the release train `train` at barrier `identifier` (issue 14): its status, and the
   * operator's release and break. Nothing is checked until it is used.
   */
  getTrain(train: string, identifier: string): TrainHandle {
    return new TrainHandle(this.temporal, train, identifier);
  }

  /** A handle on a pipeline started before (by anyone); nothing is checked until it is used. */
  getHandle(pipelineId: string): PipelineHandle {
    return new PipelineHandle(this.temporal, pipelineId);
  }

  /**
   * Lists pipelines from Temporal's visibility store, the most recent first. Visibility lags a
   * little: a pipeline started a moment ago may not be listed yet.
   */
  async list(options: ListPipelinesOptions = {}): Promise<PipelineSummary[]> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const clauses = [`WorkflowType = '${PIPELINE_WORKFLOW_TYPE}'`];
    if (options.status === 'running') clauses.push(`ExecutionStatus = 'Running'`);
    if (options.status === 'closed') clauses.push(`ExecutionStatus != 'Running'`);
    if (options.taskQueue !== undefined) clauses.push(`TaskQueue = ${queryString(options.taskQueue)}`);
    if (options.waitingAtBarrier !== undefined)
      clauses.push(`${waitingBarriersKey.name} = ${queryString(options.waitingAtBarrier)}`);
    const summaries: PipelineSummary[] = [];
    for await (const info of this.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      const memo = info.memo ?? {};
      const convoyStatus = info.typedSearchAttributes.get(statusKey);
      const waitingBarriers = info.typedSearchAttributes.get(waitingBarriersKey);
      summaries.push({
        pipelineId: info.workflowId,
        ...(typeof memo.convoyPipeline === 'string' && { name: memo.convoyPipeline }),
        ...(typeof memo.source === 'string' && { source: memo.source }),
        executionStatus: info.status.name,
        startedAt: info.startTime,
        ...(info.closeTime && { closedAt: info.closeTime }),
        taskQueue: info.taskQueue,
        ...(convoyStatus !== undefined && { convoyStatus }),
        ...(waitingBarriers !== undefined && { waitingBarriers }),
      });
      if (summaries.length >= limit) break;
    }
    return summaries;
  }
}

/** A string literal of Temporal's list filter; quotes would end it, so they are refused. */
function queryString(value: string): string {
  if (/['"\\]/.test(value))
    throw new RangeError(`cannot filter on ${JSON.stringify(value)}: it holds a quote`);
  return `'${value}'`;
}

/**
 * One pipeline: wait for its result, read or watch its state, and give it operator commands.
 * Get one from {@link ConvoyClient.start} or {@link ConvoyClient.getHandle}.
 */
export class PipelineHandle {
  /** @internal Use {@link ConvoyClient.start} or {@link ConvoyClient.getHandle}. */
  constructor(
    private readonly client: Client,
    /** The pipeline ID: the pipeline workflow's ID in Temporal. */
    readonly pipelineId: string,
    /** Warnings found when it was validated before starting (none for {@link ConvoyClient.getHandle}). */
    readonly warnings: readonly ValidationIssue[] = [],
  ) {}

  /**
   * Waits for the pipeline to end and returns its result document (SPEC section 5). A pipeline
   * that failed or was aborted still has a result: look at its `status`; so does one Temporal
   * terminated or timed out (`terminated`, `timed-out`), rebuilt from its history.
   * @throws {@link PipelineNotFoundError} when there is no such pipeline.
   * @throws {@link NotAPipelineError} when the ID is another workflow's (a pipeline's child).
   */
  result(): Promise<PipelineResult> {
    return waitForPipeline(this.client, this.pipelineId);
  }

  /**
   * The pipeline's document now (SPEC section 5), what `convoy status --json` prints: running
   * workflows' steps included. For a pipeline Temporal terminated or timed out, the document is
   * rebuilt from its history, with status `terminated` or `timed-out`.
   * @throws {@link PipelineNotFoundError} when there is no such pipeline.
   * @throws {@link NotAPipelineError} when the ID is another workflow's (a pipeline's child).
   */
  status(): Promise<PipelineResult> {
    return describePipeline(this.client, this.pipelineId);
  }

  /**
   * Follows the pipeline until it ends, yielding what changed: see {@link PipelineEvent}. The
   * first events tell what happened before the watch began; the last is the pipeline's final
   * `pipeline-status`. Breaking out of the loop, or aborting `signal`, stops the polling.
   * @throws {@link PipelineNotFoundError} when there is no such pipeline.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<PipelineEvent, void, undefined> {
    for await (const snapshot of this.follow(options)) yield* snapshot.events;
  }

  /**
   * Like {@link PipelineHandle.watch}, but yields every document read (one per `intervalMs`)
   * with the events since the one before, which may be none: for views that show time passing,
   * such as how long a barrier still waits. The last snapshot's document is no longer `running`.
   * @throws {@link PipelineNotFoundError} when there is no such pipeline.
   */
  async *follow(options: WatchOptions = {}): AsyncGenerator<PipelineSnapshot, void, undefined> {
    const intervalMs = options.intervalMs ?? 1000;
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
    const tracker = new PipelineChangeTracker();
    while (!options.signal?.aborted) {
      const document = await this.status();
      yield { document, events: tracker.update(document) };
      if (document.status !== 'running') return;
      try {
        await delay(intervalMs, undefined, { signal: options.signal });
      } catch {
        return; // aborted
      }
    }
  }

  /**
   * Gives a manual-intervention decision to a workflow waiting for one. The decision goes to that
   * workflow (`<pipeline ID>/<workflow>`), which owns the wait: once this returns, it acts on it.
   * @returns the workflow's confirmation, e.g. `payments: retry`.
   * @throws {@link OperatorCommandRejectedError} when the workflow does not wait for a decision
   *   (or no longer: its wait expired), waits at another step than `step`, already has one, or
   *   is not running.
   * @throws {@link PipelineNotFoundError} when no pipeline with this ID is running.
   */
  intervene(options: InterveneOptions): Promise<string> {
    return intervene(this.client, this.pipelineId, options.workflow, options.action, options.step);
  }

  /**
   * Forces a standing barrier open: waiting and later arrivals pass (status `forced`).
   * @returns the pipeline's confirmation.
   * @throws {@link OperatorCommandRejectedError} when there is no such barrier or it no longer stands.
   * @throws {@link PipelineNotFoundError} when no pipeline with this ID is running.
   */
  releaseBarrier(options: BarrierCommandOptions): Promise<string> {
    return overrideBarrier(
      this.client,
      this.pipelineId,
      'release',
      options.stage,
      options.identifier,
      options.reason,
    );
  }

  /**
   * Breaks a standing barrier: every participant's barrier step fails with `barrier-broken`.
   * @returns the pipeline's confirmation.
   * @throws {@link OperatorCommandRejectedError} when there is no such barrier or it no longer stands.
   * @throws {@link PipelineNotFoundError} when no pipeline with this ID is running.
   */
  breakBarrier(options: BarrierCommandOptions): Promise<string> {
    return overrideBarrier(
      this.client,
      this.pipelineId,
      'break',
      options.stage,
      options.identifier,
      options.reason,
    );
  }

  /**
   * Aborts the pipeline: standing barriers break with reason `pipeline aborted`, running
   * workflows end `aborted`. Returns once asked; {@link PipelineHandle.result} tells when it ended.
   * @throws {@link PipelineAlreadyEndedError} when the pipeline has already ended (nothing is done).
   * @throws {@link PipelineNotFoundError} when there is no pipeline with this ID.
   * @throws {@link NotAPipelineError} when the ID is another workflow's (a pipeline's child).
   */
  cancel(): Promise<void> {
    return cancelPipeline(this.client, this.pipelineId);
  }
}
