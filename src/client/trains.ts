/**
 * Release trains from the client's side (issue 14): a train's document, the operator's release
 * and break, and the live train state in a pipeline's document.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { breakTrainUpdate, releaseTrainUpdate, trainStatusQuery, trainWorkflowId } from '../model/protocol';
import { trainStatusSchema, type PipelineResult, type TrainStatus } from '../model/result';
import { OperatorCommandRejectedError, TrainNotFoundError } from './errors';

/**
 * One release train: the runs of (train, identifier) share the workflow ID
 * `convoy-train/<train>/<identifier>`; each run (one crossing) has its own Temporal run ID. The
 * handle always talks to the newest run. Get one from {@link ConvoyClient.getTrain}.
 */
export class TrainHandle {
  /** @internal Use `ConvoyClient.getTrain`. */
  constructor(
    private readonly client: Client,
    /** The train's name (`train.name` in the pipeline files). */
    readonly train: string,
    /** The barrier identifier the pipelines meet at. */
    readonly identifier: string,
  ) {}

  /** The train's Temporal workflow ID. */
  get workflowId(): string {
    return trainWorkflowId(this.train, this.identifier);
  }

  /**
   * The newest run's document: who has arrived, who is missing, its deadline while it stands,
   * how it resolved once it has.
   * @throws {@link TrainNotFoundError} when no pipeline ever arrived at this train.
   */
  async status(): Promise<TrainStatus> {
    const handle = this.client.workflow.getHandle(this.workflowId);
    try {
      const description = await handle.describe();
      const raw =
        description.status.name === 'COMPLETED'
          ? await handle.result()
          : await handle.query(trainStatusQuery);
      return trainStatusSchema.parse(raw);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw this.notFound('no pipeline has arrived at', error);
      throw error;
    }
  }

  /**
   * Forces the standing train open: every waiting pipeline's participants pass (status `forced`).
   * @returns the train's confirmation.
   * @throws {@link OperatorCommandRejectedError} when the train's run no longer stands.
   * @throws {@link TrainNotFoundError} when no run of the train is open.
   */
  release(reason?: string): Promise<string> {
    return this.command('release-train', reason);
  }

  /**
   * Breaks the standing train: every waiting pipeline's participants fail with `barrier-broken`.
   * @returns the train's confirmation.
   * @throws {@link OperatorCommandRejectedError} when the train's run no longer stands.
   * @throws {@link TrainNotFoundError} when no run of the train is open.
   */
  break(reason?: string): Promise<string> {
    return this.command('break-train', reason);
  }

  private async command(command: 'release-train' | 'break-train', reason?: string): Promise<string> {
    const update = command === 'release-train' ? releaseTrainUpdate : breakTrainUpdate;
    try {
      return await this.client.workflow
        .getHandle(this.workflowId)
        .executeUpdate(update, { args: [reason === undefined ? {} : { reason }] });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw this.notFound('no open run of', error);
      if (error instanceof WorkflowUpdateFailedError) {
        throw new OperatorCommandRejectedError(
          error.cause?.message ?? error.message,
          this.workflowId,
          command,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  private notFound(what: string, cause: unknown): TrainNotFoundError {
    return new TrainNotFoundError(
      `${what} train ${this.train} (barrier ${this.identifier})`,
      this.train,
      this.identifier,
      { cause },
    );
  }
}

/**
 * Fills in, for each standing train barrier of a running pipeline's document, the train's live
 * arrivals, missing pipelines and deadline, from the train's open run (the pipeline itself
 * hears from the train only when it resolves).
 */
export async function fillInTrains(client: Client, doc: PipelineResult): Promise<void> {
  await Promise.all(
    doc.barriers.map(async (barrier) => {
      const train = barrier.train;
      if (train === undefined || train.status !== 'standing') return;
      try {
        const live = trainStatusSchema.parse(
          await client.workflow.getHandle(train.workflowId).query(trainStatusQuery),
        );
        if (live.status !== 'standing') return;
        train.arrivals = live.arrivals;
        train.missing = live.missing;
        train.runId = live.runId;
        if (live.deadline !== undefined) train.deadline = live.deadline;
      } catch {
        // No open run yet (nobody arrived), or it just closed: the pipeline's word stands.
      }
    }),
  );
}
