/**
 * Whether any worker polls a task queue, from the server's own record of its pollers: a pipeline
 * started where no Convoy worker listens waits, silently, until one does.
 */
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';

/** temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL */
const TASK_QUEUE_KIND_NORMAL = 1;
/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/**
 * The server remembers a poller for minutes after it was last seen, while a live worker polls
 * again at least once a minute (the long poll's timeout): a poller not seen for longer is gone.
 */
export const LIVE_POLLER_MS = 90_000;

/** How many workers polled the task queue's workflow tasks within the last {@link LIVE_POLLER_MS}. */
export async function countPollingWorkers(
  client: Client,
  taskQueue: string,
  nowMs = Date.now(),
): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (response.pollers ?? []).filter((poller) => {
    const seen = optionalTsToMs(poller.lastAccessTime);
    return seen === undefined || nowMs - seen <= LIVE_POLLER_MS;
  }).length;
}
