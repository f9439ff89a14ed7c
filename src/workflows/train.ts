/**
 * The release train workflow `convoyTrain` (issue 14): one run per crossing of (train,
 * identifier), started by the first pipeline to arrive (signal-with-start, from that pipeline's
 * `joinTrain` activity). Every decision is the pure {@link TrainRun}'s; this file feeds it
 * signals, the pipelines' confirmations (the `verifyTrainMember` activity), operator updates and
 * one durable timer, and signals each outcome to its pipeline.
 *
 * A run closes once the train is resolved and every outcome is delivered. An arrival that lands
 * while it closes is carried into the next run with continue-as-new (a workflow cannot complete
 * while signals it has not handled are waiting: the server refuses the completion and the SDK
 * runs the handler first, so the check below sees it).
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import {
  breakTrainUpdate,
  parsePayload,
  releaseTrainUpdate,
  trainCommandSchema,
  trainAbandonSchema,
  trainAbandonSignal,
  trainArrivalSchema,
  trainArriveSignal,
  trainOutcomeSignal,
  trainStatusQuery,
} from '../model/protocol';
import type { TrainStatus } from '../model/result';
import type { TrainActivities } from '../model/train/link';
import { TrainRun, type TrainDecision, type TrainMessage } from '../model/train/train-run';
import { logRefusal, onValidSignal } from './handlers';

const name = z.string().min(1).max(300);

/** Input of {@link convoyTrain}: the train, and the messages carried over from its previous run. */
export const trainInputSchema = z.object({
  train: name,
  identifier: name,
  expect: z.array(name).min(1).max(1000),
  carried: z
    .array(
      z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('arrive'), arrival: trainArrivalSchema }),
        z.object({ kind: z.literal('abandon'), notice: trainAbandonSchema }),
      ]),
    )
    .optional(),
});
export type TrainInput = z.infer<typeof trainInputSchema>;

const { verifyTrainMember } = proxyActivities<TrainActivities>({
  summary: 'ask the pipeline to confirm its token',
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});

export async function convoyTrain(rawInput: TrainInput): Promise<TrainStatus> {
  const input = trainInputSchema.parse(rawInput);
  const { workflowId, runId } = workflowInfo();
  const run = new TrainRun(input, Date.now(), { workflowId, runId });
  let pending = 0; // messages received and not yet applied, outcomes not yet delivered

  const act = (decision: TrainDecision): void => {
    if (decision.changed) setCurrentDetails(run.details());
    if (decision.rejected) log.info('train input ignored', { reason: decision.rejected });
    logRefusal(decision.refused);
    if (decision.outcomes.length === 0) return;
    const context = run.outcomeContext();
    for (const outcome of decision.outcomes) {
      pending += 1;
      getExternalWorkflowHandle(outcome.pipelineId)
        .signal(trainOutcomeSignal, {
          ...context,
          token: outcome.token,
          kind: outcome.kind,
          ...(outcome.errorType !== undefined && { errorType: outcome.errorType }),
          message: outcome.message,
        })
        .catch((error: unknown) =>
          log.warn('could not deliver a train outcome', {
            pipelineId: outcome.pipelineId,
            error: String(error),
          }),
        )
        .finally(() => (pending -= 1));
    }
  };

  // Messages are confirmed concurrently but applied in the order they came.
  let applied: Promise<void> = Promise.resolve();
  const receive = (message: TrainMessage): void => {
    if (run.takeIfLate(message)) return;
    pending += 1;
    const known = run.knownMembership(message);
    const claim = message.kind === 'arrive' ? message.arrival : message.notice;
    const confirmed =
      known !== undefined
        ? Promise.resolve(known)
        : verifyTrainMember({
            pipelineId: claim.pipelineId,
            train: input.train,
            identifier: input.identifier,
            token: claim.token,
          }).catch((error: unknown) => {
            log.warn('could not ask a pipeline to confirm its token', {
              pipelineId: claim.pipelineId,
              error: String(error),
            });
            return null;
          });
    applied = applied
      .then(async () => {
        const membership = await confirmed;
        if (!run.takeIfLate(message)) act(run.receive(message, membership, Date.now()));
      })
      .finally(() => (pending -= 1));
  };

  const refuseMalformed = (signal: string) => (payload: unknown, reason: string) =>
    run.refuseMalformed(signal, payload, reason).refused;
  onValidSignal(
    trainArriveSignal,
    trainArrivalSchema,
    (arrival) => receive({ kind: 'arrive', arrival }),
    refuseMalformed(trainArriveSignal.name),
  );
  onValidSignal(
    trainAbandonSignal,
    trainAbandonSchema,
    (notice) => receive({ kind: 'abandon', notice }),
    refuseMalformed(trainAbandonSignal.name),
  );
  /** An operator command must be well formed and find the train standing. */
  const validateCommand = (command: unknown): void => {
    const parsed = parsePayload(trainCommandSchema, command);
    if (!parsed.ok) throw new Error(`invalid train command: ${parsed.reason}`);
    run.validateCommand();
  };
  setHandler(
    releaseTrainUpdate,
    (command) => {
      act(run.release(command, Date.now()));
      return `train ${input.train} (barrier ${input.identifier}): forced`;
    },
    { validator: validateCommand },
  );
  setHandler(
    breakTrainUpdate,
    (command) => {
      act(run.breakTrain(command, Date.now()));
      return `train ${input.train} (barrier ${input.identifier}): broken`;
    },
    { validator: validateCommand },
  );
  setHandler(trainStatusQuery, () => run.status());

  setCurrentDetails(run.details());
  for (const message of input.carried ?? []) receive(message);

  // One durable timer, for the earliest deadline of a waiting pipeline.
  while (run.isStanding) {
    const armedFor = run.nextDeadline();
    if (armedFor === undefined) {
      await condition(() => !run.isStanding || run.nextDeadline() !== undefined);
      continue;
    }
    const interrupted = await condition(
      () => !run.isStanding || (run.nextDeadline() ?? Infinity) < armedFor,
      Math.max(1, armedFor - Date.now()),
      {
        summary: `train ${input.train} (barrier ${input.identifier}) deadline ${new Date(armedFor).toISOString()}`,
      },
    );
    if (!interrupted) act(run.expire(Date.now()));
  }

  // Resolved: deliver every outcome and answer what is still being confirmed, then close.
  await condition(() => pending === 0);
  const late = run.lateArrivals();
  const first = late[0];
  if (first !== undefined && first.kind === 'arrive') {
    await continueAsNew<typeof convoyTrain>({
      train: input.train,
      identifier: input.identifier,
      expect: first.arrival.expect,
      carried: late,
    });
  }
  return run.status();
}
