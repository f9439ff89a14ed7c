/**
 * Signal handlers that accept only a well-formed payload: a malformed one is refused before any
 * workflow state is touched. Both workflows register their signals through this, and log refused
 * messages through {@link logRefusal}: once per claimed sender, however many arrive.
 */
import { log, setHandler, type SignalDefinition } from '@temporalio/workflow';
import type { z } from 'zod';
import type { Refusal } from '../model/message-checks';
import { parsePayload } from '../model/protocol';

/**
 * Registers `handle` for `signal`, called only with payloads that `schema` accepts; any other
 * payload goes to `refuseMalformed` (which counts it) instead.
 */
export function onValidSignal<T>(
  signal: SignalDefinition<[T]>,
  schema: z.ZodType<T>,
  handle: (payload: T) => void,
  refuseMalformed: (payload: unknown, reason: string) => Refusal | undefined,
): void {
  setHandler(signal, (payload: unknown) => {
    const parsed = parsePayload(schema, payload);
    if (!parsed.ok) {
      logRefusal(refuseMalformed(payload, parsed.reason));
      return;
    }
    handle(parsed.value);
  });
}

/** Logs a refused message if it is the first from its sender; the rest are only counted. */
export function logRefusal(refusal: Refusal | undefined): void {
  if (!refusal?.log) return;
  log.warn(
    `refused a ${refusal.message} signal from ${JSON.stringify(refusal.sender)}: ${refusal.reason}` +
      ' (further refused messages from this sender are counted in the status document, not logged)',
    { sender: refusal.sender, reason: refusal.reason },
  );
}
