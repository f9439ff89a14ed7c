/**
 * The release-train activities (issue 14), run by the worker with its Temporal client: the
 * pipeline's arrival at a train (signal-with-start: workflow code can signal a workflow but not
 * start one that may not exist yet), and the train's question to a pipeline (a query: a
 * workflow cannot query another one).
 */
import { Context } from '@temporalio/activity';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import {
  TRAIN_WORKFLOW_TYPE,
  trainArriveSignal,
  trainMembershipQuery,
  type TrainMembership,
  type TrainMembershipRequest,
} from '../model/protocol';
import type { TrainActivities, TrainJoin } from '../model/train/link';

/** Starts the train's run if none is open, and signals the pipeline's arrival to it. */
export async function joinTrain(join: TrainJoin): Promise<void> {
  const { client, info } = Context.current();
  await client.workflow.signalWithStart(TRAIN_WORKFLOW_TYPE, {
    workflowId: join.workflowId,
    // The train runs where the pipeline that started it runs.
    taskQueue: info.taskQueue,
    args: [{ train: join.train, identifier: join.identifier, expect: [...join.expect] }],
    signal: trainArriveSignal,
    signalArgs: [join.arrival],
    staticSummary: `Convoy release train ${join.train} · barrier ${join.identifier}`,
    staticDetails: `expects ${join.expect.join(', ')}`,
  });
}

/** The pipeline's own answer: its name and expect when the token is its own; null otherwise or when it is gone. */
export async function verifyTrainMember(
  request: { pipelineId: string } & TrainMembershipRequest,
): Promise<TrainMembership | null> {
  const { client } = Context.current();
  const { pipelineId, ...question } = request;
  try {
    return await client.workflow.getHandle(pipelineId).query(trainMembershipQuery, question);
  } catch (error) {
    // No such workflow, or one that is no pipeline: nobody confirms the token.
    if (error instanceof WorkflowNotFoundError || error instanceof QueryNotRegisteredError) return null;
    throw error;
  }
}

/** The train activities, as the worker registers them. */
export const trainActivities: TrainActivities = { joinTrain, verifyTrainMember };
