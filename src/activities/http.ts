/**
 * The `http` step executor: one HTTP request with Node's global `fetch`, succeeding when the
 * response status is one of the step's `expectStatus`.
 *
 * One AbortController covers the whole exchange, headers and body, and is aborted by the first of
 * the activity's cancellation and the step's own `timeoutMs`; which one fired decides whether the
 * call rethrows the cancellation or fails with `step-timeout`.
 */
import { Context } from '@temporalio/activity';
import {
  ACTIVITY_DEFAULTS,
  httpActivityInputSchema,
  type ActivityTuning,
  type HttpActivityInput,
  type HttpActivityResult,
  type HttpFailureDetails,
} from '../model/step-activities';
import { cancellationError, describeError, parseActivityInput, stepFailed, stepTimedOut } from './errors';
import { startHeartbeats } from './heartbeat';
import type { z } from 'zod';
import { substituteSecrets } from '../model/secrets';
import { MaskedTail } from './secret-mask';
import { type ResolvedSecrets, withStepSecrets } from './secrets';

/** How much of the body an unexpected-status message quotes; the tail is in the details. */
const MESSAGE_BODY_CHARS = 300;

/** Why the request was aborted, when it was. */
type AbortCause = 'cancellation' | 'timeout';

/** The signature of the http step activity. */
export type RunHttp = (input: HttpActivityInput) => Promise<HttpActivityResult>;

/**
 * Builds the http step activity. Production uses the defaults; tests pass shorter intervals.
 *
 * Redirects are not followed: the step checks the status the server actually sent, so a
 * `301` is visible (and can be expected) instead of being silently replaced by its target's.
 *
 * @param tuning overrides of {@link ACTIVITY_DEFAULTS} (heartbeat interval, body tail size)
 */
export function createHttpActivity(tuning: Partial<ActivityTuning> = {}): RunHttp {
  const { heartbeatIntervalMs, tailBytes } = { ...ACTIVITY_DEFAULTS, ...tuning };

  return async function runHttp(rawInput: HttpActivityInput): Promise<HttpActivityResult> {
    const input = parseActivityInput(httpActivityInputSchema, rawInput, 'runHttp');
    const { cancellationSignal } = Context.current();
    if (cancellationSignal.aborted) throw cancellationError(cancellationSignal);

    const stepLabel = `http step "${input.stepName}" of workflow "${input.workflowName}"`;
    return withStepSecrets(input.secrets, stepLabel, {}, (secrets) => run(input, stepLabel, secrets));
  };

  async function run(
    input: HttpInput,
    stepLabel: string,
    secrets: ResolvedSecrets,
  ): Promise<HttpActivityResult> {
    const { cancellationSignal } = Context.current();
    // Messages name the URL as the plan has it: with its secrets' references, not their values.
    const request = `${input.method} ${input.url}`;
    const exchange = withSecretsInPlace(input, secrets.values, stepLabel);
    const body = new MaskedTail(tailBytes, secrets.mask);
    let httpStatus: number | undefined;
    let location: string | null = null;

    const controller = new AbortController();
    let abortCause: AbortCause | undefined;
    const abort = (cause: AbortCause): void => {
      if (abortCause !== undefined) return;
      abortCause = cause;
      controller.abort();
    };
    const onCancel = (): void => abort('cancellation');
    cancellationSignal.addEventListener('abort', onCancel, { once: true });
    const timer =
      input.timeoutMs !== undefined ? setTimeout(() => abort('timeout'), input.timeoutMs) : undefined;
    const startedAt = Date.now();
    const stopHeartbeats = startHeartbeats(heartbeatIntervalMs, () => ({
      elapsedMs: Date.now() - startedAt,
      httpStatus,
      bodyBytes: body.totalBytes,
    }));

    try {
      const response = await fetch(exchange.url, {
        method: input.method,
        headers: exchange.headers,
        body: exchange.body,
        redirect: 'manual',
        signal: controller.signal,
      });
      httpStatus = response.status;
      location = response.headers.get('location');
      await readBody(response, body);
    } catch (error) {
      const details: HttpFailureDetails =
        httpStatus !== undefined ? { httpStatus, bodyTail: body.toString() } : {};
      if (abortCause === 'cancellation') throw cancellationError(cancellationSignal);
      if (abortCause === 'timeout') {
        const during = httpStatus !== undefined ? ` while reading the body of a ${httpStatus} response` : '';
        throw stepTimedOut(
          `${stepLabel}: ${request} timed out after ${input.timeoutMs} ms${during}`,
          details,
        );
      }
      throw stepFailed(`${stepLabel}: ${request} failed: ${describeError(error)}`, details);
    } finally {
      clearTimeout(timer);
      cancellationSignal.removeEventListener('abort', onCancel);
      stopHeartbeats();
    }

    const bodyTail = body.toString();
    if (!input.expectStatus.includes(httpStatus)) {
      const details: HttpFailureDetails = { httpStatus, bodyTail };
      const redirect = location !== null ? ` (Location: ${location})` : '';
      const excerpt = bodyTail.replace(/\s+/g, ' ').trim().slice(0, MESSAGE_BODY_CHARS);
      throw stepFailed(
        `${stepLabel}: ${request} returned HTTP ${httpStatus}${redirect}, expected ${input.expectStatus.join(' or ')}` +
          (excerpt !== '' ? `; body: ${excerpt}` : ''),
        details,
      );
    }
    return { httpStatus, bodyTail };
  }
}

/** The step's input, validated. */
type HttpInput = z.output<typeof httpActivityInputSchema>;

/**
 * The URL, headers and body with the step's secrets in place. A value that makes the URL invalid
 * or would break a header line fails the step, naming the field and not the value.
 */
function withSecretsInPlace(
  input: HttpInput,
  secrets: ReadonlyMap<string, string>,
  stepLabel: string,
): { url: string; headers: Record<string, string>; body?: string } {
  const url = substituteSecrets(input.url, secrets);
  // Without secrets, fetch's own message says what is wrong with the URL.
  if (url !== input.url && !URL.canParse(url)) {
    throw stepFailed(`${stepLabel}: the url ${input.url} is not a valid URL with its secrets in place`, {});
  }
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(input.headers)) {
    const value = substituteSecrets(template, secrets);
    if (/[\r\n\0]/.test(value)) {
      throw stepFailed(
        `${stepLabel}: header ${name} (${template}) would hold a line break with its secrets in place`,
        {},
      );
    }
    headers[name] = value;
  }
  return {
    url,
    headers,
    ...(input.body === undefined ? {} : { body: substituteSecrets(input.body, secrets) }),
  };
}

/** The http step activity with production settings. */
export const runHttp: RunHttp = createHttpActivity();

/** Streams the body into the tail buffer, so a huge response never sits in memory whole. */
async function readBody(response: Response, into: MaskedTail): Promise<void> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    into.push(value);
  }
}
