/**
 * Building the failures the activities throw, so every executor fails the same way:
 * a non-retryable `ApplicationFailure` whose `type` is a step error type and whose
 * `details[0]` carries the step's output so far.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ActivityErrorTypes } from '../model/step-activities';

/**
 * A `step-failed` failure. Non-retryable because Convoy's failure strategies decide about
 * retries; a Temporal retry would run the step again behind their back.
 */
export function stepFailed<D extends object>(message: string, details: D): ApplicationFailure {
  return ApplicationFailure.create({
    type: ActivityErrorTypes.stepFailed,
    message,
    nonRetryable: true,
    details: [details],
  });
}

/** A `step-timeout` failure: the step's own `timeoutMs` elapsed. Non-retryable, as above. */
export function stepTimedOut<D extends object>(message: string, details: D): ApplicationFailure {
  return ApplicationFailure.create({
    type: ActivityErrorTypes.stepTimeout,
    message,
    nonRetryable: true,
    details: [details],
  });
}

/**
 * Validates an activity's input. Input crosses a process boundary (workflow → server → worker),
 * so a caller built against another version of the contract is caught here with a readable
 * message instead of failing somewhere inside `spawn` or `fetch`. Invalid input is reported as
 * `step-failed`: it is the step that cannot run, and failure strategies handle it like any other
 * step failure.
 */
export function parseActivityInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  activityName: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
  throw stepFailed(`invalid ${activityName} input: ${problems}`, {});
}

/**
 * The error to throw once a cancelled activity has cleaned up. Temporal aborts the signal with a
 * `CancelledFailure`; rethrowing it is what makes the worker report "cancelled" rather than
 * "failed".
 */
export function cancellationError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('CANCELLED');
}

/**
 * Describes a thrown value for an error message, following its `cause` chain: `fetch` throws a
 * bare "fetch failed" whose cause says what actually happened ("connect ECONNREFUSED ...").
 * Duck-typed rather than `instanceof Error`, because errors from another realm (Node internals
 * seen from a test sandbox) fail `instanceof`.
 */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('message' in error)) return String(error);
  const { message, cause, code, errors } = error as {
    message: unknown;
    cause?: unknown;
    code?: unknown;
    errors?: unknown;
  };
  let text = String(message);
  // Node's happy-eyeballs connect throws an AggregateError with an empty message.
  if (text === '' && Array.isArray(errors)) text = errors.map(describeError).join('; ');
  if (text === '' && typeof code === 'string') text = code;
  if (cause !== undefined) text += `: ${describeError(cause)}`;
  return text;
}

/** Keeps the end of a text for an error message; the full tail stays in the failure details. */
export function lastChars(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}
